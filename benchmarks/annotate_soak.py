"""Soak test of ``scicls annotate``: a long run killed again and again, resumed until done, against an
uninterrupted run; and the memory of the uninterrupted run as it goes.

    python benchmarks/annotate_soak.py --model en_scicls_default --n 10000 --n-process 2 [--data-dir DIR]

1. ``--n`` abstracts (title and abstract of 200-300 words, from the category sets of the data folder,
   ``benchmarks/corpora.py``; the example papers' fronts, repeated, without one) are written as JSONL.
2. The reference: the command run once, uninterrupted. Every ``--sample-seconds`` the resident memory of
   the main process and of each worker is sampled (psutil), with the records written so far; the table
   printed at each tenth of the run shows whether memory levels off.
3. The soak: the same command with ``--resume``, started again and again; each time, once it has written
   at least one more record, it is stopped after a random delay (0 to ``--max-wait`` seconds) by a
   signal drawn from SIGKILL, SIGTERM and Ctrl-C (SIGINT to its process group). After each stop the
   script checks that the output is a prefix of the reference's and that no worker outlived the run.
   After ``--kills`` stops, the last run goes to the end; its output must equal the reference's, byte
   for byte.

Everything goes to ``--work-dir`` (a temporary folder by default); nothing is written into the repository.
"""
import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.corpora import data_dir_from_env, load_abstracts  # noqa: E402

MB = 1024 * 1024


def write_inputs(path: Path, n: int, data_dir: Optional[Path]) -> None:
    records = load_abstracts(n, data_dir)
    with path.open("w", encoding="utf8") as file:
        for i, record in enumerate(records):
            file.write(json.dumps({"id": f"a{i:06d}", "text": record.text}, ensure_ascii=False) + "\n")


def n_lines(path: Path) -> int:
    try:
        with path.open("rb") as file:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: file.read(1 << 20), b""))
    except FileNotFoundError:
        return 0


class Sampler(threading.Thread):
    """Samples the resident memory of a process and of its children, with the output's record count."""

    def __init__(self, pid: int, output: Path, every: float):
        super().__init__(daemon=True)
        import psutil

        self.process = psutil.Process(pid)
        self.output = output
        self.every = every
        self.samples: List[Dict] = []
        self.children: set = set()
        self._done = threading.Event()

    def run(self) -> None:
        started = time.monotonic()
        while not self._done.is_set():
            try:
                main = self.process.memory_info().rss
                workers = []
                for child in self.process.children(recursive=True):
                    self.children.add(child.pid)
                    try:
                        workers.append(child.memory_info().rss)
                    except Exception:  # noqa: BLE001 - it ended
                        pass
            except Exception:  # noqa: BLE001 - the process ended
                break
            self.samples.append(
                {"s": time.monotonic() - started, "records": n_lines(self.output), "main": main, "workers": workers}
            )
            self._done.wait(self.every)

    def stop(self) -> None:
        self._done.set()
        self.join()

    @property
    def peak_tree(self) -> int:
        return max((s["main"] + sum(s["workers"]) for s in self.samples), default=0)


def command(args, inputs: Path, output: Path, resume: bool) -> List[str]:
    cmd = [sys.executable, "-m", "spacy_scicls", "annotate", str(inputs), "--output", str(output),
           "--model", args.model, "--n-process", str(args.n_process), "--batch-size", str(args.batch_size), "-q"]
    return cmd + (["--resume"] if resume else ["--overwrite"])


def start(cmd: List[str]) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as file:
            return file.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def memory_table(samples: List[Dict], total: int) -> List[str]:
    rows = ["records   s      main MB  worker MB (each)        tree MB"]
    marks = [total * k // 10 for k in range(1, 11)]
    for mark in marks:
        sample = next((s for s in samples if s["records"] >= mark), samples[-1] if samples else None)
        if sample is None:
            continue
        workers = " ".join(f"{w / MB:.0f}" for w in sample["workers"]) or "-"
        tree = sample["main"] + sum(sample["workers"])
        rows.append(f"{sample['records']:>7,} {sample['s']:>6.0f} {sample['main'] / MB:>10.0f}  {workers:<22} {tree / MB:>8.0f}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="en_scicls_default")
    parser.add_argument("--n", type=int, default=10_000, help="abstracts")
    parser.add_argument("--n-process", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--kills", type=int, default=8, help="stops before the last run may finish")
    parser.add_argument("--max-wait", type=float, default=60.0, help="longest delay before a stop, seconds")
    parser.add_argument("--sample-seconds", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--work-dir", type=Path, default=None)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="annotate-soak-"))
    work.mkdir(parents=True, exist_ok=True)
    inputs = work / "abstracts.jsonl"
    write_inputs(inputs, args.n, data_dir_from_env(args.data_dir))
    print(f"{args.n:,} abstracts in {inputs}; --n-process {args.n_process}, --batch-size {args.batch_size}", flush=True)

    reference = work / "reference.jsonl"
    for stale in (reference, reference.with_name(reference.name + ".manifest.json")):
        if stale.exists():
            stale.unlink()
    began = time.monotonic()
    proc = start(command(args, inputs, reference, resume=False))
    sampler = Sampler(proc.pid, reference, args.sample_seconds)
    sampler.start()
    _, err = proc.communicate()
    sampler.stop()
    print(f"\nreference: exit {proc.returncode}, {time.monotonic() - began:.0f} s, "
          f"{n_lines(reference):,} records, peak RSS of the process tree {sampler.peak_tree / MB:.0f} MB", flush=True)
    print(err.strip().splitlines()[0] if err.strip() else "", flush=True)
    print("\n".join(memory_table(sampler.samples, args.n)), flush=True)
    expected = reference.read_bytes()

    out = work / "soak.jsonl"
    for stale in (out, out.with_name(out.name + ".manifest.json")):
        if stale.exists():
            stale.unlink()
    stops: List[str] = []
    peak_tree = 0
    runs = 0
    began = time.monotonic()
    while True:
        runs += 1
        before = n_lines(out)
        proc = start(command(args, inputs, out, resume=True))
        sampler = Sampler(proc.pid, out, 0.5)
        sampler.start()
        if len(stops) < args.kills:
            while n_lines(out) <= before and proc.poll() is None:
                time.sleep(0.2)
            time.sleep(rng.uniform(0, args.max_wait))
        if len(stops) >= args.kills or proc.poll() is not None:
            _, err = proc.communicate()
            sampler.stop()
            peak_tree = max(peak_tree, sampler.peak_tree)
            if proc.returncode in (0, 1):
                break
            raise SystemExit(f"run {runs} failed (exit {proc.returncode}): {err}")
        how = rng.choice(["SIGKILL", "SIGTERM", "SIGINT"])
        if how == "SIGINT":
            os.killpg(proc.pid, signal.SIGINT)
        else:
            os.kill(proc.pid, getattr(signal, how))
        proc.communicate()
        sampler.stop()
        peak_tree = max(peak_tree, sampler.peak_tree)
        deadline = time.monotonic() + 30
        while any(alive(pid) for pid in sampler.children) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = [pid for pid in sampler.children if alive(pid)]
        written = out.read_bytes() if out.exists() else b""
        prefix = expected.startswith(written)
        stops.append(how)
        print(f"run {runs}: {how} after {n_lines(out) - before:+,} records -> {n_lines(out):,} in the output, "
              f"exit {proc.returncode}, prefix of the reference: {prefix}, workers left: {len(left)}", flush=True)
        if not prefix or left:
            raise SystemExit("the guarantee does not hold")
    identical = out.read_bytes() == expected
    print(f"\nsoak: {runs} runs, {len(stops)} stops ({', '.join(f'{s} {stops.count(s)}' for s in sorted(set(stops)))}), "
          f"{time.monotonic() - began:.0f} s, peak RSS of a run's process tree {peak_tree / MB:.0f} MB")
    print(f"soak output identical to the uninterrupted run: {identical} ({n_lines(out):,} records)")
    if not identical:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
