"""One printed paper rendered as plain text many ways (spacy_scicls.corpora.renderings)."""
import dataclasses
import re

import numpy
import pytest

from spacy_scicls.corpora.pdf_layout import Block, lay_out, lay_out_blocks
from spacy_scicls.corpora.plain_text import tei_blocks, tei_plain_text
from spacy_scicls.corpora.printed import PrintedBlock, flatten
from spacy_scicls.corpora.renderings import RENDERINGS, Rendering, draw_rendering, join_lines, render
from spacy_scicls.readers.text_columns import read_columns
from spacy_scicls.segmentation.lines import line_number_prefixes


def _paragraph(*lines):
    return PrintedBlock("paragraph", tuple(lines))


#: A short paper as a PDF prints it, written for these tests.
PAPER = [
    PrintedBlock("heading", ("1 Introduction",)),
    _paragraph("Soil moisture controls how much of the rain that falls on a field runs off",
               "and how much of it is stored for the crops of the following season. We",
               "measured it at forty sites over three years with two kinds of probe."),
    _paragraph("Earlier surveys covered single farms; ours covers a whole catchment, which lets",
               "us compare fields that share the same weather but not the same soil."),
    PrintedBlock("heading", ("2 Materials and methods",)),
    PrintedBlock("heading", ("2.1 Study sites and the instruments installed",)),
    _paragraph("The forty sites lie between two rivers on loam and on sandy soil. Each site",
               "had a capacitance probe at three depths and a rain gauge read every hour by",
               "a logger that sent its data once a day over the mobile network."),
    PrintedBlock("caption", ("Figure 1. The catchment and the forty sites, coloured by the soil type of",
                             "each field.")),
    PrintedBlock("table", ("Depth", "Loam", "Sand", "10 cm", "0.31", "0.18")),
    PrintedBlock("heading", ("3 RESULTS",)),
    _paragraph("Loam held water for about twice as long as sand after each storm, and the",
               "difference grew with depth: at the deepest probe the loam fields were still",
               "wet a week after the rain, while the sandy fields had dried within three",
               "days. The pattern held in each of the three years."),
    PrintedBlock("heading", ("Discussion",)),
    _paragraph("A field's soil says more about its water than the weather does, at the scale",
               "of a catchment; irrigation could be planned field by field from a soil map",
               "and a few probes rather than from the rain gauges alone."),
    PrintedBlock("heading", ("Acknowledgements",)),
    _paragraph("We thank the farmers who let us put probes in their fields."),
]
HEADINGS = ["1 Introduction", "2 Materials and methods", "2.1 Study sites and the instruments installed", "3 RESULTS",
            "Discussion", "Acknowledgements"]
WORDS = " ".join(join_lines(b.lines) for b in PAPER).split()


@pytest.mark.parametrize("name", list(RENDERINGS))
@pytest.mark.parametrize("seed", range(3))
def test_gold_lines_are_the_headings_in_every_rendering(name, seed):
    rendering = RENDERINGS[name]
    lines, gold = render(PAPER, rendering, seed)
    prefixes = line_number_prefixes(lines)
    assert any(prefixes) == rendering.line_numbers
    if rendering.side_by_side:
        # A line of a side-by-side page holds a heading in either column (see the next test).
        assert all(any(word in lines[i].split() for h in HEADINGS for word in h.split()) for i in gold)
        assert len(gold) >= len(HEADINGS)
    else:
        found = join_lines([lines[i][prefixes[i]:] for i in sorted(gold)])
        assert found == " ".join(HEADINGS)
    # No empty line is a heading line, and the lines are the same for the same seed.
    assert all(lines[i].strip() for i in gold)
    assert render(PAPER, rendering, seed) == (lines, gold)


def test_empty_lines_between_blocks_or_none():
    blank, _ = render(PAPER, RENDERINGS["pdf_lines_blank"])
    none, _ = render(PAPER, RENDERINGS["pdf_lines"])
    assert "" not in none and none == flatten(PAPER)[0]
    assert blank.count("") == len(PAPER) - 1
    assert [line for line in blank if line] == none
    some, _ = render(PAPER, Rendering(blank_lines=0.5), seed=3)
    assert 0 < some.count("") < len(PAPER) - 1


def test_reflowed_paragraphs_are_one_line_each_with_hyphens_joined():
    lines, gold = render(PAPER, RENDERINGS["reflowed"])
    paragraphs = [b for b in PAPER if b.kind == "paragraph"]
    for block in paragraphs:
        assert join_lines(block.lines) in lines
    assert len(lines) == sum(1 if b.kind != "table" else len(b.lines) for b in PAPER)
    joined = join_lines(["a hyphen-", "ated word and a well-", "Known Name"])
    assert joined == "a hyphenated word and a well- Known Name"


@pytest.mark.parametrize("width", [32, 42, 110])
def test_wrapped_again_at_a_column_width(width):
    lines, gold = render(PAPER, Rendering(width=width, hyphen_rate=0.5), seed=1)
    assert all(len(line) <= width + 2 or " " not in line for line in lines)
    # Every word is still there, in order, once added hyphens are joined again.
    assert join_lines(lines).split() == WORDS or _dehyphenated(lines) == WORDS


def _dehyphenated(lines):
    out = ""
    for line in lines:
        if out.endswith("-") and out[-2:-1].isalpha() and line[:1].isalpha():
            out = out[:-1] + line
        else:
            out = f"{out} {line}" if out else line
    return out.split()


def test_pages_carry_running_headers_footers_and_numbers():
    many = PAPER * 6  # long enough for several pages
    rendering = Rendering(page_lines=20)
    seen_furniture = False
    for seed in range(8):
        lines, gold = render(many, rendering, seed)
        plain, plain_gold = render(many, Rendering(), seed)
        extra = len(lines) - len(plain)
        assert [lines[i] for i in sorted(gold)] == [plain[i] for i in sorted(plain_gold)]
        # The paper's own lines stay in order; whatever was added is furniture.
        it = iter(lines)
        assert all(any(line == other for other in it) for line in plain)
        seen_furniture |= extra > 0
    assert seen_furniture


@pytest.mark.parametrize("seed", range(4))
def test_side_by_side_pages_read_column_by_column_are_the_column_lines(seed):
    many = PAPER * 5  # long enough for pages of two columns
    rendering = RENDERINGS["side_by_side"]
    lines, gold = render(many, rendering, seed)
    # The same paper in one column of the same width: the side-by-side pages draw after its lines.
    column, column_gold = render(many, dataclasses.replace(rendering, side_by_side=0), seed)
    assert len(column) > 2 * rendering.side_by_side and "\f" in "".join(lines)
    assert max(len(line) for line in lines) > 2 * rendering.width
    columns = read_columns("\n".join(lines) + "\n")
    assert columns.pages
    read = [line.strip() for line in columns.text.replace("\f", "\n").splitlines() if line.strip()]
    # Every line of the column comes back, in order; what is added is the pages' header and number.
    it = iter(read)
    assert all(any(line.strip() == other for other in it) for line in column if line.strip())
    assert len(read) - sum(1 for line in column if line.strip()) <= 3 * (len(columns.pages) + 1)
    # Every heading line of the column is on a gold line of the side-by-side text, and no other line is.
    assert len(gold) <= len(column_gold)
    for i in column_gold:
        assert any(column[i].strip() in lines[j] for j in gold)


def test_line_numbers_count_the_non_empty_lines():
    lines, gold = render(PAPER, Rendering(line_numbers=True, blank_lines=1.0), seed=2)
    numbers = [int(re.match(r"\s*(\d+)\s", line).group(1)) for line in lines if line]
    assert numbers == list(range(1, len(numbers) + 1))
    assert all(not line for line in lines if not re.match(r"\s*\d", line))


def test_drawn_renderings_are_valid_and_varied():
    rng = numpy.random.default_rng(0)
    drawn = [draw_rendering(rng) for _ in range(200)]
    assert any(r.reflow for r in drawn) and any(r.page_lines for r in drawn) and any(r.line_numbers for r in drawn)
    assert any(r.width and r.width < 56 for r in drawn) and any(r.width > 79 for r in drawn)
    assert {r.blank_lines for r in drawn} >= {0.0, 1.0}
    assert 0.3 < sum(not r.heading_gap for r in drawn) / len(drawn) < 0.5
    for r in drawn[:20]:
        lines, gold = render(PAPER, r, 5)
        assert len(gold) >= len(HEADINGS)


def test_bad_rendering_options_are_refused():
    with pytest.raises(ValueError):
        Rendering(blank_lines=2.0)
    with pytest.raises(ValueError):
        Rendering(width=5)
    with pytest.raises(ValueError):
        PrintedBlock("figure", ("x",))
    with pytest.raises(ValueError):
        Rendering(side_by_side=50)  # no column width
    with pytest.raises(ValueError):
        Rendering(width=42, side_by_side=50, page_lines=40)


TEI = b"""<?xml version="1.0"?>
<tei><teiHeader/><text xml:lang="en"><body>
<div><head>1. Introduction<lb/></head>
<p>The first line of a paragraph<lb/> and its second line.<lb/></p>
<figure>Figure 1. A caption<lb/> 0 10 20<lb/></figure>
<figure type="table">Table 1<lb/>A B<lb/></figure>
<formula>x = y + 1<lb/></formula>
<head>2. Methods<lb/></head><p>Text.</p></div>
</body></text></tei>"""


def test_tei_blocks_keep_the_pdf_lines_and_kinds():
    blocks = tei_blocks(TEI)
    assert [b.kind for b in blocks] == ["heading", "paragraph", "other", "table", "other", "heading", "paragraph"]
    assert blocks[1].lines == ("The first line of a paragraph", "and its second line.")
    text, gold = tei_plain_text(TEI)
    lines, flat_gold = flatten(blocks)
    assert text == "\n".join(lines) + "\n" and gold == flat_gold
    assert [lines[i] for i in sorted(gold)] == ["1. Introduction", "2. Methods"]


def test_laid_out_blocks_flatten_to_the_laid_out_lines():
    blocks = [Block("heading", "1 Introduction"), Block("paragraph", " ".join(WORDS[:80])),
              Block("heading", "1.1 Data", level=2), Block("paragraph", " ".join(WORDS[80:]))]
    floats = [Block("caption", "Figure 1. A figure of the sites and what was measured at each of them.")]
    for seed in range(5):
        printed = lay_out_blocks(blocks, seed, floats=floats)
        assert flatten(printed) == lay_out(blocks, seed, floats=floats)
        assert [b.kind for b in printed if b.kind == "heading"] == ["heading", "heading"]


# -- the shipped heading-line weights on the paper above, in every rendering ----------------------------------------

from spacy_scicls.segmentation import HeadingLineModel, heading_spans  # noqa: E402


@pytest.fixture(scope="module")
def shipped():
    return HeadingLineModel.from_disk()


@pytest.mark.parametrize("name", list(RENDERINGS))
def test_shipped_model_finds_the_headings_in_every_rendering(shipped, name):
    if RENDERINGS[name].side_by_side:
        return  # the next test
    lines, gold = render(PAPER, RENDERINGS[name], seed=0)
    text = "\n".join(lines) + "\n"
    found = [re.sub(r"\s+", " ", text[a:b]) for a, b in heading_spans(text, shipped)]
    assert found == HEADINGS


def test_shipped_model_finds_the_headings_of_side_by_side_pages_read_column_by_column(shipped):
    lines, gold = render(PAPER * 3, RENDERINGS["side_by_side"], seed=0)
    text = "\n".join(lines) + "\n"
    as_printed = [re.sub(r"\s+", " ", text[a:b]) for a, b in heading_spans(text, shipped)]
    # As the text reader reads it: each heading is found (the model misses some of the three copies).
    text = read_columns(text).text
    found = [re.sub(r"\s+", " ", text[a:b]) for a, b in heading_spans(text, shipped)]
    assert set(HEADINGS) <= set(found)
    assert sum(h in HEADINGS for h in found) >= 2 * len(HEADINGS) > sum(h in HEADINGS for h in as_printed)


def test_front_matter_has_one_heading_and_is_seeded():
    from spacy_scicls.corpora.heading_papers import front_matter

    title = "Soil moisture across a catchment: forty sites over three years"
    abstract = " ".join(WORDS[:60])
    blocks = front_matter(title, abstract, seed=4)
    assert [b.kind for b in blocks] == ["other", "other", "heading", "paragraph"]
    assert join_lines(blocks[0].lines) == title and blocks[2].lines[0] in ("Abstract", "ABSTRACT")
    assert join_lines(blocks[3].lines).split() == WORDS[:60]
    assert front_matter(title, abstract, seed=4) == blocks
    assert [b.kind for b in front_matter("", "", seed=1)] == ["other"]  # the authors alone


def test_a_heading_can_sit_on_its_paragraph():
    lines, gold = render(PAPER, RENDERINGS["reflowed_paragraph_gaps"])
    for i in gold:
        if lines[i + 1] and i + 1 not in gold:
            assert lines[i + 1].startswith(("Soil", "The forty", "Loam", "A field", "We thank"))
    assert all(lines[i + 1] for i in gold)  # never an empty line under a heading
    assert lines.count("") == len(PAPER) - 1 - len(HEADINGS)  # a gap between blocks but after a heading
