"""Documents/s of ``scicls annotate --engine ray`` with 1 and 2 actors against ``-n 1`` and ``-n 2``.

    python benchmarks/annotate_ray.py --model en_scicls_default --data-dir DATA_DIR --n-abstracts 256

The corpus is the first ``--n-abstracts`` records of ``cats/arxiv_2007/arxiv_data.csv``
(title + abstract), written as a CSV, the same for every run. Every run is the
command in a fresh subprocess, one torch thread per process or actor:

- ``local -n 1`` (``--threads 1``) and ``local -n 2``;
- ``ray, N actor(s)`` (``--engine ray --actors N``, a local Ray started for the run).

For each it prints, from outside the command (the same way for both engines):

- ``docs/s (wall)``: records over the wall time of the whole command;
- ``start-up``: from the command's start to its first records written: imports, starting
  Ray and its actors, loading the pipeline, and the first batch (local) or shard (Ray);
- ``docs/s (started)``: the records after those over the time from then to the last
  written (the output's modification times; the local output is polled every 0.05 s):
  the rate once running, which is what a long run approaches;

and, measured in this process on the same corpus, the serialisation a shard goes
through: planning (reading and pickling the records), the pickled size, and the
bytes of the records that come back. It checks that every run wrote the same records.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.annotate_corpus import abstracts_csv  # noqa: E402


def _command_env() -> dict:
    return {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def _count_lines(path: Path) -> int:
    try:
        with path.open("rb") as file:
            return file.read().count(b"\n")
    except FileNotFoundError:
        return 0


def run_local(args, inputs, output: Path, n_process: int, extra) -> dict:
    """``scicls annotate -n N``; the output's lines are counted every 0.05 s to time its first batch."""
    cmd = [sys.executable, "-m", "spacy_scicls", "annotate", *inputs, "--output", str(output), "--model", args.model,
           "--n-process", str(n_process), "--batch-size", str(args.batch_size), "--overwrite", "-q", *extra]
    if n_process == 1:
        cmd += ["--threads", "1"]
    if output.exists():
        output.unlink()  # so that the first line seen is this run's
    started = time.time()
    proc = subprocess.Popen(cmd, env=_command_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    first = None
    while proc.poll() is None:
        if first is None and _count_lines(output) > 0:
            first = time.time()
        time.sleep(0.05)
    wall = time.time() - started
    err = proc.stderr.read()
    if proc.returncode not in (0, 1):
        raise SystemExit(f"annotate failed ({proc.returncode}):\n{err}")
    n = _count_lines(output)
    last = output.stat().st_mtime  # the last batch written
    first = first or last
    return {
        "records": n,
        "wall": wall,
        "rate": n / wall,
        "startup": first - started,
        "steady": (n - args.batch_size) / (last - first) if last > first else float("nan"),
    }


def run_ray(args, inputs, output: Path, actors: int, extra) -> dict:
    cmd = [sys.executable, "-m", "spacy_scicls", "annotate", *inputs, "--output", str(output), "--model", args.model,
           "--engine", "ray", "--actors", str(actors), "--threads", "1", "--batch-size", str(args.batch_size),
           "--shard-size", str(args.shard_size), "--gpus-per-actor", str(args.gpus_per_actor), "--overwrite", "-q",
           *extra]
    started_wall = time.time()
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=_command_env(), capture_output=True, text=True)
    wall = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"annotate --engine ray failed ({proc.returncode}):\n{proc.stderr}")
    manifest = json.loads((output / "manifest.json").read_text())
    shards = sorted(((output / s["file"]).stat().st_mtime, s["records"]) for s in manifest["shards"])
    first, last = shards[0][0], shards[-1][0]
    later = sum(n for _, n in shards[1:])
    return {
        "records": manifest["n_records"],
        "rate": manifest["n_records"] / wall,
        "wall": wall,
        "startup": first - started_wall,
        "steady": later / (last - first) if last > first else float("nan"),
    }


def serialisation(inputs, extra_args, shard_size: int) -> dict:
    """What the driver does to every shard before Ray sees it, and the size of what comes back."""
    from spacy_scicls.cli.inputs import iter_records
    from ray import cloudpickle  # noqa: F401 - imported before the clock starts
    from spacy_scicls.distributed.engine import plan_shards

    text_columns = extra_args["text_columns"]
    started = time.perf_counter()
    shards = list(plan_shards(iter_records(inputs, text_columns=text_columns, id_column="id"), shard_size))
    seconds = time.perf_counter() - started
    n = sum(len(s.ids) for s in shards)
    return {"plan_s": seconds, "records": n, "payload_bytes": sum(len(s.payload) for s in shards)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="en_scicls_default")
    parser.add_argument("--data-dir", type=Path, default=os.environ.get("SCICLS_DATA_DIR"))
    parser.add_argument("--work-dir", type=Path, default=REPO / "corpus" / "benchmark-ray")
    parser.add_argument("--n-abstracts", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--shard-size", type=int, default=32)
    parser.add_argument("--actors", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--n-process", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--gpus-per-actor", type=float, default=0.0, help="GPUs per actor in the Ray runs (0: CPU)")
    args = parser.parse_args()
    if not args.data_dir or not Path(args.data_dir).is_dir():
        raise SystemExit("pass --data-dir (or set SCICLS_DATA_DIR) to the folder holding cats/")
    args.work_dir.mkdir(parents=True, exist_ok=True)
    csv_file = abstracts_csv(Path(args.data_dir), args.n_abstracts, args.work_dir)
    inputs = [str(csv_file)]
    extra = ["--text-columns", "title,abstract", "--id-column", "id"]
    print(f"model {args.model}, {args.n_abstracts} abstracts (arxiv_2007 CSV), batch {args.batch_size}, "
          f"shard {args.shard_size}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start")
    print(f"{'run':<18} {'records':>8} {'wall s':>8} {'docs/s (wall)':>14} {'start-up s':>11} {'docs/s (started)':>17}")
    outputs = {}
    for n in args.n_process:
        output = args.work_dir / f"local-n{n}.jsonl"
        r = run_local(args, inputs, output, n, extra)
        outputs[f"local -n {n}"] = output.read_bytes()
        print(f"{'local -n ' + str(n):<18} {r['records']:>8} {r['wall']:>8.1f} {r['rate']:>14.2f} "
              f"{r['startup']:>11.1f} {r['steady']:>17.2f}", flush=True)
    for actors in args.actors:
        output = args.work_dir / f"ray-{actors}"
        r = run_ray(args, inputs, output, actors, extra)
        manifest = json.loads((output / "manifest.json").read_text())
        outputs[f"ray {actors}"] = b"".join((output / s["file"]).read_bytes() for s in manifest["shards"])
        label = f"ray, {actors} actor" + ("s" if actors > 1 else "")
        print(f"{label:<18} {r['records']:>8} {r['wall']:>8.1f} {r['rate']:>14.2f} {r['startup']:>11.1f} "
              f"{r['steady']:>17.2f}", flush=True)
    print("docs/s (wall): records over the whole command. start-up: from the command's start to its first "
          "records written (imports, starting Ray and the actors, loading the pipeline, the first batch or shard). "
          "docs/s (started): the records after those over the time from then to the last written")
    s = serialisation(inputs, {"text_columns": ["title", "abstract"]}, args.shard_size)
    out_bytes = len(next(iter(outputs.values())))
    print(f"serialisation: planning (read + pickle) {s['plan_s']:.2f} s for {s['records']} records "
          f"({s['plan_s'] / s['records'] * 1e3:.2f} ms/record), pickled shards {s['payload_bytes'] / s['records']:.0f} "
          f"bytes/record, records back {out_bytes / s['records']:.0f} bytes/record")
    print(f"every run wrote the same records: {len(set(outputs.values())) == 1}")


if __name__ == "__main__":
    main()
