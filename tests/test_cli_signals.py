"""``scicls annotate`` stopped by real signals (Ctrl-C, SIGTERM, kill -9), with worker processes, and
two runs on one output: the output is always a prefix of the uninterrupted run's, no worker outlives
its run, and --resume completes the output byte for byte. Subprocesses on a slow blank pipeline."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli_slow_pipeline import DELAY_ENV, save_slow_pipeline
from spacy_scicls.cli import run_annotate

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
N_RECORDS = 240
BATCH = 8


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """The inputs, the slow pipeline and the output of an uninterrupted run."""
    folder = tmp_path_factory.mktemp("signals")
    pipe = save_slow_pipeline(folder / "pipe")
    inputs = folder / "in.jsonl"
    with inputs.open("w", encoding="utf8") as file:
        for i in range(N_RECORDS):
            text = "" if i % 41 == 7 else f"Record {i} on floods " + "and rain " * (i % 13)
            file.write(json.dumps({"id": f"r{i}", "text": text}) + "\n")
    reference = folder / "reference.jsonl"
    run_annotate([str(inputs)], reference, model=str(pipe), batch_size=BATCH, quiet=True)
    return pipe, inputs, reference.read_bytes()


def start(corpus, out: Path, *extra: str, delay: float = 0.1) -> subprocess.Popen:
    pipe, inputs, _ = corpus
    env = {
        **os.environ,
        DELAY_ENV: str(delay),
        "PYTHONPATH": os.pathsep.join([str(REPO), str(TESTS), os.environ.get("PYTHONPATH", "")]),
    }
    cmd = [sys.executable, str(TESTS / "cli_slow_pipeline.py"), "annotate", str(inputs), "--output", str(out),
           "--model", str(pipe), "--batch-size", str(BATCH), "--resume", "-q", *extra]
    # A session of its own: Ctrl-C is sent to the process group, as a terminal does.
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def n_lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def wait_for_lines(proc: subprocess.Popen, out: Path, at_least: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while n_lines(out) < at_least:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the run did not get going"
        time.sleep(0.02)


def children(pid: int) -> list:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as file:
                    fields = file.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as file:
            state = file.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")  # a zombie has exited


def wait_gone(pids, timeout: float = 15) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = [p for p in pids if alive(p)]
        if not left:
            return []
        time.sleep(0.1)
    return [p for p in pids if alive(p)]


def check_prefix_then_resume(corpus, out: Path) -> None:
    reference = corpus[2]
    written = out.read_bytes()
    assert reference.startswith(written) and written.endswith(b"\n")
    proc = start(corpus, out, delay=0.0)
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 1, err  # finished; the empty records failed
    assert out.read_bytes() == reference


@pytest.mark.slow
@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_a_stopped_run_with_two_workers_exits_cleanly_and_resumes(corpus, tmp_path, how):
    out = tmp_path / "out.jsonl"
    proc = start(corpus, out, "--n-process", "2")
    wait_for_lines(proc, out, 3 * BATCH)
    workers = children(proc.pid)
    assert len(workers) >= 2
    if how == "ctrl-c":
        os.killpg(proc.pid, signal.SIGINT)
    else:
        os.kill(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=30)  # no hang
    assert proc.returncode == (130 if how == "ctrl-c" else 143), err
    assert "--resume" in err and "Traceback" not in err
    assert wait_gone(workers) == []
    assert n_lines(out) < N_RECORDS
    check_prefix_then_resume(corpus, out)


@pytest.mark.slow
def test_the_workers_of_a_killed_run_exit(corpus, tmp_path):
    out = tmp_path / "out.jsonl"
    proc = start(corpus, out, "--n-process", "2")
    wait_for_lines(proc, out, 3 * BATCH)
    workers = children(proc.pid)
    assert len(workers) >= 2
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert wait_gone(workers) == []
    check_prefix_then_resume(corpus, out)


@pytest.mark.slow
def test_a_second_run_on_the_same_output_is_refused(corpus, tmp_path):
    out = tmp_path / "out.jsonl"
    first = start(corpus, out, delay=0.25)
    wait_for_lines(first, out, BATCH)
    second = start(corpus, out, delay=0.0)
    _, err = second.communicate(timeout=120)
    assert second.returncode == 2 and "is being written by another run" in err, err
    assert f"(process {first.pid})" in err
    assert first.poll() is None, "the first run ended before the second was refused"
    os.killpg(first.pid, signal.SIGINT)
    _, err = first.communicate(timeout=30)
    assert first.returncode == 130, err
    check_prefix_then_resume(corpus, out)
