"""``scicls annotate --engine ray``: a local Ray with two CPUs, two actors, compared record by record
with the single-machine command; an actor killed mid-run; a driver killed mid-run, then resumed."""
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import ray  # the set-up (make) installs the ray extra: these tests always run

from cli_corpus import MIXED_EXPECTED, write_mixed_folder, write_records
from spacy_scicls.distributed import EngineError, ManifestError, annotate, read_records

REPO = Path(__file__).resolve().parents[1]
OBJECT_STORE_BYTES = 200 * 1024**2


@pytest.fixture(scope="module")
def ray_cluster():
    """A local Ray with two CPUs (the tests' two actors), shut down after the module."""
    ray.init(num_cpus=2, object_store_memory=OBJECT_STORE_BYTES, include_dashboard=False, log_to_driver=False)
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


def single_machine(inputs, output: Path, pipeline: Path, batch_size: int) -> None:
    """The single-machine command, as a user runs it, on one thread as each actor (torch's and
    BLAS's thread counts change the last bits of a float); in a subprocess, so that this module
    leaves the test process's thread settings alone."""
    cmd = [sys.executable, "-m", "spacy_scicls", "annotate", *map(str, inputs), "--output", str(output),
           "--model", str(pipeline), "--batch-size", str(batch_size), "--threads", "1", "-q"]
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1, proc.stderr  # finished, with failed records


@pytest.fixture(scope="module")
def pipeline_dir(trained, tmp_path_factory) -> Path:
    nlp, _, _ = trained
    path = tmp_path_factory.mktemp("ray") / "pipeline"
    nlp.to_disk(path)
    return path


@pytest.fixture(scope="module")
def records_300(tmp_path_factory, pipeline_dir):
    """300 JSONL records and the single-machine command's output for them (batches of 16)."""
    folder = tmp_path_factory.mktemp("records")
    records = folder / "records.jsonl"
    ids = write_records(records, 300)
    reference = folder / "reference.jsonl"
    single_machine([records], reference, pipeline_dir, 16)
    return records, ids, reference


def shard_bytes(folder: Path) -> bytes:
    """The JSONL shards of an output folder, joined in the manifest's order."""
    manifest = json.loads((folder / "manifest.json").read_text())
    return b"".join((folder / s["file"]).read_bytes() for s in manifest["shards"])


def read_jsonl(path: Path) -> list:
    return [json.loads(line) for line in path.read_text(encoding="utf8").splitlines()]


def test_mixed_corpus_on_two_actors_equals_the_single_machine_command(ray_cluster, pipeline_dir, tmp_path):
    folder = write_mixed_folder(tmp_path / "mixed")
    single = tmp_path / "single.jsonl"
    single_machine([folder], single, pipeline_dir, 4)
    # Without an output folder the Python function returns the records, in input order.
    records = annotate([str(folder)], model=str(pipeline_dir), actors=2, batch_size=4, shard_size=8)
    assert [r["id"] for r in records] == [rid for rid, _ in MIXED_EXPECTED]
    assert records == read_jsonl(single)  # record by record: every format, every error record


def test_parquet_records_on_two_actors_as_parquet_shards(ray_cluster, pipeline_dir, records_300, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    records, ids, reference = records_300
    # The JSONL records as a Parquet file (several row groups), annotated into Parquet shards.
    table = pa.Table.from_pylist([json.loads(line) for line in records.read_text().splitlines()])
    parquet_in = tmp_path / "records.parquet"
    pq.write_table(table, parquet_in, row_group_size=50)
    out = tmp_path / "out"
    summary = annotate(
        [str(parquet_in)], out, model=str(pipeline_dir), actors=2, batch_size=16, shard_size=32, shard_format="parquet"
    )
    assert summary.written == 300 and summary.failed == sum(1 for i in range(300) if i % 97 == 13)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["complete"] and manifest["n_records"] == 300
    assert [s["records"] for s in manifest["shards"]] == [32] * 9 + [12]
    assert sorted(p.name for p in out.iterdir()) == [".lock", "manifest.json"] + [f"shard-{i:06d}.parquet" for i in range(10)]
    assert list(read_records(out)) == read_jsonl(reference)


def _cmdline(pid: str) -> bytes:
    try:
        return (Path("/proc") / pid / "cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return b""


def _annotator_pids(gcs_address: str) -> list:
    """Processes of this cluster's Ray Data actors that run ShardAnnotator: their title names the
    class, and their parent is the raylet of the cluster at ``gcs_address``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or b"ShardAnnotator" not in _cmdline(entry.name):
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        parent = next((line.split()[1] for line in status.splitlines() if line.startswith("PPid:")), "")
        if f"--gcs-address={gcs_address}".encode() in _cmdline(parent):
            pids.append(int(entry.name))
    return pids


def test_an_actor_killed_mid_run_loses_nothing(ray_cluster, pipeline_dir, records_300, tmp_path):
    records, ids, reference = records_300
    out = tmp_path / "out"
    killed = []

    def kill_one_actor_after_the_first_shard():
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not killed:
            pids = _annotator_pids(ray_cluster) if list(out.glob("shard-*.jsonl")) else []
            if pids:
                pid = pids[0]
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            time.sleep(0.05)

    killer = threading.Thread(target=kill_one_actor_after_the_first_shard, daemon=True)
    killer.start()
    summary = annotate([str(records)], out, model=str(pipeline_dir), actors=2, batch_size=16, shard_size=16)
    killer.join(timeout=5)
    assert killed, "no actor was killed: the run ended first"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["complete"]
    # Ray restarted the actor and ran its shards again: every record once, as the single machine wrote it.
    assert summary.written == 300
    assert shard_bytes(out) == reference.read_bytes()


def test_a_killed_run_resumes_to_the_uninterrupted_output(ray_cluster, pipeline_dir, records_300, tmp_path):
    records, ids, reference = records_300
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [
        sys.executable, "-m", "spacy_scicls", "annotate", str(records), "--output", str(out),
        "--model", str(pipeline_dir), "--engine", "ray", "--address", ray_cluster, "--actors", "2",
        "--batch-size", "16", "--shard-size", "16", "-q",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while proc.poll() is None and time.monotonic() < deadline and len(list(out.glob("shard-*.jsonl"))) < 3:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)  # the driver dies: its actors go with it
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()
    done = sorted(p.name for p in out.glob("shard-*.jsonl"))
    manifest = json.loads((out / "manifest.json").read_text())
    assert not manifest["complete"] and 3 <= len(done) < len(manifest["shards"])
    before = {name: (out / name).read_bytes() for name in done}

    # A resume that would change records is refused before anything is written.
    with pytest.raises(ManifestError, match="include_text"):
        annotate([str(records)], out, model=str(pipeline_dir), actors=2, batch_size=16, shard_size=16, include_text=False, resume=True)
    with pytest.raises(ManifestError, match="exists"):
        annotate([str(records)], out, model=str(pipeline_dir), batch_size=16, shard_size=16)
    assert sorted(p.name for p in out.glob("shard-*.jsonl")) == done

    summary = annotate([str(records)], out, model=str(pipeline_dir), actors=2, batch_size=16, shard_size=16, resume=True)
    assert summary.skipped == 16 * len(done) and summary.written == 300 - summary.skipped
    assert all((out / name).read_bytes() == data for name, data in before.items())  # finished shards untouched
    assert shard_bytes(out) == reference.read_bytes()


def test_options_and_pipelines_that_cannot_run_are_refused(ray_cluster, pipeline_dir, records_300, tmp_path):
    import shutil

    records, _, _ = records_300
    with pytest.raises(EngineError, match="multiple of --batch-size"):
        annotate([str(records)], tmp_path / "a", model=str(pipeline_dir), batch_size=16, shard_size=24)
    with pytest.raises(ManifestError, match="cannot find pipeline"):
        annotate([str(records)], tmp_path / "b", model=str(tmp_path / "no-such-pipeline"))
    # A pipeline that the nodes cannot load stops the run with the node's reason, not a hang.
    broken = tmp_path / "broken"
    shutil.copytree(pipeline_dir, broken)
    (broken / "config.cfg").write_text("[nlp]\nlang = \"xx-none\"\n")
    with pytest.raises(EngineError, match="cannot load pipeline"):
        annotate([str(records)], tmp_path / "c", model=str(broken), batch_size=16, shard_size=16)


def test_the_command_says_what_to_install_without_ray(tmp_path):
    script = (
        "import sys\n"
        "sys.modules['ray'] = None  # as if Ray were not installed\n"
        "from spacy_scicls.cli import main\n"
        "main(sys.argv[1:])\n"
    )
    (tmp_path / "in.txt").write_text("Drought in Europe.")
    proc = subprocess.run(
        [sys.executable, "-c", script, "annotate", str(tmp_path / "in.txt"), "--output", str(tmp_path / "out"), "--engine", "ray"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert 'pip install "spacy_scicls[ray]"' in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_second_run_on_the_same_folder_is_refused(tmp_path):
    from spacy_scicls.distributed.engine import OutputFolder

    (tmp_path / "in.txt").write_text("Drought in Europe.")
    first = OutputFolder(tmp_path / "out")
    first.lock()
    try:
        with pytest.raises(ManifestError, match="another run is writing"):
            annotate([str(tmp_path / "in.txt")], tmp_path / "out", model="en_scicls_default", resume=True)
    finally:
        first.unlock()
    assert [p.name for p in (tmp_path / "out").iterdir()] == [".lock"]  # nothing written


def test_a_lone_surrogate_in_an_id_is_escaped_so_the_shard_stays_utf8():
    from spacy_scicls.cli.outputs import error_record
    from spacy_scicls.distributed.actor import _LinesWriter

    writer = _LinesWriter()
    writer.write_batch([(error_record("a\udc80", "empty text"), None), (error_record("b", "empty text"), None)])
    lines = b"".join(writer.lines).decode("utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["a\udc80", "b"]
    assert "\\udc80" in lines[0] and lines[1] == json.dumps(error_record("b", "empty text"), ensure_ascii=False)


def test_ray_options_need_the_ray_engine_and_a_folder(tmp_path):
    (tmp_path / "in.txt").write_text("Drought in Europe.")
    base = [sys.executable, "-m", "spacy_scicls", "annotate", str(tmp_path / "in.txt")]
    local = subprocess.run(base + ["--output", str(tmp_path / "o.jsonl"), "--actors", "2"], capture_output=True, text=True, timeout=120)
    assert local.returncode == 2 and "are for --engine ray" in local.stderr
    to_file = subprocess.run(base + ["--output", str(tmp_path / "o.jsonl"), "--engine", "ray"], capture_output=True, text=True, timeout=120)
    assert to_file.returncode == 2 and "is a folder of shard files" in to_file.stderr
    assert not (tmp_path / "o.jsonl").exists()


def test_a_stopped_runs_partial_files_are_removed_once_each(tmp_path):
    # A run killed while writing leaves a shard's and the manifest's ".tmp" files; a resume removes
    # them (and only them) before it starts, whichever of them there are.
    from spacy_scicls.distributed.engine import OutputFolder

    out = tmp_path / "out"
    out.mkdir()
    for name in ["shard-000003.jsonl.tmp", "manifest.json.tmp", "shard-000001.jsonl", "notes.txt"]:
        (out / name).write_text("x")
    OutputFolder(out).remove_partial_files()
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt", "shard-000001.jsonl"]
