"""Speed and memory of ``scicls annotate`` on abstracts and on full papers, with 1 and 2 processes.

    python benchmarks/annotate_corpus.py --model training/demo-pipeline [--data-dir DIR]

Corpora (from the data folder, ``--data-dir`` or ``$SCICLS_DATA_DIR``):

- abstracts: the first ``--n-abstracts`` (1,000) records of ``cats/arxiv_2007/arxiv_data.csv``
  (title + abstract, as ``--text-columns title,abstract``);
- papers: the first ``--n-papers`` (20) JATS articles of ``papers/plos_jats/starter_corpus``, by name,
  in batches of ``--paper-batch-size`` (4: a batch of 32 long papers is one transformer pass over
  thousands of windows, and takes gigabytes).

Each run is the command itself in a fresh subprocess
(``python -m spacy_scicls annotate ... --overwrite -q``). The script prints, per
corpus and ``--n-process``: records/s as the command reports it (records over the
time from the first record read to the last written; loading the pipeline is not
in it), the wall time of the whole command, and peak memory: the largest resident
set of the process tree summed over its processes (sampled every 0.1 s; needs
psutil) and the largest single process (``ru_maxrss``). It also checks that the
two process counts wrote the same bytes.
"""
import argparse
import csv
import os
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SUMMARY = re.compile(r"scicls annotate: ([\d,]+) records in ([\d.]+) s \(([\d.]+) records/s\)")

# Run the command as a child of a small launcher, so that ru_maxrss of the
# launcher's children is this run's (and not the largest of every earlier run).
LAUNCHER = """
import resource, subprocess, sys
code = subprocess.call(sys.argv[1:])
print("MAXRSS_KB", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
sys.exit(code)
"""


def tree_rss(proc) -> int:
    try:
        processes = [proc] + proc.children(recursive=True)
    except Exception:  # noqa: BLE001 - it ended
        return 0
    total = 0
    for p in processes:
        try:
            total += p.memory_info().rss
        except Exception:  # noqa: BLE001
            pass
    return total


def run(args, inputs, output, n_process, batch_size, extra):
    cmd = [sys.executable, "-c", LAUNCHER, sys.executable, "-m", "spacy_scicls", "annotate", *inputs,
           "--output", str(output), "--model", args.model, "--n-process", str(n_process),
           "--batch-size", str(batch_size), "--overwrite", "-q", *extra]
    if n_process == 1 and args.threads:
        cmd += ["--threads", str(args.threads)]
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    try:
        import psutil

        watched = psutil.Process(proc.pid)
        while proc.poll() is None:
            peak = max(peak, tree_rss(watched))
            time.sleep(0.1)
    except ImportError:
        peak = None
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"annotate failed ({proc.returncode}):\n{err}")
    match = SUMMARY.search(err)
    maxrss = re.search(r"MAXRSS_KB (\d+)", err)
    failed = re.search(r"([\d,]+) failed", err)
    return {
        "records": int(match.group(1).replace(",", "")),
        "seconds": float(match.group(2)),
        "rate": int(match.group(1).replace(",", "")) / float(match.group(2)) if float(match.group(2)) else 0.0,
        "wall": wall,
        "tree_peak_mb": None if peak is None else peak / 2**20,
        "process_peak_mb": int(maxrss.group(1)) / 1024 if maxrss else None,
        "failed": failed.group(1) if failed else "?",
    }


def abstracts_csv(data_dir: Path, n: int, work: Path) -> Path:
    source = data_dir / "cats" / "arxiv_2007" / "arxiv_data.csv"
    target = work / f"arxiv_2007_first{n}.csv"
    with source.open(encoding="utf8", newline="") as fin, target.open("w", encoding="utf8", newline="") as fout:
        reader = csv.DictReader(fin)
        writer = csv.DictWriter(fout, fieldnames=["id", "title", "abstract"])
        writer.writeheader()
        for i, row in enumerate(reader):
            if i == n:
                break
            writer.writerow({"id": row["id"], "title": row["title"], "abstract": row["abstract"]})
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="training/demo-pipeline")
    parser.add_argument("--data-dir", type=Path, default=os.environ.get("SCICLS_DATA_DIR"))
    parser.add_argument("--work-dir", type=Path, default=REPO / "corpus" / "benchmark")
    parser.add_argument("--n-abstracts", type=int, default=1000)
    parser.add_argument("--n-papers", type=int, default=20)
    parser.add_argument("--n-process", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batch-size", type=int, default=32, help="batch size for the abstracts")
    parser.add_argument("--paper-batch-size", type=int, default=4, help="batch size for the full papers")
    parser.add_argument("--corpora", nargs="+", choices=["abstracts", "papers"], default=["abstracts", "papers"])
    parser.add_argument("--threads", type=int, default=0, help="torch threads for --n-process 1 (0: torch's default)")
    args = parser.parse_args()
    if not args.data_dir or not Path(args.data_dir).is_dir():
        raise SystemExit("pass --data-dir (or set SCICLS_DATA_DIR) to the folder holding cats/ and papers/")
    args.work_dir.mkdir(parents=True, exist_ok=True)
    papers = sorted((Path(args.data_dir) / "papers" / "plos_jats" / "starter_corpus").glob("*.xml"))[: args.n_papers]
    corpora = []
    if "abstracts" in args.corpora:
        csv_file = abstracts_csv(Path(args.data_dir), args.n_abstracts, args.work_dir)
        corpora.append((f"{args.n_abstracts} abstracts (arxiv_2007 CSV)", [str(csv_file)], args.batch_size,
                        ["--text-columns", "title,abstract", "--id-column", "id"]))
    if "papers" in args.corpora:
        corpora.append((f"{len(papers)} full papers (PLOS JATS)", [str(p) for p in papers], args.paper_batch_size, []))
    print(f"model {args.model}, {os.cpu_count()} CPUs")
    print(f"{'corpus':<34} {'batch':>5} {'n-process':>9} {'records':>8} {'records/s':>10} {'wall s':>7} "
          f"{'peak MB (tree)':>15} {'peak MB (1 proc)':>17}")
    for label, inputs, batch_size, extra in corpora:
        outputs = []
        for n_process in args.n_process:
            output = args.work_dir / f"{label.split()[1]}-n{n_process}.jsonl"
            r = run(args, inputs, output, n_process, batch_size, extra)
            outputs.append(output)
            tree = "-" if r["tree_peak_mb"] is None else f"{r['tree_peak_mb']:.0f}"
            single = "-" if r["process_peak_mb"] is None else f"{r['process_peak_mb']:.0f}"
            print(f"{label:<34} {batch_size:>5} {n_process:>9} {r['records']:>8} {r['rate']:>10.3f} {r['wall']:>7.1f} "
                  f"{tree:>15} {single:>17}   ({r['failed']} failed)", flush=True)
        same = len({o.read_bytes() for o in outputs}) == 1
        print(f"{label:<34} outputs of n-process {', '.join(map(str, args.n_process))} identical: {same}")


if __name__ == "__main__":
    main()
