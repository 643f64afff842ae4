"""The PDF reader on small PDFs that the tests make (tests/pdf_papers.py), and on bad PDFs."""
import re
from pathlib import Path

import pytest
import spacy

import pdf_papers
from spacy_scicls.cli.inputs import RecordError, detect_input_format, expand_inputs, iter_file
from spacy_scicls.readers import ReaderError, detect_format, read_paper
from spacy_scicls.readers._build import Paper
from spacy_scicls.readers.pdf import Limits, PdfError, read_pdf
from spacy_scicls.readers.pdf.layout import join_lines
from spacy_scicls.readers.pdf.headings import numbering_depth


@pytest.fixture(scope="module")
def nlp():
    return spacy.blank("en")


@pytest.fixture(scope="module")
def papers(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pdf")
    return {
        "one": pdf_papers.write_paper(folder / "one.pdf", columns=1, numbered=True),
        "two": pdf_papers.write_paper(folder / "two.pdf", columns=2, numbered=False),
        "numbered lines": pdf_papers.write_paper(folder / "lines.pdf", columns=2, numbered=True, line_numbers=True),
    }


@pytest.mark.parametrize("kind,headings", [
    ("one", ["1 Introduction", "2 Methods", "3 Results", "4 Discussion"]),
    ("two", ["Introduction", "Methods", "Results", "Discussion"]),
    ("numbered lines", ["1 Introduction", "2 Methods", "3 Results", "4 Discussion"]),
])
def test_sections_title_abstract_in_reading_order(papers, nlp, kind, headings):
    doc = read_paper(papers[kind], nlp)
    meta = doc._.scicls_meta
    assert meta["format"] == "pdf" and meta["pages"] >= 2
    assert meta["title"] == pdf_papers.TITLE
    assert meta["abstract"] == pdf_papers.ABSTRACT
    spans = list(doc.spans["sections"])
    assert [s._.heading for s in spans] == ["Abstract"] + headings
    for span, (_, text) in zip(spans[1:], pdf_papers.SECTIONS):
        # offsets into the doc's text: the span starts at its heading line
        assert doc.text[span.start_char:].startswith(span._.heading + "\n")
        body = span.text[len(span._.heading):]
        # read column by column and page by page: a section holds its own sentences and no other's
        sentences = {s.strip() for s in re.split(r"(?<=\.)\s+", body.replace("hyphenated ", "")) if s.strip()}
        assert sentences == {text.split(". ")[0] + "."}, sentences


@pytest.mark.parametrize("style,columns,numbered", [
    ("small_caps", 2, True),  # IEEE: "II. METHODS" in faked small capitals, centred
    ("centred", 1, False),
    ("italic", 1, False),
    ("run_in", 1, False),  # "Methods. We measured ..." in bold at the start of the paragraph
    ("run_in", 2, True),
])
def test_heading_styles_come_out_as_sections(nlp, tmp_path, style, columns, numbered):
    path = pdf_papers.write_paper(tmp_path / f"{style}.pdf", columns=columns, numbered=numbered, headings=style)
    doc = read_paper(path, nlp)
    spans = list(doc.spans["sections"])
    expected = [pdf_papers.printed_heading(n, h, style, numbered) for n, (h, _) in enumerate(pdf_papers.SECTIONS, 1)]
    assert [s._.heading for s in spans] == ["Abstract"] + expected
    for span, (_, text) in zip(spans[1:], pdf_papers.SECTIONS):
        assert doc.text[span.start_char:].startswith(span._.heading + "\n")
        body = span.text[len(span._.heading):]
        # a run-in heading's paragraph keeps all of its words, and no heading is left in it
        sentences = {s.strip() for s in re.split(r"(?<=\.)\s+", body.replace("hyphenated ", "")) if s.strip()}
        assert sentences == {text.split(". ")[0] + "."}, sentences


def test_a_bold_lead_in_that_is_a_label_stays_in_its_paragraph(nlp):
    """A bold start of a line ending in a colon ("Question: ...") is a label, not a run-in heading;
    nor is a bold start that does not read as a heading."""
    from spacy_scicls.readers.pdf.extract import Line
    from spacy_scicls.readers.pdf.headings import run_in_split
    from spacy_scicls.readers.pdf.layout import Block

    def block(text, lead):
        line = Line(text=text, page=1, x0=50, x1=500, top=100, bottom=110, size=10, bold=0.1, italic=0.0,
                    small_caps=False, font="Helvetica", page_width=595, page_height=842, lead=lead, lead_face="bold")
        return Block([line])

    assert run_in_split(block("Question: What is the name of the piece?", "Question:"), False, False) is None
    assert run_in_split(block("Methods. we measured", "Methods."), False, False) is None  # goes on in lower case
    head, paragraph = run_in_split(block("Participants. We recruited twelve.", "Participants."), False, False)
    assert head.text == "Participants" and paragraph.text == "We recruited twelve."
    assert run_in_split(block("Participants. We recruited twelve.", "Participants."), True, False) is None  # bold body


@pytest.mark.parametrize("authors", [["Mira K. Dale 1"], ["Tomas K. Varga 1, 2"], ["Mira K. Dale 1", "Oskar P. Lind 2"]])
def test_bold_author_lines_with_affiliation_numbers_are_not_headings(nlp, tmp_path, authors):
    """Made-up names in a heading's bold type, as some journals print their authors (the line cues
    alone took each of these for a heading)."""
    path = pdf_papers.write_paper(tmp_path / "authors.pdf", author_lines=authors)
    doc = read_paper(path, nlp)
    assert [s._.heading for s in doc.spans["sections"]] == [
        "Abstract", "1 Introduction", "2 Methods", "3 Results", "4 Discussion"]


@pytest.mark.parametrize("kind", ["one", "two", "numbered lines"])
def test_running_headers_page_numbers_captions_hyphens(papers, nlp, kind):
    doc = read_paper(papers[kind], nlp)
    meta = doc._.scicls_meta
    assert pdf_papers.HEADER not in doc.text
    assert not re.search(r"^\s*\d+\s*$", doc.text, re.M)  # no page number left on a line of its own
    for span in doc.spans["sections"]:  # nor a line number anywhere (the papers' paragraphs have no digit)
        assert not re.search(r"\d", span.text[len(span._.heading):]), span.text[:200]
    assert meta["running_lines_removed"] >= meta["pages"] * 2
    assert "hyphenated" in doc.text and "hyphen-" not in doc.text
    assert "Figure 1" not in doc.text
    assert meta["captions"] == [{"page": meta["captions"][0]["page"], "text": pdf_papers.CAPTION}]
    assert any("Ada Tester" in part for part in meta["front_matter"])
    assert "Ada Tester" not in doc.text


def test_format_found_by_content_when_the_name_lies(papers, nlp, tmp_path):
    data = papers["one"].read_bytes()
    assert detect_format("paper.txt", data[:64]) == "pdf"
    assert detect_format("paper.pdf", b"") == "pdf"
    misnamed = tmp_path / "paper.txt"
    misnamed.write_bytes(data)
    assert read_paper(misnamed, nlp)._.scicls_meta["title"] == pdf_papers.TITLE
    assert read_paper(data, nlp)._.scicls_meta["format"] == "pdf"
    # the command line: folders pick up .pdf files, and the content beats the name
    (tmp_path / "notes.md").write_text("# Notes\n\ntext\n", encoding="utf8")
    (tmp_path / "copy.pdf").write_bytes(data)
    files, skipped = expand_inputs([str(tmp_path)])
    assert [p.name for p in files] == ["copy.pdf", "notes.md", "paper.txt"] and not skipped
    assert detect_input_format(misnamed) == "pdf"
    assert detect_input_format(tmp_path / "copy.pdf") == "pdf"
    (record,) = list(iter_file(tmp_path / "copy.pdf", "copy.pdf"))
    doc = record.load(nlp)
    assert [s._.heading for s in doc.spans["sections"]][1] == "1 Introduction"


def test_a_pdf_name_on_something_else_is_an_error_record(tmp_path, nlp):
    fake = tmp_path / "fake.pdf"
    fake.write_bytes(b"just text\n")
    with pytest.raises(RecordError, match="not a PDF"):
        detect_input_format(fake)
    (record,) = list(iter_file(fake, "fake.pdf"))
    with pytest.raises(RecordError, match="not a PDF"):
        record.load(nlp)
    with pytest.raises(ReaderError, match=r"fake\.pdf: not a PDF"):
        read_paper(fake, nlp)


def _bad_pdfs(folder: Path, good: bytes) -> dict:
    return {
        "encrypted.pdf": (pdf_papers.write_encrypted(folder / "encrypted.pdf").read_bytes(), "encrypted PDF"),
        "truncated.pdf": (good[: len(good) // 2], "corrupt or truncated PDF"),
        "garbage.pdf": (b"%PDF-1.4\n" + bytes(range(256)) * 20, "corrupt or truncated PDF"),
        "scanned.pdf": (pdf_papers.write_scanned(folder / "scanned.pdf").read_bytes(), "no text layer: run OCR first"),
        "thousands.pdf": (pdf_papers.write_blank_pages(folder / "thousands.pdf", 1500).read_bytes(),
                          "has 1,500 pages, more than the limit of 1,000"),
    }


def test_bad_pdfs_get_an_error_naming_the_file_and_the_problem(papers, nlp, tmp_path):
    for name, (data, problem) in _bad_pdfs(tmp_path, papers["one"].read_bytes()).items():
        with pytest.raises(ReaderError) as err:
            read_paper(data, nlp, format="pdf", name=name)
        assert str(err.value).startswith(f"{name}: ") and problem in str(err.value), str(err.value)
        # and through the command line's records: an error record, not a crash
        path = tmp_path / name
        path.write_bytes(data)
        (record,) = list(iter_file(path, name))
        with pytest.raises(RecordError, match=re.escape(problem)):
            record.load(nlp)


def test_decompression_bomb_is_refused_before_it_is_inflated():
    bomb = pdf_papers.raw_pdf(pdf_papers.bomb_stream(48 * 2**20))
    assert len(bomb) < 100_000
    with pytest.raises(PdfError, match="decompression bomb"):
        read_pdf(bomb, Paper(format="pdf"), Limits(max_stream_bytes=16 * 2**20))
    # the same stream under the limit is read (a page of spaces: no text layer)
    with pytest.raises(PdfError, match="no text layer"):
        read_pdf(pdf_papers.raw_pdf(pdf_papers.bomb_stream(2**20)), Paper(format="pdf"), Limits())


def test_bounds_on_pages_characters_and_time(papers):
    data = papers["one"].read_bytes()
    with pytest.raises(PdfError, match="more than the limit of 1"):
        read_pdf(data, Paper(format="pdf"), Limits(max_pages=1))
    with pytest.raises(PdfError, match="more than 500 characters"):
        read_pdf(data, Paper(format="pdf"), Limits(max_chars=500))
    with pytest.raises(PdfError, match="more than the limit of 100"):
        read_pdf(data, Paper(format="pdf"), Limits(max_page_chars=100))
    with pytest.raises(PdfError, match="time budget"):
        read_pdf(data, Paper(format="pdf"), Limits(time_budget=0.0))


def test_a_hand_written_pdf_with_one_line(nlp):
    data = pdf_papers.raw_pdf(pdf_papers.text_stream([(72, 700, "A paper of one sentence only.")]), compressed=False)
    doc = read_paper(data, nlp, format="pdf")
    assert doc.text == "A paper of one sentence only."
    assert doc._.scicls_meta["title"] is None


def test_join_lines_and_numbering():
    assert join_lines(["a word hyphen\u00ad", "ated here"]) == "a word hyphenated here"
    assert join_lines(["the state-of-the-", "art method"]) == "the state-of-theart method"
    vocabulary = {"state-of-the-art": 2}
    assert join_lines(["the state-of-the-", "art method"], vocabulary) == "the state-of-the-art method"
    assert join_lines(["ends a sentence -", "Then"]) == "ends a sentence - Then"
    assert [numbering_depth(t) for t in ("2 Methods", "2.1 Data", "IV. RESULTS", "B. Data", "Methods")] == [1, 2, 1, 2, 0]


def test_the_example_pdf_is_what_its_script_writes(nlp, tmp_path):
    import runpy

    from conftest import REPO

    script = runpy.run_path(str(REPO / "examples" / "make_example_pdf.py"))
    fresh = script["write"](REPO / "examples" / "papers" / "span_language_models.md", tmp_path / "fresh.pdf")
    shipped = read_paper(REPO / "examples" / "papers" / "span_language_models.pdf", nlp)
    assert read_paper(fresh, nlp).text == shipped.text
    assert [s._.heading for s in shipped.spans["sections"]] == [
        "Abstract", "1 Introduction", "2 Related Work", "3 Our Approach", "4 Experiments"]


def test_damaged_copies_of_a_good_pdf_read_or_give_a_reader_error(papers, nlp):
    import random

    good = papers["two"].read_bytes()
    rng = random.Random(18)
    for i in range(25):
        data = bytearray(good)
        start = rng.randrange(len(data))
        for k in range(start, min(len(data), start + rng.randint(1, 400))):
            data[k] = rng.randrange(256)
        try:
            doc = read_paper(bytes(data), nlp, format="pdf", name=f"damaged-{i}.pdf")
        except ReaderError as err:
            assert str(err).startswith(f"damaged-{i}.pdf: ")
        else:
            assert doc._.scicls_meta["format"] == "pdf"


def _line(text, x0, x1, top, size=10.0, **faces):
    from spacy_scicls.readers.pdf.extract import Line

    return Line(text=text, page=0, x0=x0, x1=x1, top=top, bottom=top + size, size=size, bold=faces.get("bold", 0.0),
                italic=0.0, small_caps=False, font="Times", page_width=595, page_height=842)


def test_two_columns_under_a_band_across_the_page_and_not_a_table_under_a_paragraph():
    """A first page's title and abstract across both columns do not hide its gutter; a one-column
    page with a table of two narrow columns under its text has none."""
    from spacy_scicls.readers.pdf.layout import page_gutter

    words = "the soil held its water for weeks after rain"
    band = [_line(words * 5, 50, 545, 100 + 12 * i) for i in range(8)]
    columns = [_line(words * 2, 50, 290, 220 + 12 * i) for i in range(25)] + \
              [_line(words * 2, 305, 545, 220 + 12 * i) for i in range(25)]
    gutter = page_gutter(band + columns)
    assert gutter is not None and 290 <= gutter <= 305
    text = [_line(words * 5, 50, 545, 100 + 12 * i) for i in range(30)]
    table = [_line("Site number one", 50, 130, 480 + 12 * i) for i in range(12)] + \
            [_line("Twelve weeks long", 350, 440, 480 + 12 * i) for i in range(12)]
    assert page_gutter(text + table) is None


def test_faked_small_capitals_take_their_capitals_size():
    from spacy_scicls.readers.pdf.extract import _faked_small_caps

    def chars(text, big=10.0, small=8.0):
        return [(ch, 0, 0, 0, 0, big if i == 0 or not ch.isalpha() or text[i - 1] == " " else small)
                for i, ch in enumerate(text) if ch.isalpha()]

    assert _faked_small_caps(chars("INTRODUCTION AND AIMS")) == 10.0
    assert _faked_small_caps(chars("Introduction")) == 0.0  # lower-case letters: not capitals
    assert _faked_small_caps(chars("INTRODUCTION", small=10.0)) == 0.0  # one size: capitals
    assert _faked_small_caps(chars("INTRODUCTION", small=5.0)) == 0.0  # far smaller: another thing
