"""The parts of ``scicls annotate``, in process: inputs, writers and resume, error isolation, progress."""
import importlib
import io
import json
from pathlib import Path

import pytest
import spacy
from spacy.language import Language
from typer.testing import CliRunner

from spacy_scicls.cli import app, run_annotate
from spacy_scicls.cli.app import CannotRun
from spacy_scicls.cli.inputs import (
    InputError,
    RecordError,
    check_inputs,
    check_text,
    decode_text,
    detect_input_format,
    iter_records,
    join_fields,
)
from spacy_scicls.cli.outputs import CsvWriter, JsonlWriter, OutputError, doc_to_record
from spacy_scicls.cli.progress import Progress
from spacy_scicls.cli.run import annotate_records, error_kind


@Language.component("cli_test_boom")
def _boom(doc):
    """Fails on any doc that says BOOM, as a component with a bug would."""
    if "BOOM" in doc.text:
        raise ValueError("cannot handle BOOM")
    doc.cats = {"test/len": float(len(doc))}
    return doc


def _boom_nlp():
    nlp = spacy.blank("en")
    nlp.add_pipe("cli_test_boom")
    return nlp


def _write_jsonl(path: Path, texts) -> Path:
    path.write_text("".join(json.dumps({"id": f"d{i}", "text": t}) + "\n" for i, t in enumerate(texts)), encoding="utf8")
    return path


@pytest.mark.parametrize(
    "text,reason",
    [
        ("", "empty text"),
        (" \n\t ", "empty text"),
        ("a\x00b" * 10, "binary content"),
        ("\x01\x02\x03\x04\x05\x06" * 15, "binary content"),
        ("x" * 101, "text too long"),
    ],
)
def test_check_text_refuses(text, reason):
    with pytest.raises(RecordError, match=reason):
        check_text(text, max_chars=100)


def test_check_text_accepts_papers_with_tabs_and_form_feeds():
    check_text("Title\r\n\tIndented\fpage two Ünïcode", max_chars=100)


def test_decode_text_keeps_content_exactly_and_names_bad_bytes():
    data = "\ufeffCafé\r\nline".encode("utf8")
    assert decode_text(data) == "\ufeffCafé\r\nline"
    with pytest.raises(RecordError, match="not UTF-8 text: invalid byte 0xe9 at offset 3 .*iconv -f cp1252"):
        decode_text(b"Caf\xe9")


def test_join_fields_paragraph_per_column_skipping_empty():
    assert join_fields(["  A title ", None, "", "An abstract."]) == "A title\n\nAn abstract."
    # The title is the first line, as the category heads and adapters read it; the abstract keeps its lines.
    assert join_fields(["Prompt diphoton production at Tevatron and\n  LHC energies", "Line one\nline two"]) == (
        "Prompt diphoton production at Tevatron and LHC energies\n\nLine one\nline two"
    )


def test_detect_input_format(tmp_path):
    cases = {
        "a.txt": b"plain", "b.md": b"# T", "c.csv": b"id,text\n", "d.tei.xml": b"<TEI/>",
        "e.xml": b'<?xml version="1.0"?><article/>', "f.xml": b'<TEI xmlns="http://www.tei-c.org/ns/1.0"/>',
        "g.jsonl": b'{"id": 1, "text": "x"}\n', "h.jsonl": b'{"paper_id": "1", "body_text": [{"text": "x", "section": "I"}]}\n',
        "i.json": b'{\n "paper_id": "1",\n "pdf_parse": {"body_text": []}\n}', "j.json": b'[{"id": 1, "text": "x"}]',
    }
    expected = {
        "a.txt": "text", "b.md": "markdown", "c.csv": "csv", "d.tei.xml": "tei", "e.xml": "jats", "f.xml": "tei",
        "g.jsonl": "jsonl", "h.jsonl": "s2orc", "i.json": "s2orc", "j.json": "jsonl",
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        assert detect_input_format(tmp_path / name) == expected[name], name
    (tmp_path / "k.xml").write_bytes(b"<rss><channel/></rss>")
    with pytest.raises(RecordError, match="unknown input format"):
        detect_input_format(tmp_path / "k.xml")


def test_inputs_fail_early_on_missing_paths_and_columns(tmp_path):
    with pytest.raises(InputError, match="input not found"):
        check_inputs([str(tmp_path / "nothing.txt")])
    with pytest.raises(InputError, match="no file matches"):
        check_inputs([str(tmp_path / "*.nothing")])
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("Key,Name,Narrative\n1,T,A\n", encoding="utf8")
    with pytest.raises(InputError, match="pass --text-columns"):
        check_inputs([str(unknown)])
    csv_file = tmp_path / "awards.csv"
    csv_file.write_text("AwardID,AwardTitle,AwardAbstract\n1,T,A\n", encoding="utf8")
    check_inputs([str(csv_file)])  # a title and an abstract column, by their names
    with pytest.raises(InputError, match="no column 'Abstract'"):
        check_inputs([str(csv_file)], text_columns=["AwardTitle", "Abstract"])
    check_inputs([str(csv_file)], text_columns=["AwardTitle", "AwardAbstract"], id_column="AwardID")


def test_csv_records_join_title_and_abstract(tmp_path):
    csv_file = tmp_path / "awards.csv"
    csv_file.write_text('AwardID,AwardTitle,AwardAbstract\nX-1,Cancer trial,"Surgery, or ""drug""."\n', encoding="utf8")
    (record,) = iter_records([str(csv_file)], text_columns=["AwardTitle", "AwardAbstract"], id_column="AwardID")
    assert record.id == "X-1"
    assert record.load(spacy.blank("en")) == 'Cancer trial\n\nSurgery, or "drug".'


def test_jsonl_writer_resume_cuts_torn_line_and_partial_batch(tmp_path):
    path = tmp_path / "out.jsonl"
    writer = JsonlWriter(path)
    assert writer.open(resume=False) == []
    writer.write_batch([({"id": f"r{i}", "error": None}, None) for i in range(5)])
    writer.close()
    with path.open("ab") as file:
        file.write(b'{"id": "r5", "err')  # killed in the middle of a write
    before = path.read_bytes()
    writer = JsonlWriter(path)
    assert writer.open(resume=True) == [f"r{i}" for i in range(5)]
    writer.close(complete=False)  # a run that stops (or is refused) before it writes changes nothing
    assert path.read_bytes() == before
    writer = JsonlWriter(path)
    assert writer.open(resume=True) == [f"r{i}" for i in range(5)]
    writer.close(complete=True)  # a run that finishes cuts the torn line
    assert path.read_bytes().endswith(b"\n") and path.read_bytes().count(b"\n") == 5
    writer = JsonlWriter(path)
    assert writer.open(resume=True, align=2) == ["r0", "r1", "r2", "r3"]
    assert path.read_bytes().count(b"\n") == 5
    writer.write_batch([({"id": "r4", "error": None}, None)])  # the first write cuts, then appends
    writer.close()
    assert path.read_bytes().count(b"\n") == 5 and path.read_bytes() == before[: before.rindex(b"\n") + 1]


def test_jsonl_writer_refuses_to_resume_a_foreign_file(tmp_path):
    path = tmp_path / "out.jsonl"
    path.write_text("id,labels\nnot json\n", encoding="utf8")
    with pytest.raises(OutputError, match="not one this command wrote"):
        JsonlWriter(path).open(resume=True)


def test_csv_writer_one_line_per_row_and_header_check(tmp_path):
    path = tmp_path / "out.csv"
    writer = CsvWriter(path, ["hrcs_rac", "hrcs_rag"], ["hrcs_rac"])
    writer.open(resume=False)
    record = {"id": "odd\nid, with comma", "labels": {"hrcs_rac": ["6.1", "6.4"], "hrcs_rag": ["6"]},
              "certainty": {"hrcs_rac": 0.25}, "error": None}
    writer.write_batch([(record, None)])
    writer.close()
    lines = path.read_text(encoding="utf8").splitlines()
    assert lines == [
        "id,labels_hrcs_rac,labels_hrcs_rag,certainty_hrcs_rac,error",
        '"odd id, with comma",6.1; 6.4,6,0.25,',
    ]
    assert CsvWriter(path, ["hrcs_rac", "hrcs_rag"], ["hrcs_rac"]).open(resume=True) == ["odd id, with comma"]
    with pytest.raises(OutputError, match="header differs"):
        CsvWriter(path, ["erc"], ["erc"]).open(resume=True)


def _run_boom(tmp_path, texts, n_process=1, batch_size=2, name="out.jsonl"):
    inputs = _write_jsonl(tmp_path / "in.jsonl", texts)
    out = tmp_path / name
    writer = JsonlWriter(out)
    writer.open(resume=False)
    summary = annotate_records(
        _boom_nlp(), iter_records([str(inputs)]), writer, batch_size=batch_size, n_process=n_process
    )
    writer.close()
    return summary, [json.loads(line) for line in out.read_text(encoding="utf8").splitlines()], out


def test_a_record_that_breaks_the_pipeline_gets_an_error_and_the_run_goes_on(tmp_path):
    texts = ["one two", "three", "BOOM here", "four five six", "", "seven", "BOOM again", "eight"]
    summary, records, _ = _run_boom(tmp_path, texts)
    assert [r["id"] for r in records] == [f"d{i}" for i in range(len(texts))]
    errors = [r["error"] for r in records]
    assert errors[2] == errors[6] == "annotation failed: ValueError: cannot handle BOOM"
    assert errors[4] == "empty text"
    assert [e is None for e in errors] == [True, True, False, True, False, True, False, True]
    assert records[3]["cats"] == {"test/len": 3.0}
    assert (summary.annotated, summary.failed) == (5, 3)
    assert summary.errors == {"annotation failed": 2, "empty text": 1}


def test_two_processes_write_what_one_writes_even_when_records_fail(tmp_path):
    texts = [f"text number {i}" if i % 7 else "BOOM" for i in range(40)] + [""]
    _, _, one = _run_boom(tmp_path, texts, n_process=1, batch_size=4, name="one.jsonl")
    _, records, two = _run_boom(tmp_path, texts, n_process=2, batch_size=4, name="two.jsonl")
    assert one.read_bytes() == two.read_bytes()
    assert sum(1 for r in records if r["error"]) == 7


def test_resume_on_other_inputs_is_refused(tmp_path):
    inputs = _write_jsonl(tmp_path / "in.jsonl", ["a", "b", "c"])
    out = tmp_path / "out.jsonl"
    out.write_text(json.dumps({"id": "zzz"}) + "\n", encoding="utf8")
    writer = JsonlWriter(out)
    done = writer.open(resume=True)
    with pytest.raises(OutputError, match="made from other inputs"):
        annotate_records(_boom_nlp(), iter_records([str(inputs)]), writer, done_ids=done)
    writer.close()


def test_existing_output_is_not_overwritten_without_resume(tmp_path):
    inputs = _write_jsonl(tmp_path / "in.jsonl", ["a"])
    out = tmp_path / "out.jsonl"
    out.write_text("precious\n", encoding="utf8")
    result = CliRunner().invoke(app, ["annotate", str(inputs), "--output", str(out), "--model", "whatever"])
    assert result.exit_code == 2
    assert "exists: pass --resume to continue it or --overwrite" in result.output
    assert out.read_text(encoding="utf8") == "precious\n"


def test_missing_default_pipeline_says_how_to_install_it(tmp_path, monkeypatch):
    cli_app = importlib.import_module("spacy_scicls.cli.app")  # the module; the package's `app` is the Typer app
    # The real default is installed by `make`; stand in a name that is not.
    monkeypatch.setattr(cli_app, "DEFAULT_MODEL", "en_scicls_not_installed")
    with pytest.raises(CannotRun, match="default pipeline 'en_scicls_not_installed' is not installed. Install it"):
        cli_app.load_pipeline("en_scicls_not_installed")
    inputs = _write_jsonl(tmp_path / "in.jsonl", ["a"])
    with pytest.raises(OutputError, match="end it in"):
        run_annotate([str(inputs)], tmp_path / "out.txt")


def test_blank_pipeline_to_csv_and_docbin(tmp_path):
    nlp = _boom_nlp()
    nlp.to_disk(tmp_path / "pipe")
    inputs = _write_jsonl(tmp_path / "in.jsonl", ["one two", "BOOM", "three"])
    assert run_annotate([str(inputs)], tmp_path / "out.csv", model=str(tmp_path / "pipe"), quiet=True) == 1
    assert (tmp_path / "out.csv").read_text(encoding="utf8").splitlines() == [
        "id,error", "d0,", "d1,annotation failed: ValueError: cannot handle BOOM", "d2,",
    ]
    assert run_annotate([str(inputs)], tmp_path / "out.spacy", model=str(tmp_path / "pipe"), quiet=True) == 1
    from spacy.tokens import DocBin

    docs = list(DocBin().from_disk(tmp_path / "out.spacy").get_docs(nlp.vocab))
    assert [d.user_data["scicls_id"] for d in docs] == ["d0", "d1", "d2"]
    assert [d.text for d in docs] == ["one two", "", "three"]
    assert docs[1].user_data["scicls_error"].startswith("annotation failed")
    assert not (tmp_path / "out.spacy.parts").exists()


def test_doc_to_record_offsets_index_the_text():
    nlp = spacy.blank("en")
    doc = nlp("Drought hits Europe.")
    doc.ents = [doc.char_span(13, 19, label="location")]
    record = doc_to_record(doc, "x", include_text=False)
    assert "text" not in record
    assert record["ents"] == [{"start_char": 13, "end_char": 19, "label": "location", "text": "Europe", "score": None}]
    assert record["sections"] == [] and record["error"] is None


def test_progress_log_lines_when_not_on_a_terminal():
    stream = io.StringIO()
    progress = Progress(100, stream=stream, interval=0.0)
    progress.start(skipped=10)
    progress.advance(5, failed=1)
    line = stream.getvalue().strip().splitlines()[-1]
    assert line.startswith("scicls annotate: 15/100 records (15.0%), ")
    assert "records/s" in line and "ETA" in line and line.endswith("1 failed")


def test_error_kind():
    assert error_kind("malformed JSON: Expecting value") == "malformed JSON"
    assert error_kind("empty text") == "empty text"


def test_docbin_output_resumes_from_its_parts(tmp_path):
    from spacy.tokens import DocBin

    from spacy_scicls.cli.outputs import DocBinWriter

    nlp = spacy.blank("en")
    path = tmp_path / "out.spacy"
    writer = DocBinWriter(path, nlp.vocab)
    assert writer.open(resume=False) == []
    for start in (0, 2, 4):
        writer.write_batch([({"id": f"r{i}", "error": None}, nlp(f"text {i}")) for i in (start, start + 1)])
    (writer.parts / "part-000003.tmp").write_bytes(b"torn")  # killed while writing the next part
    # The run stops here without closing; a resumed run with batches of 4 keeps r0..r3.
    writer = DocBinWriter(path, nlp.vocab)
    assert writer.open(resume=True, align=4) == ["r0", "r1", "r2", "r3"]
    writer.write_batch([({"id": f"r{i}", "error": None}, nlp(f"text {i}")) for i in (4, 5)])
    writer.close(complete=True)
    docs = list(DocBin().from_disk(path).get_docs(nlp.vocab))
    assert [d.text for d in docs] == [f"text {i}" for i in range(6)]
    assert not writer.parts.exists()
    # A finished output resumed (e.g. with more inputs) becomes the first part.
    assert DocBinWriter(path, nlp.vocab).open(resume=True) == [f"r{i}" for i in range(6)]


def test_an_input_that_breaks_off_stops_the_run_with_everything_before_it_written(tmp_path):
    from spacy_scicls.cli.inputs import Record

    def records():
        for i in range(5):
            yield Record(f"r{i}", lambda nlp, i=i: f"text {i}", "test")
        raise OSError("disk went away")

    out = tmp_path / "out.jsonl"
    writer = JsonlWriter(out)
    writer.open(resume=False)
    with pytest.raises(InputError, match="failed after record 5 .*disk went away.*--resume"):
        annotate_records(_boom_nlp(), records(), writer, batch_size=2)
    writer.close()
    assert [json.loads(line)["id"] for line in out.read_text(encoding="utf8").splitlines()] == [f"r{i}" for i in range(5)]


def test_an_output_inside_an_input_folder_is_never_read_as_input(tmp_path):
    nlp = _boom_nlp()
    nlp.to_disk(tmp_path / "pipe")
    folder = tmp_path / "papers"
    folder.mkdir()
    (folder / "a.txt").write_text("one paper", encoding="utf8")
    out = folder / "annotations.jsonl"
    assert run_annotate([str(folder)], out, model=str(tmp_path / "pipe"), quiet=True) == 0
    assert run_annotate([str(folder)], out, model=str(tmp_path / "pipe"), resume=True, quiet=True) == 0
    assert [json.loads(line)["id"] for line in out.read_text(encoding="utf8").splitlines()] == ["a.txt"]


def test_progress_bar_with_rate_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    progress = Progress(100, stream=stream)
    progress.start(skipped=10)
    progress.advance(5, failed=1)
    progress.close()
    shown = stream.getvalue()
    assert "15/100" in shown and "rec/s" in shown and "failed=1" in shown
