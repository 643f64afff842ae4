"""What a user already has is never altered or mixed: ``scicls annotate --resume`` on an output that is
already finished, or on one made by another way of reading records (nothing is redone, nothing is
mixed, a refusal touches nothing), and a disk that fills up, for real (a file-size limit). Blank
pipelines, in process and in subprocesses."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli_slow_pipeline import save_slow_pipeline
from spacy_scicls.cli import app, run_annotate


@pytest.fixture(scope="module")
def pipe(tmp_path_factory) -> Path:
    return save_slow_pipeline(tmp_path_factory.mktemp("slow") / "pipe")


def write_jsonl(path: Path, n: int, last_empty: bool = False) -> Path:
    with path.open("w", encoding="utf8") as file:
        for i in range(n):
            text = "" if (last_empty and i == n - 1) else f"Record {i} about drought and rainfall"
            file.write(json.dumps({"id": f"r{i}", "text": text}) + "\n")
    return path


def cli(*args: str):
    return CliRunner().invoke(app, ["annotate", *args])


def stamp(path: Path) -> tuple:
    info = path.stat()
    return info.st_ino, info.st_mtime_ns, info.st_size


# --- a finished output: nothing to do ------------------------------------------------------


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".spacy"])
@pytest.mark.parametrize("last_empty", [False, True])
def test_a_resume_of_a_finished_output_does_nothing_and_says_so(pipe, tmp_path, suffix, last_empty):
    # 10 records in batches of 4: the last batch holds 2 (the second an error record when last_empty).
    inputs = write_jsonl(tmp_path / "in.jsonl", 10, last_empty=last_empty)
    out = tmp_path / f"out{suffix}"
    args = [str(inputs), "--output", str(out), "--model", str(pipe), "--batch-size", "4", "-q"]
    assert cli(*args).exit_code == (1 if last_empty else 0)
    before, when = out.read_bytes(), stamp(out)
    result = cli(*args, "--resume")
    assert result.exit_code == (1 if last_empty else 0), result.stderr  # as the run that made it
    assert "already holds a record for each of the 10 input records: nothing to do" in result.stderr
    assert ("failed records in the output: empty text (1)" in result.stderr) == last_empty
    assert out.read_bytes() == before
    assert stamp(out) == when  # not rewritten: the last partial batch was not done again


def test_a_finished_jsonl_output_with_a_torn_tail_loses_only_the_tail(pipe, tmp_path):
    inputs = write_jsonl(tmp_path / "in.jsonl", 10)
    out = tmp_path / "out.jsonl"
    assert run_annotate([str(inputs)], out, model=str(pipe), batch_size=4, quiet=True) == 0
    reference = out.read_bytes()
    with out.open("ab") as file:
        file.write(b'{"id": "r1')  # something appended by hand, cut short
    assert run_annotate([str(inputs)], out, model=str(pipe), batch_size=4, resume=True, quiet=True) == 0
    assert out.read_bytes() == reference


def test_a_resume_of_a_partial_last_batch_that_is_not_the_end_redoes_it(pipe, tmp_path):
    inputs = write_jsonl(tmp_path / "in.jsonl", 10)
    out = tmp_path / "out.jsonl"
    assert run_annotate([str(inputs)], out, model=str(pipe), batch_size=4, quiet=True) == 0
    reference = out.read_bytes()
    out.write_bytes(b"".join(reference.splitlines(keepends=True)[:6]))  # a batch written in parts
    result = cli(str(inputs), "--output", str(out), "--model", str(pipe), "--batch-size", "4", "-q", "--resume")
    assert result.exit_code == 0 and "nothing to do" not in result.stderr
    assert out.read_bytes() == reference


def test_a_resume_refuses_an_output_whose_partial_batch_holds_other_records(pipe, tmp_path):
    inputs = write_jsonl(tmp_path / "in.jsonl", 10)
    out = tmp_path / "out.jsonl"
    assert run_annotate([str(inputs)], out, model=str(pipe), batch_size=4, quiet=True) == 0
    records = out.read_bytes().splitlines(keepends=True)
    records[9] = records[9].replace(b'"r9"', b'"x9"')
    out.write_bytes(b"".join(records))
    before = out.read_bytes()
    result = cli(str(inputs), "--output", str(out), "--model", str(pipe), "--batch-size", "4", "-q", "--resume")
    assert result.exit_code == 2 and "record 10 of the output has id 'x9'" in result.stderr
    assert out.read_bytes() == before


def test_a_docbin_run_stopped_before_joining_its_parts_is_joined_without_annotating(pipe, tmp_path, monkeypatch):
    import spacy_scicls.cli.outputs as outputs

    inputs = write_jsonl(tmp_path / "in.jsonl", 10)
    reference = tmp_path / "reference.spacy"
    assert run_annotate([str(inputs)], reference, model=str(pipe), batch_size=4, quiet=True) == 0
    out = tmp_path / "out.spacy"

    def stopped(self, complete=True):
        raise KeyboardInterrupt  # every part written, none joined

    monkeypatch.setattr(outputs.DocBinWriter, "close", stopped)
    with pytest.raises(KeyboardInterrupt):
        run_annotate([str(inputs)], out, model=str(pipe), batch_size=4, quiet=True)
    monkeypatch.undo()
    assert not out.exists() and len(list((tmp_path / "out.spacy.parts").glob("part-*"))) == 3
    monkeypatch.setenv("SCICLS_TEST_DELAY", "nan")  # the pipeline would fail if it ran
    result = cli(str(inputs), "--output", str(out), "--model", str(pipe), "--batch-size", "4", "-q", "--resume")
    assert result.exit_code == 0 and "nothing to do" in result.stderr, result.stderr
    assert out.read_bytes() == reference.read_bytes()
    assert not (tmp_path / "out.spacy.parts").exists()


# --- an output whose records were made another way: refused, untouched -----------------------

AWARDS = "doi,title,abstract\n" + "".join(
    f"10.1000/x{i},Award {i} on drought,Rainfall and drought in region {i}.\n" for i in range(12)
)


def test_a_resume_under_another_id_scheme_is_refused_before_a_byte_is_written(pipe, tmp_path, monkeypatch):
    import spacy_scicls.cli.record_fields as record_fields

    inputs = tmp_path / "awards.csv"
    inputs.write_text(AWARDS, encoding="utf8")
    out = tmp_path / "out.jsonl"
    # Made by a version whose id fields did not include doi: ids were <file>:<row>.
    old_names = tuple(n for n in record_fields.ID_NAMES if n not in ("doi", "pmid", "awardnumber"))
    monkeypatch.setattr(record_fields, "ID_NAMES", old_names)
    assert run_annotate([str(inputs)], out, model=str(pipe), batch_size=4, quiet=True) == 0
    monkeypatch.undo()
    assert json.loads(out.read_bytes().splitlines()[0])["id"] == "awards.csv:1"
    out.write_bytes(b"".join(out.read_bytes().splitlines(keepends=True)[:6]))  # interrupted mid-batch
    before, when = out.read_bytes(), stamp(out)
    result = cli(str(inputs), "--output", str(out), "--model", str(pipe), "--batch-size", "4", "-q", "--resume")
    assert result.exit_code == 2
    assert "the field names that give a record its text and id differ" in result.stderr
    assert "columns of awards.csv: text from 'title' + 'abstract', id from <file>:<row> in the output, " \
           "text from 'title' + 'abstract', id from 'doi' now" in result.stderr
    assert out.read_bytes() == before and stamp(out) == when
    assert run_annotate([str(inputs)], out, model=str(pipe), batch_size=4, overwrite=True, quiet=True) == 0
    assert [json.loads(line)["id"] for line in out.read_bytes().splitlines()][:2] == ["10.1000/x0", "10.1000/x1"]


def test_a_csv_exported_again_with_an_id_column_is_refused(pipe, tmp_path):
    inputs = tmp_path / "awards.csv"
    inputs.write_text(AWARDS.replace("doi,", "ref,", 1), encoding="utf8")
    out = tmp_path / "out.csv"
    assert run_annotate([str(inputs)], out, model=str(pipe), batch_size=4, quiet=True) == 0
    out.write_bytes(b"".join(out.read_bytes().splitlines(keepends=True)[:5]))  # header and four rows
    before = out.read_bytes()
    inputs.write_text(AWARDS, encoding="utf8")  # the same file, now with a doi column
    result = cli(str(inputs), "--output", str(out), "--model", str(pipe), "--batch-size", "4", "-q", "--resume")
    assert result.exit_code == 2
    assert "id from <file>:<row> in the output, text from 'title' + 'abstract', id from 'doi' now" in result.stderr
    assert out.read_bytes() == before


def test_an_output_from_before_record_schemas_is_refused(pipe, tmp_path):
    from spacy_scicls.cli.manifest import manifest_path

    inputs = write_jsonl(tmp_path / "in.jsonl", 10)
    out = tmp_path / "out.jsonl"
    assert run_annotate([str(inputs)], out, model=str(pipe), batch_size=4, quiet=True) == 0
    manifest = json.loads(manifest_path(out).read_text(encoding="utf8"))
    assert manifest["records"]["schema"] >= 1 and manifest["records"]["columns"] == {}
    del manifest["records"]  # as an older version wrote it
    manifest_path(out).write_text(json.dumps(manifest), encoding="utf8")
    out.write_bytes(b"".join(out.read_bytes().splitlines(keepends=True)[:4]))
    before = out.read_bytes()
    result = cli(str(inputs), "--output", str(out), "--model", str(pipe), "--batch-size", "4", "-q", "--resume")
    assert result.exit_code == 2 and "record schema: none in the output" in result.stderr
    assert out.read_bytes() == before


# --- a full disk, for real: a file-size limit on the process ------------------------------------

TESTS = Path(__file__).resolve().parent


def run_limited(pipe: Path, inputs: Path, out: Path, limit: int, *extra: str) -> subprocess.CompletedProcess:
    """The command in a process that may not write a file past ``limit`` bytes (EFBIG, as a full disk)."""
    resource = pytest.importorskip("resource")

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS.parent), str(TESTS), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, str(TESTS / "cli_slow_pipeline.py"), "annotate", str(inputs), "--output", str(out),
           "--model", str(pipe), "--batch-size", "8", "-q", *extra]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, preexec_fn=limited, timeout=300)


def test_a_disk_full_before_the_manifest_is_a_message_and_leaves_nothing(pipe, tmp_path):
    inputs = write_jsonl(tmp_path / "in.jsonl", 40)
    out = tmp_path / "out.jsonl"
    done = run_limited(pipe, inputs, out, 300)  # the manifest is larger than 300 bytes
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert f"cannot write {out}.manifest.json: File too large. Nothing was changed" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("out")) == []


def test_a_disk_full_mid_run_keeps_whole_batches_and_the_resume_completes_them(pipe, tmp_path):
    inputs = write_jsonl(tmp_path / "in.jsonl", 200)
    reference = tmp_path / "reference.jsonl"
    assert run_annotate([str(inputs)], reference, model=str(pipe), batch_size=8, quiet=True) == 0
    out = tmp_path / "out.jsonl"
    done = run_limited(pipe, inputs, out, 20_000)
    assert done.returncode == 2 and "File too large" in done.stderr and "--resume" in done.stderr
    kept = out.read_bytes()
    assert 0 < kept.count(b"\n") < 200 and kept.count(b"\n") % 8 == 0
    assert reference.read_bytes().startswith(kept)
    assert run_annotate([str(inputs)], out, model=str(pipe), batch_size=8, resume=True, quiet=True) == 0
    assert out.read_bytes() == reference.read_bytes()


def test_a_sharded_output_from_before_record_schemas_or_with_other_field_names_is_refused():
    from spacy_scicls.cli.manifest import RECORD_SCHEMA, record_rules
    from spacy_scicls.distributed.manifest import differences

    shards = [{"file": "part-00000.jsonl", "first": 0, "records": 2, "ids": "x"}]
    new = {"inputs": ["a.csv"], "options": {}, "records": record_rules(), "shards": shards}
    assert differences(new, new) == []
    older = {k: v for k, v in new.items() if k != "records"}
    assert differences(older, new) == [
        "record schema: none in the output (made by a version that did not record how it made records, "
        f"whose ids may differ), {RECORD_SCHEMA} now"
    ]
    other = {**new, "records": {**record_rules(), "field_names": "0" * 64}}
    assert differences(other, new) == [
        "the field names that give a record its text and id differ (another version of record_fields)"
    ]


# --- --overwrite: the old output goes only when the new run can start -----------------------------


def test_an_overwrite_on_a_full_disk_leaves_the_old_output_as_it_was(pipe, tmp_path):
    from spacy_scicls.cli.manifest import manifest_path

    inputs = write_jsonl(tmp_path / "in.jsonl", 40)
    out = tmp_path / "out.jsonl"
    assert run_annotate([str(inputs)], out, model=str(pipe), batch_size=8, quiet=True) == 0
    before, manifest_before = out.read_bytes(), manifest_path(out).read_bytes()
    done = run_limited(pipe, inputs, out, 300, "--overwrite")  # the new manifest does not fit
    assert done.returncode == 2 and "Nothing was changed" in done.stderr and "Traceback" not in done.stderr
    assert out.read_bytes() == before and manifest_path(out).read_bytes() == manifest_before
    assert not manifest_path(out).with_name("out.jsonl.manifest.json.tmp").exists()


def test_an_overwrite_killed_after_its_manifest_never_leaves_old_parts_under_it(pipe, tmp_path, monkeypatch):
    from spacy.tokens import DocBin
    import spacy

    import spacy_scicls.cli.outputs as outputs

    inputs = write_jsonl(tmp_path / "in.jsonl", 10)
    out = tmp_path / "out.spacy"
    real_close, real_open = outputs.DocBinWriter.close, outputs.DocBinWriter.open

    def stopped(self, complete=True):
        raise KeyboardInterrupt  # every part written, none joined

    monkeypatch.setattr(outputs.DocBinWriter, "close", stopped)
    with pytest.raises(KeyboardInterrupt):  # an unfinished run whose long texts were refused
        run_annotate([str(inputs)], out, model=str(pipe), batch_size=4, max_chars=20, quiet=True)
    monkeypatch.setattr(outputs.DocBinWriter, "close", real_close)

    def killed(self, *, resume, align=1):
        raise KeyboardInterrupt  # the new manifest is in place; the run dies before it writes

    monkeypatch.setattr(outputs.DocBinWriter, "open", killed)
    with pytest.raises(KeyboardInterrupt):
        run_annotate([str(inputs)], out, model=str(pipe), batch_size=4, overwrite=True, quiet=True)
    monkeypatch.setattr(outputs.DocBinWriter, "open", real_open)
    assert run_annotate([str(inputs)], out, model=str(pipe), batch_size=4, resume=True, quiet=True) == 0
    docs = list(DocBin().from_disk(out).get_docs(spacy.blank("en").vocab))
    assert [d.user_data["scicls_error"] for d in docs] == [None] * 10  # none of the old run's records
