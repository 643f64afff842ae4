"""Inputs as users have them: funders' CSV exports with their own column names, Excel's CSV,
gzipped papers, archives, text in another encoding. Read without a pipeline (``load`` needs one
only for structured papers)."""
import json
from pathlib import Path

import pytest
import spacy

from archives import tar_bytes
from spacy_scicls.cli.inputs import InputError, RecordError, check_inputs, iter_records

TITLE = "Drought attribution in the Mediterranean"
ABSTRACT = "We attribute the drying trend to warming, with CMIP6 models and station records."


def _texts(path: Path, **kwargs):
    nlp = spacy.blank("en")
    out = []
    for record in iter_records([str(path)], **kwargs):
        try:
            out.append((record.id, record.load(nlp)))
        except RecordError as err:
            out.append((record.id, f"ERROR {err}"))
    return out


@pytest.mark.parametrize(
    "header",
    [
        "AwardNumber,AwardTitle,AbstractNarration",  # NSF award search export
        "APPLICATION_ID,PROJECT_TITLE,ABSTRACT_TEXT",  # NIH RePORTER
        'ProjectReference,"Project Title",Abstract',  # UKRI Gateway to Research
        "Project_ID,Project_Title,Plain_English_Abstract,Scientific_Abstract",  # NIHR: the scientific one is read
        "id,title,objective",  # CORDIS projects (ERC and other EU grants)
    ],
)
def test_funder_exports_are_read_without_text_columns(tmp_path, header):
    path = tmp_path / "awards.csv"
    n_columns = header.count(",") + 1
    lay = ["A lay summary."] if n_columns == 4 else []
    row = ",".join(['"2145678"', f'"{TITLE}"', *[f'"{v}"' for v in lay], f'"{ABSTRACT}"'])
    path.write_text(header + "\n" + row + "\n", encoding="utf8")
    check_inputs([str(path)])
    assert _texts(path) == [("2145678", f"{TITLE}\n\n{ABSTRACT}")]


def test_jsonl_records_with_capitalised_fields(tmp_path):
    path = tmp_path / "records.jsonl"
    path.write_text(json.dumps({"ProjectId": "P-1", "Title": TITLE, "Abstract": ABSTRACT}) + "\n", encoding="utf8")
    assert _texts(path) == [("P-1", f"{TITLE}\n\n{ABSTRACT}")]


def test_columns_given_still_win_and_unknown_columns_are_refused_clearly(tmp_path):
    path = tmp_path / "awards.csv"
    path.write_text("AwardTitle,AbstractNarration,Notes\nT,A,N\n", encoding="utf8")
    assert _texts(path, text_columns=["Notes"]) == [("awards.csv:1", "N")]
    other = tmp_path / "other.csv"
    other.write_text("key,headline,body\n1,T,A\n", encoding="utf8")
    with pytest.raises(InputError, match="no text, title or abstract column; pass --text-columns"):
        check_inputs([str(other)])


@pytest.mark.parametrize(
    "data,name",
    [
        ("\ufeffid;title;abstract\r\nX1;Caf\u00e9 drought;\"Rain; heat, and soil.\"\r\n".encode("utf8"), "excel.csv"),
        (b"id\ttitle\tabstract\nX1\tCaf\xc3\xa9 drought\tRain; heat, and soil.\n", "tabs.csv"),
        (b"id\ttitle\tabstract\nX1\tCaf\xc3\xa9 drought\tRain; heat, and soil.\n", "tabs.tsv"),
    ],
)
def test_csv_separator_is_read_from_the_header(tmp_path, data, name):
    path = tmp_path / name
    path.write_bytes(data)
    check_inputs([str(path)])
    assert _texts(path) == [("X1", "Caf\u00e9 drought\n\nRain; heat, and soil.")]


def test_comma_csv_with_semicolons_in_quoted_header_stays_comma(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text('id,"notes; misc",title,abstract\nX1,n; m,T,"A; b; c"\n', encoding="utf8")
    assert _texts(path) == [("X1", "T\n\nA; b; c")]


def test_gzipped_files_are_read_as_what_they_hold(tmp_path):
    import gzip

    folder = tmp_path / "corpus"
    folder.mkdir()
    jats = (Path(__file__).parent / "fixtures" / "papers" / "paper.jats.xml").read_bytes()
    (folder / "a.nxml.gz").write_bytes(gzip.compress(jats))
    (folder / "b.txt.gz").write_bytes(gzip.compress(f"{TITLE}\n\n{ABSTRACT}\n".encode("utf8")))
    (folder / "c.jsonl.gz").write_bytes(gzip.compress(json.dumps({"id": "J1", "text": ABSTRACT}).encode() + b"\n"))
    (folder / "d.csv.gz").write_bytes(gzip.compress(f"id;title;abstract\nC1;{TITLE};{ABSTRACT}\n".encode()))
    out = _texts(folder)
    assert [rid for rid, _ in out] == ["a.nxml.gz", "b.txt.gz", "J1", "C1"]
    assert out[0][1].spans["sections"], "the JATS reader's sections"
    assert out[1][1] == f"{TITLE}\n\n{ABSTRACT}\n"
    assert out[2][1] == ABSTRACT
    assert out[3][1] == f"{TITLE}\n\n{ABSTRACT}"


def test_broken_gzip_and_bombs_get_error_records(tmp_path):
    import gzip
    import io
    import tarfile

    folder = tmp_path / "corpus"
    folder.mkdir()
    whole = gzip.compress(b"".join(json.dumps({"id": f"J{i}", "text": ABSTRACT}).encode() + b"\n" for i in range(200)))
    (folder / "a_cut.jsonl.gz").write_bytes(whole[: len(whole) // 2])  # a download that broke off
    (folder / "b_bomb.txt.gz").write_bytes(gzip.compress(b"a" * 5_000_000))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("paper.txt")
        info.size = len(ABSTRACT)
        tar.addfile(info, io.BytesIO(ABSTRACT.encode()))
    (folder / "c_papers.tar.gz").write_bytes(buffer.getvalue())
    (folder / "d_source.gz").write_bytes(buffer.getvalue())  # arXiv's sources: a tar inside a bare .gz
    (folder / "e_notgzip.txt.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    out = _texts(folder, max_chars=1_000_000)
    cut = out[:-4]  # the lines read before the break, then an error record for the rest
    assert 1 < len(cut) < 200 and cut[-1][0] == f"a_cut.jsonl.gz:{len(cut)}"
    assert cut[-1][1].startswith("ERROR cannot read file") and cut[-1][1].endswith("(the rest of the file is not read)")
    assert cut[:-1] == [(f"J{i}", ABSTRACT) for i in range(len(cut) - 1)]
    rest = dict(out[-4:])
    assert rest["b_bomb.txt.gz"].startswith("ERROR text too long: the file inflates to more than")
    assert rest["c_papers.tar.gz/paper.txt"] == ABSTRACT  # a tar archive: its papers, each a record
    assert rest["d_source.gz/paper.txt"] == ABSTRACT
    assert rest["e_notgzip.txt.gz"].startswith("ERROR cannot read file")


def test_binary_junk_and_other_encodings_are_told_apart(tmp_path):
    import random

    folder = tmp_path / "corpus"
    folder.mkdir()
    rng = random.Random(0)
    (folder / "a_junk.txt").write_bytes(bytes(rng.randrange(256) for _ in range(3000)))
    (folder / "b_latin1.txt").write_bytes("Caf\u00e9 culture and drought in Brazil.".encode("latin-1"))
    out = dict(_texts(folder))
    assert out["a_junk.txt"] == "ERROR binary content: the file is not text"
    assert out["b_latin1.txt"].startswith("ERROR not UTF-8 text: invalid byte 0xe9 at offset 3")
    assert "iconv -f cp1252 -t utf-8" in out["b_latin1.txt"]


def test_standard_input_is_refused_with_a_reason(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match="standard input is not read"):
        check_inputs(["-"])


def test_a_new_users_folder_end_to_end_every_file_accounted_for(tmp_path, capsys):
    """The command on a folder as a user has it: an NSF export, Excel's CSV, a gzipped paper, an
    archive, a figure; a second run into the same output keeps it and says what to do."""
    import gzip

    from spacy_scicls.cli import run_annotate
    from spacy_scicls.cli.app import CannotRun

    spacy.blank("en").to_disk(tmp_path / "pipe")
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a_nsf.csv").write_text(f'AwardNumber,AwardTitle,AbstractNarration\n2145678,{TITLE},"{ABSTRACT}"\n', encoding="utf8")
    (folder / "b_excel.csv").write_bytes(f"\ufeffid;title;abstract\r\nX1;{TITLE};\r\n".encode("utf8"))
    (folder / "c.txt.gz").write_bytes(gzip.compress(ABSTRACT.encode("utf8")))
    (folder / "d.tgz").write_bytes(tar_bytes({"PMC1/paper.nxml": b"<article><front/><body/></article>", "PMC1/fig1.jpg": b"\xff\xd8"}))
    (folder / "e_figure.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(16))
    (folder / "f_latin1.csv").write_bytes(b"id,title\nL1,Caf\xe9 society\n")
    (folder / "g_source.tar").write_bytes(tar_bytes({"main.tex": b"\\section{Results} x", "fig.png": b"x"}, compress=False))
    (folder / "h_figures.tar").write_bytes(tar_bytes({"fig.png": b"x"}, compress=False))
    out = tmp_path / "out.jsonl"
    assert run_annotate([str(folder)], out, model=str(tmp_path / "pipe"), quiet=True) == 1
    records = [json.loads(line) for line in out.read_text(encoding="utf8").splitlines()]
    assert [(r["id"], r["text"], r["error"]) for r in records] == [
        ("2145678", f"{TITLE}\n\n{ABSTRACT}", None),
        ("X1", TITLE, None),
        ("c.txt.gz", ABSTRACT, None),
        ("d.tgz/PMC1/paper.nxml", None, "empty text"),  # a JATS paper with neither title nor text
        ("L1", None, "not UTF-8 text: a byte of another encoding (pass --encoding cp1252 (or the file's "
                     "encoding), or save it as UTF-8: Excel's 'CSV UTF-8', or iconv -f cp1252 -t utf-8)"),
        ("g_source.tar", "Results\nx", None),  # a LaTeX source is one paper (tests/test_latex_reader.py)
        ("h_figures.tar", None, "no papers in the archive: it holds files of other types (.png: 1)"),
    ]
    err = capsys.readouterr().err
    assert "skipping 1 file(s) that are not papers in the input folders (.png: 1)" in err
    # where the columns were found by name, the run says which it took
    assert "a_nsf.csv: text from 'AwardTitle' + 'AbstractNarration', id from 'AwardNumber'" in err
    assert "b_excel.csv: text from 'title' + 'abstract', id from 'id'" in err
    assert "f_latin1.csv: text from 'title', id from 'id'" in err
    # the summary counts each failure by its reason, the text before the first colon
    assert "failed records: empty text (1), not UTF-8 text (1), no papers in the archive (1)" in err
    before = out.read_bytes()
    with pytest.raises(CannotRun, match="exists: pass --resume to continue it or --overwrite"):
        run_annotate([str(folder)], out, model=str(tmp_path / "pipe"), quiet=True)
    assert run_annotate([str(folder)], out, model=str(tmp_path / "pipe"), quiet=True, resume=True) == 1
    assert out.read_bytes() == before


def test_a_row_longer_than_the_header_is_an_error_not_a_cut_text(tmp_path):
    path = tmp_path / "awards.csv"
    path.write_text(
        f"id,title,abstract\nR1,{TITLE},{ABSTRACT}\nR2,{TITLE},\"{ABSTRACT}\",,\n", encoding="utf8"
    )  # R1: an unquoted comma splits the abstract; R2: empty trailing fields, as some exports write
    out = _texts(path)
    assert out[0] == ("R1", "ERROR malformed CSV: the row has 4 fields, the header 3 (a separator inside a value "
                      "that is not quoted?)")
    assert out[1] == ("R2", f"{TITLE}\n\n{ABSTRACT}")




def test_papers_inside_a_tar_archive_are_records_in_archive_order(tmp_path):
    import gzip

    jats = (Path(__file__).parent / "fixtures" / "papers" / "paper.jats.xml").read_bytes()
    members = {
        "oa_package/PMC2/paper.nxml": jats,
        "oa_package/PMC2/figure.jpg": b"\xff\xd8\xff",  # skipped, as in a folder
        "oa_package/PMC1/paper.nxml.gz": gzip.compress(jats),
        "oa_package/notes.txt": f"{TITLE}\n\n{ABSTRACT}".encode(),
        "oa_package/records.jsonl": b'{"text": "x"}\n',
        "oa_package/empty.txt": b"",
    }
    for name, data in (("pmc.tar.gz", tar_bytes(members)), ("pmc.tar", tar_bytes(members, compress=False))):
        (tmp_path / name).write_bytes(data)
        out = _texts(tmp_path / name)
        assert [rid for rid, _ in out] == [
            f"{name}/oa_package/PMC2/paper.nxml",
            f"{name}/oa_package/PMC1/paper.nxml.gz",
            f"{name}/oa_package/notes.txt",
            f"{name}/oa_package/records.jsonl",
            f"{name}/oa_package/empty.txt",
        ]
        assert out[0][1].text == out[1][1].text and out[0][1].spans["sections"]
        assert out[2][1] == f"{TITLE}\n\n{ABSTRACT}"
        assert out[3][1] == "ERROR records or an archive inside an archive: unpack it (tar xf) and give the folder"
        assert out[4][1] == "ERROR empty text"


def test_an_archive_that_breaks_off_keeps_what_was_read(tmp_path):
    whole = tar_bytes({f"p{i}.txt": (ABSTRACT + str(i) + " " * 600).encode() for i in range(40)})
    (tmp_path / "cut.tar.gz").write_bytes(whole[: len(whole) // 2])
    out = _texts(tmp_path / "cut.tar.gz")
    assert 1 < len(out) < 41
    assert out[:-1] == [(f"cut.tar.gz/p{i}.txt", (ABSTRACT + str(i)) + " " * 600) for i in range(len(out) - 1)]
    # the member being read when the archive broke off (or the archive, between members) says so
    assert out[-1][0] in (f"cut.tar.gz/p{len(out) - 1}.txt", "cut.tar.gz")
    assert out[-1][1].startswith("ERROR cannot read archive")
    assert out[-1][1].endswith("(the rest of the archive is not read)")


def test_an_archive_without_papers_is_one_error_record(tmp_path):
    # (a LaTeX source is one paper: tests/test_latex_reader.py)
    (tmp_path / "figures.tar.gz").write_bytes(tar_bytes({"fig.svg": b"<svg/>", "fig.png": b"x", "refs.bib": b"@a{}"}))
    assert _texts(tmp_path / "figures.tar.gz") == [
        ("figures.tar.gz", "ERROR no papers in the archive: it holds files of other types (.svg: 1, .png: 1, .bib: 1)")
    ]


def test_the_progress_total_counts_csv_rows_not_lines(tmp_path):
    from spacy_scicls.cli.inputs import count_records

    path = tmp_path / "awards.csv"
    path.write_text(
        f'id;title;abstract\nA1;{TITLE};"{ABSTRACT}\n\nSecond paragraph."\n\nA2;{TITLE};"{ABSTRACT}"\n', encoding="utf8"
    )
    assert count_records([str(path)]) == 2 == len(_texts(path))


def test_read_paper_reads_a_gzipped_paper_and_names_a_damaged_one(tmp_path):
    import gzip

    from spacy_scicls.readers import ReaderError, read_paper

    nlp = spacy.blank("en")
    source = Path(__file__).parent / "fixtures" / "papers" / "paper.jats.xml"
    (tmp_path / "PMC1.nxml.gz").write_bytes(gzip.compress(source.read_bytes()))
    doc = read_paper(tmp_path / "PMC1.nxml.gz", nlp)
    assert doc.text == read_paper(source, nlp).text and doc.spans["sections"]
    assert read_paper(gzip.compress(source.read_bytes()), nlp).text == doc.text  # bytes too
    (tmp_path / "cut.nxml.gz").write_bytes(gzip.compress(source.read_bytes())[:200])
    with pytest.raises(ReaderError, match="cut.nxml.gz: damaged gzip file"):
        read_paper(tmp_path / "cut.nxml.gz", nlp)


def test_a_page_saved_with_its_resources_is_one_paper(tmp_path):
    # A browser's "Web Page, complete" writes paper.html and paper_files/ (styles, scripts, images, the
    # frames the page embeds): the folder holds one paper; a page in a folder of its own is still read.
    from spacy_scicls.cli.inputs import expand_inputs

    folder = tmp_path / "saved"
    (folder / "paper_files").mkdir(parents=True)
    (folder / "other_files").mkdir()
    (folder / "paper.html").write_text("<html><body><h1>Rain</h1><h2>Methods</h2><p>x</p></body></html>")
    for name in ["ad_frame.html", "style.css", "app.js", "fig1.png"]:
        (folder / "paper_files" / name).write_text("x")
    (folder / "other_files" / "notes.html").write_text("<html><body><p>A page of its own.</p></body></html>")
    files, skipped = expand_inputs([str(folder)])
    assert [p.relative_to(folder).as_posix() for p in files] == ["other_files/notes.html", "paper.html"]
    assert sorted(p.name for p in skipped) == ["ad_frame.html", "app.js", "fig1.png", "style.css"]
