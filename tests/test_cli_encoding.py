"""``scicls annotate --encoding``: text, Markdown, CSV and JSON(L) inputs that are not UTF-8, byte-order
marks, and what the default (UTF-8 only) says. Blank pipelines, in process."""
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli_slow_pipeline import save_slow_pipeline
from spacy_scicls.cli import app, run_annotate
from spacy_scicls.cli.inputs import InputError, check_encoding
from spacy_scicls.cli.manifest import ManifestMismatch, manifest_path

CAFE = "Caf\u00e9 \u201cclimate\u201d costs 5 \u20ac in M\u00fcnchen"  # all in Windows-1252


@pytest.fixture(scope="module")
def pipe(tmp_path_factory) -> Path:
    return save_slow_pipeline(tmp_path_factory.mktemp("slow") / "pipe")


def cli(*args: str):
    return CliRunner().invoke(app, ["annotate", *args])


def write_windows_folder(folder: Path) -> Path:
    """What a Windows user's folder may hold: every kind of text file in Windows-1252, and a UTF-8 one."""
    folder.mkdir()
    (folder / "a_paper.txt").write_bytes(f"{CAFE}\r\nA second line.\r\n".encode("cp1252"))
    (folder / "b_notes.md").write_bytes(f"# {CAFE}\n\n## Results\nDrought in M\u00fcnchen.\n".encode("cp1252"))
    (folder / "c_awards.csv").write_bytes(
        f"R\u00e9f\u00e9rence;Title;Abstract\nA\u00e91;{CAFE};Pr\u00e9cipitations\n".encode("cp1252")
    )
    (folder / "d_records.jsonl").write_bytes(
        (json.dumps({"id": "j1", "text": CAFE}, ensure_ascii=False) + "\n").encode("cp1252")
    )
    (folder / "e_one.json").write_bytes(json.dumps({"id": "j2", "text": CAFE}, ensure_ascii=False).encode("cp1252"))
    (folder / "f_utf8.txt").write_text("D\u00e9j\u00e0 vu, \u00c3\u00a9 stays as written", encoding="utf8")
    return folder


def read(out: Path) -> list:
    return [json.loads(line) for line in out.read_text(encoding="utf8").splitlines()]


def test_windows_1252_files_are_error_records_that_name_the_option_by_default(pipe, tmp_path):
    folder = write_windows_folder(tmp_path / "in")
    out = tmp_path / "out.jsonl"
    result = cli(str(folder), "--output", str(out), "--model", str(pipe), "--id-column", "R\u00e9f\u00e9rence", "-q")
    # The header itself is not UTF-8: the columns asked for cannot be found in it.
    assert result.exit_code == 2 and "c_awards.csv: its header is not UTF-8 text" in result.stderr
    assert "--encoding cp1252" in result.stderr and not out.exists()
    (folder / "c_awards.csv").unlink()
    assert run_annotate([str(folder)], out, model=str(pipe), quiet=True) == 1
    got = {r["id"]: r["error"] for r in read(out)}
    assert got["f_utf8.txt"] is None
    for rid in ("a_paper.txt", "b_notes.md", "d_records.jsonl:1", "e_one.json"):
        assert got[rid].startswith("not UTF-8 text: invalid byte 0x"), (rid, got[rid])
        assert "pass --encoding cp1252" in got[rid]


def test_encoding_reads_every_text_input_and_leaves_utf8_as_it_is(pipe, tmp_path):
    folder = write_windows_folder(tmp_path / "in")
    out = tmp_path / "out.jsonl"
    # The CSV's id column is named in Windows-1252 too; the JSON records have none (ids by file and line).
    result = cli(str(folder), "--output", str(out), "--model", str(pipe), "--encoding", "cp1252", "-q",
                 "--id-column", "R\u00e9f\u00e9rence")
    assert result.exit_code == 0, result.stderr
    records = {r["id"]: r for r in read(out)}
    assert list(records) == ["a_paper.txt", "b_notes.md", "A\u00e91", "d_records.jsonl:1", "e_one.json", "f_utf8.txt"]
    assert records["a_paper.txt"]["text"] == f"{CAFE}\r\nA second line.\r\n"
    assert CAFE in records["b_notes.md"]["text"]
    assert records["A\u00e91"]["text"] == f"{CAFE}\n\nPr\u00e9cipitations"
    assert records["d_records.jsonl:1"]["text"] == records["e_one.json"]["text"] == CAFE
    assert records["f_utf8.txt"]["text"] == "D\u00e9j\u00e0 vu, \u00c3\u00a9 stays as written"  # valid UTF-8 wins
    manifest = json.loads(manifest_path(out).read_text(encoding="utf8"))
    assert manifest["options"]["encoding"] == "cp1252"
    # A resume that would read the bytes otherwise is refused.
    out.write_bytes(b"".join(out.read_bytes().splitlines(keepends=True)[:1]))
    before = out.read_bytes()
    with pytest.raises(ManifestMismatch, match='option encoding: "cp1252" in the output, "iso8859-1" now'):
        run_annotate([str(folder)], out, model=str(pipe), encoding="latin-1", quiet=True, resume=True,
                     id_column="R\u00e9f\u00e9rence")
    assert out.read_bytes() == before


def test_bytes_that_the_encoding_does_not_have_are_an_error_record(pipe, tmp_path):
    inputs = tmp_path / "in.csv"
    inputs.write_bytes(b"id,text\nx1,caf\xe9\nx2,bad \x81 byte\n")
    out = tmp_path / "out.jsonl"
    assert run_annotate([str(inputs)], out, model=str(pipe), encoding="cp1252", quiet=True) == 1
    records = read(out)
    assert records[0]["text"] == "caf\u00e9" and records[0]["error"] is None
    assert records[1]["error"].startswith("not UTF-8 or cp1252 text: a byte that is neither")


def test_byte_order_marks(pipe, tmp_path):
    bom = b"\xef\xbb\xbf"
    (tmp_path / "a.jsonl").write_bytes(bom + b'{"id": "j1", "text": "first line"}\n{"id": "j2", "text": "second"}\n')
    (tmp_path / "b.json").write_bytes(bom + b'{"id": "j3", "text": "one record"}')
    (tmp_path / "c.csv").write_bytes(bom + b"id,text\nc1,a row\n")
    (tmp_path / "d.txt").write_bytes(bom + b"a text paper")
    (tmp_path / "e.txt").write_bytes("\ufeffExcel's Unicode Text".encode("utf-16-le"))
    out = tmp_path / "out.jsonl"
    inputs = [str(tmp_path / n) for n in ("a.jsonl", "b.json", "c.csv", "d.txt", "e.txt")]
    assert run_annotate(inputs, out, model=str(pipe), quiet=True) == 1
    got = [(r["id"], r["text"], r["error"]) for r in read(out)]
    assert got[:4] == [
        ("j1", "first line", None),
        ("j2", "second", None),
        ("j3", "one record", None),
        ("c1", "a row", None),
    ]
    assert got[4] == ("d.txt", "\ufeffa text paper", None)  # a text paper's text is the file's, mark and all
    assert got[5][0] == "e.txt" and got[5][2].startswith("UTF-16 text: the file starts with a UTF-16 byte-order mark")
    (tmp_path / "f.csv").write_bytes("\ufeffid,text\nx,y\n".encode("utf-16-le"))
    result = cli(str(tmp_path / "f.csv"), "--output", str(tmp_path / "f_out.jsonl"), "--model", str(pipe), "-q")
    assert result.exit_code == 2 and "f.csv: UTF-16 text" in result.stderr


def test_check_encoding():
    assert check_encoding(None) is None and check_encoding("UTF-8") is None and check_encoding("utf8") is None
    assert check_encoding("Windows-1252") == "cp1252" and check_encoding("latin-1") == "iso8859-1"
    with pytest.raises(InputError, match="unknown encoding"):
        check_encoding("klingon")
    with pytest.raises(InputError, match="convert UTF-16 or UTF-32 files to UTF-8"):
        check_encoding("utf-16")
    with pytest.raises(InputError, match="only encodings that write ASCII"):
        check_encoding("rot13")


def test_encoding_is_for_the_local_engine(tmp_path):
    result = cli(str(tmp_path), "--output", str(tmp_path / "shards"), "--engine", "ray", "--encoding", "cp1252")
    assert result.exit_code == 2 and "--encoding is for the local engine" in result.stderr
