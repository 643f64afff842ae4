"""``scicls annotate`` never loses or alters a record: refusals change nothing, odd inputs give error
records, a full disk or an unwritable folder gives a message, and a resume only continues a run that
would write the same records. Blank pipelines, in process (the signals are in test_cli_signals.py)."""
import errno
import json
import os
from pathlib import Path

import pytest
import spacy
from typer.testing import CliRunner

from cli_slow_pipeline import save_slow_pipeline
from spacy_scicls.cli import app, run_annotate
from spacy_scicls.cli.inputs import iter_records
from spacy_scicls.cli.lock import OutputLock, OutputLocked, lock_path
from spacy_scicls.cli.manifest import ManifestMismatch, manifest_path


@pytest.fixture(scope="module")
def pipe(tmp_path_factory) -> Path:
    return save_slow_pipeline(tmp_path_factory.mktemp("slow") / "pipe")


def write_jsonl(path: Path, n: int, start: int = 0) -> Path:
    with path.open("w", encoding="utf8") as file:
        for i in range(start, start + n):
            text = "" if i % 37 == 5 else f"Record {i} about drought and rainfall " + "word " * (i % 11)
            file.write(json.dumps({"id": f"r{i}", "text": text}) + "\n")
    return path


def lines(path: Path) -> list:
    return path.read_bytes().splitlines(keepends=True)


def cli(*args: str):
    return CliRunner().invoke(app, ["annotate", *args])


# --- 1. a refused resume changes nothing ---------------------------------------------------


def test_a_refused_resume_leaves_a_complete_output_as_it_was(pipe, tmp_path):
    inputs = write_jsonl(tmp_path / "in.jsonl", 300)
    out = tmp_path / "out.jsonl"
    assert run_annotate([str(inputs)], out, model=str(pipe), batch_size=32, quiet=True) == 1
    before = out.read_bytes()
    assert len(lines(out)) == 300
    other = write_jsonl(tmp_path / "other.jsonl", 300, start=1000)
    result = cli(str(other), "--output", str(out), "--model", str(pipe), "--resume", "--batch-size", "32", "-q")
    assert result.exit_code == 2
    assert "inputs" in result.output  # the manifest names the difference
    assert out.read_bytes() == before
    # The same inputs under another name pass the manifest, but not the ids: still nothing changes.
    os.replace(other, inputs)
    result = cli(str(inputs), "--output", str(out), "--model", str(pipe), "--resume", "--batch-size", "32", "-q")
    assert result.exit_code == 2 and "made from other inputs" in result.output
    assert out.read_bytes() == before


def test_a_refused_resume_keeps_a_torn_tail_and_a_partial_batch(pipe, tmp_path):
    inputs = write_jsonl(tmp_path / "in.jsonl", 50)
    out = tmp_path / "out.jsonl"
    assert run_annotate([str(inputs)], out, model=str(pipe), batch_size=8, quiet=True) == 1
    with out.open("ab") as file:
        file.write(b'{"id": "r50", "te')
    before = out.read_bytes()
    with pytest.raises(ManifestMismatch):
        run_annotate([str(inputs)], out, model=str(pipe), batch_size=8, resume=True, include_text=False, quiet=True)
    assert out.read_bytes() == before


# --- 2. a resume with another pipeline or options is refused, naming the difference --------


@pytest.mark.parametrize(
    "change,named",
    [
        ({"model": "blank"}, "pipeline name"),
        ({"include_text": False}, "option include_text: true in the output, false now"),
        ({"max_chars": 500}, "option max_chars: 1000000 in the output, 500 now"),
        ({"batch_size": 16}, "option batch_size: 8 in the output, 16 now"),
    ],
)
def test_a_resume_with_another_pipeline_or_options_is_refused(pipe, tmp_path, change, named):
    inputs = write_jsonl(tmp_path / "in.jsonl", 40)
    out = tmp_path / "out.jsonl"
    options = dict(model=str(pipe), batch_size=8, quiet=True)
    assert run_annotate([str(inputs)], out, **options) == 1
    reference = out.read_bytes()
    kept = b"".join(lines(out)[:16])
    out.write_bytes(kept)  # as if interrupted after two batches
    if change.get("model") == "blank":
        spacy.blank("en").to_disk(tmp_path / "blank")
        change = {"model": str(tmp_path / "blank")}
    with pytest.raises(ManifestMismatch, match=named):
        run_annotate([str(inputs)], out, resume=True, **{**options, **change})
    assert out.read_bytes() == kept
    assert run_annotate([str(inputs)], out, resume=True, **options) == 0  # the failed record was written before
    assert out.read_bytes() == reference


def test_the_manifest_says_what_made_the_output(pipe, tmp_path):
    inputs = write_jsonl(tmp_path / "in.jsonl", 3)
    out = tmp_path / "out.csv"
    assert run_annotate([str(inputs)], out, model=str(pipe), batch_size=4, quiet=True) == 0
    manifest = json.loads(manifest_path(out).read_text(encoding="utf8"))
    assert manifest["pipeline"]["name"] == "en_slow_test"
    assert manifest["pipeline"]["components"].keys() == {"cli_test_slow"}
    assert manifest["options"]["batch_size"] == 4 and manifest["output_format"] == "csv"
    assert manifest["inputs"] == [str(inputs.resolve())]
    assert manifest["software"]["spacy"] == spacy.__version__
    # An output without a manifest is not continued: nothing says what made it.
    manifest_path(out).unlink()
    result = cli(str(inputs), "--output", str(out), "--model", str(pipe), "--resume", "-q", "--batch-size", "4")
    assert result.exit_code == 2 and "has no out.csv.manifest.json" in result.output


# --- 3. one run per output ------------------------------------------------------------------


def test_a_locked_output_is_refused_before_anything_is_written(pipe, tmp_path):
    inputs = write_jsonl(tmp_path / "in.jsonl", 5)
    out = tmp_path / "out.jsonl"
    with OutputLock(out):
        with pytest.raises(OutputLocked, match=f"being written by another run \\(process {os.getpid()}\\)"):
            run_annotate([str(inputs)], out, model=str(pipe), quiet=True)
        result = cli(str(inputs), "--output", str(out), "--model", str(pipe), "-q")
        assert result.exit_code == 2 and "being written by another run" in result.output
    assert not out.exists() and not lock_path(out).exists()
    # A lock file left by a run that was killed holds no lock: the next run takes it.
    lock_path(out).write_text("999999\n", encoding="ascii")
    assert run_annotate([str(inputs)], out, model=str(pipe), quiet=True) == 0
    assert len(lines(out)) == 5 and not lock_path(out).exists()


# --- 4. a lone surrogate -------------------------------------------------------------------


def test_a_lone_surrogate_in_an_id_is_written_and_resumed_exactly(pipe, tmp_path):
    inputs = tmp_path / "in.jsonl"
    inputs.write_text(
        '{"id": "a\\udc80", "text": "one text"}\n{"id": "b", "text": "two \\ud800 text"}\n'
        '{"id": "c", "text": "three"}\n',
        encoding="ascii",
    )
    out = tmp_path / "out.jsonl"
    assert run_annotate([str(inputs)], out, model=str(pipe), batch_size=2, quiet=True) == 1
    records = [json.loads(line) for line in lines(out)]
    assert [r["id"] for r in records] == ["a\udc80", "b", "c"]
    assert records[0]["error"] is None and records[0]["cats"]["test/chars"] == 8.0
    assert records[1]["error"] == "invalid Unicode: the text holds a lone surrogate (\\ud800)"
    out.read_bytes().decode("utf8")  # every line is UTF-8
    reference = out.read_bytes()
    out.write_bytes(b"".join(lines(out)[:2]))
    assert run_annotate([str(inputs)], out, model=str(pipe), batch_size=2, resume=True, quiet=True) == 0
    assert out.read_bytes() == reference
    csv_out = tmp_path / "out.csv"
    assert run_annotate([str(inputs)], csv_out, model=str(pipe), batch_size=2, quiet=True) == 1
    assert csv_out.read_text(encoding="utf8").splitlines()[1] == "a\\udc80,"


# --- 5. deep nesting -----------------------------------------------------------------------


def test_deeply_nested_json_is_one_error_record(pipe, tmp_path):
    deep = "[" * 100_000 + "]" * 100_000
    inputs = tmp_path / "in.jsonl"
    inputs.write_text(deep + "\n" + json.dumps({"id": "ok", "text": "fine"}) + "\n" + deep + "\n", encoding="utf8")
    out = tmp_path / "out.jsonl"
    assert run_annotate([str(inputs)], out, model=str(pipe), quiet=True) == 1
    records = [json.loads(line) for line in lines(out)]
    assert [r["id"] for r in records] == ["in.jsonl:1", "ok", "in.jsonl:3"]
    assert records[0]["error"] == records[2]["error"] == "malformed JSON: nested too deeply to read"
    single = tmp_path / "one.json"
    single.write_text('{"a": ' + deep + "}", encoding="utf8")
    (record,) = iter_records([str(single)])
    with pytest.raises(ValueError, match="nested too deeply"):
        record.load(spacy.blank("en"))


def test_read_paper_refuses_deeply_nested_xml_with_a_reader_error():
    from spacy_scicls.readers import ReaderError, read_paper

    xml = "<article><body><sec><title>Intro</title>" + "<p>" * 5000 + "text" + "</p>" * 5000 + "</sec></body></article>"
    with pytest.raises(ReaderError, match="deep.xml: .*nested too deeply"):
        read_paper(xml.encode("utf8"), spacy.blank("en"), format="jats", name="deep.xml")


# --- 6. a .spacy run killed while it cleans up ------------------------------------------------


def test_a_docbin_run_killed_while_removing_its_parts_resumes(pipe, tmp_path, monkeypatch):
    from spacy.tokens import DocBin

    import spacy_scicls.cli.outputs as outputs

    inputs = write_jsonl(tmp_path / "in.jsonl", 20)
    reference = tmp_path / "reference.spacy"
    assert run_annotate([str(inputs)], reference, model=str(pipe), batch_size=4, quiet=True) == 1
    out = tmp_path / "out.spacy"

    def killed_while_removing(path, *args, **kwargs):
        (Path(path) / "part-000000.spacy").unlink()  # the first files go, then the run dies
        raise KeyboardInterrupt

    monkeypatch.setattr(outputs.shutil, "rmtree", killed_while_removing)
    with pytest.raises(KeyboardInterrupt):
        run_annotate([str(inputs)], out, model=str(pipe), batch_size=4, quiet=True)
    monkeypatch.undo()
    finished = out.read_bytes()
    assert finished == reference.read_bytes()
    # Nothing to add (exit 1 as the run that made it: the output holds an error record); the finished
    # output stays, the leftovers go.
    assert run_annotate([str(inputs)], out, model=str(pipe), batch_size=4, resume=True, quiet=True) == 1
    assert out.read_bytes() == finished
    assert not out.with_name("out.spacy.parts").exists()
    docs = list(DocBin().from_disk(out).get_docs(spacy.blank("en").vocab))
    assert [d.user_data["scicls_id"] for d in docs] == [f"r{i}" for i in range(20)]


def test_a_finished_docbin_output_is_never_moved_away_by_a_resume(pipe, tmp_path):
    inputs = write_jsonl(tmp_path / "in.jsonl", 10)
    out = tmp_path / "out.spacy"
    assert run_annotate([str(inputs)], out, model=str(pipe), batch_size=4, quiet=True) == 1
    before = out.read_bytes()
    more = write_jsonl(tmp_path / "more.jsonl", 5, start=500)
    with pytest.raises(ManifestMismatch):
        run_annotate([str(inputs), str(more)], out, model=str(pipe), batch_size=4, resume=True, quiet=True)
    assert out.read_bytes() == before


# --- 8. unreadable inputs, unwritable folders, a full disk --------------------------------------


def test_an_unreadable_csv_is_an_error_record_not_a_traceback(pipe, tmp_path, monkeypatch):
    good = tmp_path / "a.csv"
    good.write_text("id,text\nx1,first text\n", encoding="utf8")
    bad = tmp_path / "b.csv"
    bad.write_text("id,text\ny1,never read\n", encoding="utf8")
    real_open = Path.open

    def refuse(self, *args, **kwargs):
        if self.name == "b.csv":
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refuse)
    out = tmp_path / "out.jsonl"
    result = cli(str(good), str(bad), "--output", str(out), "--model", str(pipe), "-q")
    assert result.exit_code == 1, result.output
    records = [json.loads(line) for line in lines(out)]
    assert [(r["id"], r["error"]) for r in records] == [("x1", None), ("b.csv", "cannot read file: Permission denied")]


def test_an_output_folder_that_cannot_be_written_is_found_before_the_pipeline_loads(tmp_path, monkeypatch):
    inputs = write_jsonl(tmp_path / "in.jsonl", 2)
    (tmp_path / "a_file").write_text("", encoding="utf8")
    result = cli(str(inputs), "--output", str(tmp_path / "a_file" / "out.jsonl"), "--model", "no_such_pipeline")
    assert result.exit_code == 2
    assert "cannot write to" in result.output and "no_such_pipeline" not in result.output
    import spacy_scicls.cli.lock as lock

    real_open = os.open

    def read_only(path, flags, *args):
        if str(path).endswith(".lock"):
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_open(path, flags, *args)

    monkeypatch.setattr(lock.os, "open", read_only)
    result = cli(str(inputs), "--output", str(tmp_path / "out.jsonl"), "--model", "no_such_pipeline")
    assert result.exit_code == 2
    assert f"cannot write to {tmp_path}: Permission denied" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_full_disk_stops_the_run_with_a_message_and_it_resumes(pipe, tmp_path, monkeypatch):
    import spacy_scicls.cli.outputs as outputs

    inputs = write_jsonl(tmp_path / "in.jsonl", 100)
    reference = tmp_path / "reference.jsonl"
    assert run_annotate([str(inputs)], reference, model=str(pipe), batch_size=8, quiet=True) == 1
    out = tmp_path / "out.jsonl"
    real_write = os.write
    calls = {"n": 0}

    def fills_up(fd, data):
        calls["n"] += bytes(data[:6]) == b'{"id":'  # the output's batches (os is shared: the lock writes too)
        if calls["n"] == 5:  # the fifth batch: half of it fits, then the disk is full
            real_write(fd, bytes(data[: len(data) // 2]))
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(outputs.os, "write", fills_up)
    result = cli(str(inputs), "--output", str(out), "--model", str(pipe), "--batch-size", "8", "-q")
    monkeypatch.undo()
    assert result.exit_code == 2, result.output
    assert "No space left on device" in result.output and "--resume" in result.output
    assert out.read_bytes() == b"".join(lines(reference)[:32])  # four whole batches, no torn line
    assert run_annotate([str(inputs)], out, model=str(pipe), batch_size=8, resume=True, quiet=True) == 1
    assert out.read_bytes() == reference.read_bytes()


# --- 9. read_paper and --max-chars -------------------------------------------------------------


def test_read_paper_of_a_missing_file_and_errors_that_name_the_paper(tmp_path):
    from spacy_scicls.readers import ReaderError, read_paper

    nlp = spacy.blank("en")
    with pytest.raises(ReaderError, match="missing.xml: cannot be read \\(No such file or directory\\)"):
        read_paper(str(tmp_path / "missing.xml"), nlp)  # a str naming a file that is not there
    with pytest.raises(ReaderError, match="missing.xml: cannot be read"):
        read_paper(tmp_path / "missing.xml", nlp)
    assert read_paper("A paper in one line, not a file name.", nlp, format="text").text.startswith("A paper")
    nlp.max_length = 100
    with pytest.raises(ReaderError, match="long.txt: .*E088"):
        read_paper(("word " * 50).encode("utf8"), nlp, format="text", name="long.txt")
    md = "# Title\n\n## Introduction\n\n" + "word " * 50
    with pytest.raises(ReaderError, match="long.md: .*E088"):
        read_paper(md.encode("utf8"), nlp, format="markdown", name="long.md")


def test_max_chars_above_the_pipelines_max_length_annotates_the_long_records(pipe, tmp_path):
    # max_length is not saved with a pipeline: every loaded pipeline has spaCy's 1,000,000.
    assert spacy.load(pipe).max_length == 1_000_000
    inputs = tmp_path / "in.jsonl"
    long_text = "word " * 220_000
    inputs.write_text(
        json.dumps({"id": "long", "text": long_text}) + "\n" + json.dumps({"id": "short", "text": "a b"}) + "\n",
        encoding="utf8",
    )
    out = tmp_path / "out.jsonl"
    assert run_annotate([str(inputs)], out, model=str(pipe), max_chars=1_200_000, include_text=False, quiet=True) == 0
    records = [json.loads(line) for line in lines(out)]
    assert [r["error"] for r in records] == [None, None]
    assert records[0]["cats"]["test/chars"] == len(long_text.strip())


# --- 10. what a folder holds that cannot be read ------------------------------------------------


def test_links_and_unreadable_sub_folders_give_error_records(pipe, tmp_path, monkeypatch):
    folder = tmp_path / "papers"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("first paper", encoding="utf8")
    (folder / "sub" / "b.txt").write_text("second paper", encoding="utf8")
    (folder / "sub" / "loop").symlink_to("..")  # a folder that contains itself
    (folder / "c_broken.txt").symlink_to(folder / "nowhere.txt")
    (folder / "d_self.txt").symlink_to(folder / "d_self.txt")
    (folder / "e_locked").mkdir()
    (folder / "e_locked" / "hidden.txt").write_text("unreachable", encoding="utf8")
    (folder / "f_linked").symlink_to(folder / "sub")  # a link to a folder that is not a loop: read
    real_scandir = os.scandir

    def locked(path):
        if Path(path).name == "e_locked":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_scandir(path)

    import spacy_scicls.cli.inputs as inputs_module

    monkeypatch.setattr(inputs_module.os, "scandir", locked)
    real_listdir = os.listdir
    monkeypatch.setattr(
        inputs_module.os,
        "listdir",
        lambda path: locked(path) and real_listdir(path),
    )
    out = tmp_path / "out.jsonl"
    assert run_annotate([str(folder)], out, model=str(pipe), quiet=True) == 1
    got = [(r["id"], r["error"]) for r in map(json.loads, lines(out))]
    assert got == [
        ("a.txt", None),
        ("c_broken.txt", "cannot read file: No such file or directory"),
        ("d_self.txt", "cannot read file: Too many levels of symbolic links"),
        ("e_locked", "cannot read folder: Permission denied"),
        ("f_linked/b.txt", None),
        ("f_linked/loop", "symlink loop: the folder is a link to one of its own parent folders"),
        ("sub/b.txt", None),
        ("sub/loop", "symlink loop: the folder is a link to one of its own parent folders"),
    ]


# --- 12. .spacy output without the transformer's output ---------------------------------------


def test_docbin_output_leaves_trf_data_out_unless_asked(trained, tmp_path):
    from spacy.tokens import DocBin

    nlp, _, _ = trained
    nlp.to_disk(tmp_path / "pipeline")
    inputs = write_jsonl(tmp_path / "in.jsonl", 4)
    small, large = tmp_path / "small.spacy", tmp_path / "large.spacy"
    options = dict(model=str(tmp_path / "pipeline"), batch_size=4, quiet=True)
    assert run_annotate([str(inputs)], small, **options) == 0
    assert run_annotate([str(inputs)], large, keep_trf_data=True, **options) == 0
    key = ("._.", "trf_data", None, None)
    small_docs = list(DocBin().from_disk(small).get_docs(nlp.vocab))
    large_docs = list(DocBin().from_disk(large).get_docs(nlp.vocab))
    assert [d.user_data["scicls_id"] for d in small_docs] == ["r0", "r1", "r2", "r3"]
    assert all(key not in d.user_data for d in small_docs)
    assert all(key in d.user_data for d in large_docs)
    assert [d.cats for d in small_docs] == [d.cats for d in large_docs]
    assert small.stat().st_size * 5 < large.stat().st_size
    with pytest.raises(ManifestMismatch, match="option keep_trf_data"):
        run_annotate([str(inputs)], small, resume=True, keep_trf_data=True, **options)
