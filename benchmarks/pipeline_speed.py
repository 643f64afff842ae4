"""Speed and memory of the shared pipeline against the bare encoder and the seed way.

    python benchmarks/pipeline_speed.py [--corpus abstracts papers] [--gpu-id 0]

For each corpus it times three configurations over the same documents (see
benchmarks/pipelines.py): the bare encoder (the transformer component alone),
the full shared pipeline, and the seed way (one separate encoder per job, five
pipelines run one after another). Timing runs are interleaved, bare, full, seed,
bare, full, seed, ..., after one warm-up run of each, so that a machine busy
with other work slows all three alike; each figure is the median over the runs.
Peak memory comes from a fresh process per configuration and corpus (peak
RSS on CPU, ``torch.cuda.max_memory_allocated`` on GPU), so that peaks do
not mix. The table is printed and the figures written as JSON to
``benchmarks/results/<date>-<device>.json``.

By default the pipeline is the untrained full pipeline of
configs/full_pipeline.cfg (random weights, real shapes); ``--pipeline`` points
the benchmark at any saved pipeline with a ``transformer`` component instead.
"""
import argparse
import datetime
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.corpora import Record, load_corpus, n_words, read_jsonl, write_jsonl  # noqa: E402
from benchmarks.pipelines import (  # noqa: E402
    CONFIGURATIONS,
    GPU_MAX_BATCH_ITEMS,
    GPU_PREDICT_MAX_WORDPIECES,
    Configuration,
    build_default_pipeline,
    load_configuration,
    load_overrides,
)

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_N_DOCS = {"abstracts": 32, "papers": 2}


def setup_device(gpu_id: int, threads: Optional[int]) -> str:
    import torch

    if threads:
        from spacy_scicls.threads import set_cpu_threads

        # torch's threads and numpy's BLAS threads alike, so that the heads
        # computed with numpy are timed on as many cores as the encoder
        set_cpu_threads(threads)
    if gpu_id >= 0:
        import spacy

        from thinc.api import set_gpu_allocator

        spacy.require_gpu(gpu_id)
        # The heads' arrays (cupy) come from PyTorch's memory pool, as in
        # training ([system] gpu_allocator), so that one pool serves both and
        # torch.cuda.max_memory_allocated counts both.
        set_gpu_allocator("pytorch")
        return torch.cuda.get_device_name(gpu_id)
    return cpu_name()


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip().replace("(R)", "").replace("(TM)", "")
    except OSError:
        pass
    return platform.processor() or platform.machine()


def synchronize(gpu_id: int) -> None:
    if gpu_id >= 0:
        import torch

        torch.cuda.synchronize(gpu_id)


def import_plugin() -> None:
    # Register the components for pipelines loaded from disk, also where the
    # package's entry points are not installed.
    import spacy_scicls  # noqa: F401


def time_configurations(
    configurations: Dict[str, Configuration],
    records: List[Record],
    batch_size: int,
    runs: int,
    gpu_id: int,
) -> Dict[str, List[float]]:
    """Seconds per run of each configuration: one warm-up, then ``runs`` interleaved runs."""
    for name, configuration in configurations.items():
        progress(f"warm-up: {name}")
        configuration.run(records, batch_size)
    seconds: Dict[str, List[float]] = {name: [] for name in configurations}
    for run in range(runs):
        for name, configuration in configurations.items():
            progress(f"run {run + 1}/{runs}: {name}")
            synchronize(gpu_id)
            start = time.perf_counter()
            configuration.run(records, batch_size)
            synchronize(gpu_id)
            seconds[name].append(time.perf_counter() - start)
    return seconds


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def peak_rss_mb() -> float:
    """Peak resident memory of this process. ``VmHWM`` where the system has it:
    unlike ``ru_maxrss`` it does not carry over the parent's peak into a
    freshly started child process."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024  # bytes on macOS, kB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def overrides_from_args(args: argparse.Namespace) -> dict:
    return load_overrides(
        args.gpu_id >= 0, args.mixed_precision, args.max_batch_items, args.predict_max_wordpieces, args.pipeline
    )


def memory_probe(args: argparse.Namespace) -> None:
    """In a fresh process: load one configuration, run the corpus, print the peaks as JSON."""
    setup_device(args.gpu_id, args.threads)
    import_plugin()
    import torch

    records = read_jsonl(Path(args.probe_corpus))
    baseline = peak_rss_mb()
    configuration = load_configuration(args.memory_probe, args.pipeline, overrides_from_args(args))
    loaded = peak_rss_mb()
    if args.gpu_id >= 0:
        torch.cuda.reset_peak_memory_stats(args.gpu_id)
    configuration.run(records, args.batch_size)
    synchronize(args.gpu_id)
    out = {
        "rss_after_imports_mb": round(baseline, 1),
        "rss_after_loading_mb": round(loaded, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "n_encoders": configuration.n_encoders,
    }
    if args.gpu_id >= 0:
        out["cuda_max_allocated_mb"] = round(torch.cuda.max_memory_allocated(args.gpu_id) / 2**20, 1)
    print("PROBE " + json.dumps(out))


def measure_memory(args: argparse.Namespace, name: str, corpus_file: Path) -> dict:
    command = [
        sys.executable, str(Path(__file__).resolve()),
        "--memory-probe", name,
        "--probe-corpus", str(corpus_file),
        "--pipeline", str(args.pipeline),
        "--batch-size", str(args.batch_size),
        "--gpu-id", str(args.gpu_id),
    ]
    if args.threads:
        command += ["--threads", str(args.threads)]
    if args.max_batch_items is not None:
        command += ["--max-batch-items", str(args.max_batch_items)]
    if args.predict_max_wordpieces is not None:
        command += ["--predict-max-wordpieces", str(args.predict_max_wordpieces)]
    if args.mixed_precision is not None:
        command += ["--mixed-precision" if args.mixed_precision else "--no-mixed-precision"]
    done = subprocess.run(command, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("PROBE ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"memory probe for {name} failed:\n{done.stderr[-2000:]}")
    return json.loads(lines[-1][len("PROBE "):])


def benchmark_corpus(args: argparse.Namespace, corpus: str, overrides: dict) -> dict:
    records = load_corpus(corpus, args.n_docs[corpus], args.data_dir)
    progress(f"{corpus}: {len(records)} docs")
    words = sum(n_words(r.text) for r in records)
    configurations = {name: load_configuration(name, args.pipeline, overrides) for name in CONFIGURATIONS}
    seconds = time_configurations(configurations, records, args.batch_size, args.runs, args.gpu_id)
    del configurations
    result = {
        "corpus": corpus,
        "sources": sorted({r.source.split("/")[0] for r in records}),
        "n_docs": len(records),
        "words": words,
        "words_per_doc": round(words / len(records), 1),
        "configurations": {},
    }
    memory = {}
    if not args.no_memory:
        with tempfile.TemporaryDirectory() as tmp:
            corpus_file = Path(tmp) / "corpus.jsonl"
            write_jsonl(records, corpus_file)
            for name in CONFIGURATIONS:
                progress(f"memory: {name}")
                memory[name] = measure_memory(args, name, corpus_file)
    for name in CONFIGURATIONS:
        median = statistics.median(seconds[name])
        result["configurations"][name] = {
            "seconds": [round(s, 4) for s in seconds[name]],
            "median_seconds": round(median, 4),
            "docs_per_s": round(len(records) / median, 2),
            "words_per_s": round(words / median, 1),
            **({"memory": memory[name]} if name in memory else {}),
        }
    # Ratios of medians measured in this one run.
    med = {name: result["configurations"][name]["median_seconds"] for name in CONFIGURATIONS}
    result["ratios"] = {
        "full_over_bare_time": round(med["full"] / med["bare"], 3),
        "seed_over_full_time": round(med["seed"] / med["full"], 3),
    }
    if memory:
        key = "cuda_max_allocated_mb" if args.gpu_id >= 0 else "peak_rss_mb"
        result["ratios"]["seed_over_full_memory"] = round(memory["seed"][key] / memory["full"][key], 3)
    return result


LABELS = {"bare": "bare encoder", "full": "full shared pipeline", "seed": "seed way (5 encoders)"}


def format_table(results: List[dict], gpu: bool) -> str:
    mem_label = "peak GPU MB" if gpu else "peak RSS MB (above imports)"
    header = f"| corpus | docs | words/doc | configuration | docs/s | words/s | median s | {mem_label} |"
    lines = [header, "|---|---:|---:|---|---:|---:|---:|---:|"]
    for result in results:
        for name in CONFIGURATIONS:
            c = result["configurations"][name]
            memory = c.get("memory", {})
            if not memory:
                mem = "-"
            elif gpu:
                mem = f"{memory['cuda_max_allocated_mb']:.0f}"
            else:
                mem = f"{memory['peak_rss_mb']:.0f} ({memory['peak_rss_mb'] - memory['rss_after_imports_mb']:.0f})"
            lines.append(
                f"| {result['corpus']} | {result['n_docs']} | {result['words_per_doc']:.0f} | {LABELS[name]} | "
                f"{c['docs_per_s']:.2f} | {c['words_per_s']:.0f} | {c['median_seconds']:.2f} | {mem} |"
            )
    lines.append("")
    for result in results:
        ratios = result["ratios"]
        text = (
            f"{result['corpus']}: full/bare time {ratios['full_over_bare_time']:.2f}, "
            f"seed/full time {ratios['seed_over_full_time']:.2f}"
        )
        if "seed_over_full_memory" in ratios:
            text += f", seed/full memory {ratios['seed_over_full_memory']:.2f}"
        lines.append(text)
    return "\n".join(lines)


def environment(device: str, args: argparse.Namespace) -> dict:
    from importlib.metadata import version

    import torch

    return {
        "device": device,
        "gpu_id": args.gpu_id,
        "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": version("transformers"),
        "spacy": version("spacy"),
        "spacy_transformers": version("spacy-transformers"),
    }


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", nargs="+", default=["abstracts", "papers"],
                        help="'abstracts', 'papers' or .jsonl files with a 'text' (and 'front') per line")
    parser.add_argument("--n-docs", type=int, nargs="+", default=None,
                        help="documents per corpus, one number for all or one per --corpus "
                        f"(default: {DEFAULT_N_DOCS['abstracts']} abstracts, {DEFAULT_N_DOCS['papers']} papers, "
                        "every line of a .jsonl file)")
    parser.add_argument("--data-dir", type=Path, default=None, help="data folder (default: $SCICLS_DATA_DIR)")
    parser.add_argument("--pipeline", type=Path, default=None,
                        help="a saved pipeline (default: build configs/full_pipeline.cfg, untrained)")
    parser.add_argument("--encoder", default=None, help="encoder name for the default pipeline")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per configuration, after one warm-up")
    parser.add_argument("--gpu-id", type=int, default=-1)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--max-batch-items", type=int, default=None,
                        help=f"the transformer's max_batch_items (default: the pipeline's; {GPU_MAX_BATCH_ITEMS} on GPU)")
    parser.add_argument("--predict-max-wordpieces", type=int, default=None,
                        help="padded wordpieces per encoder pass, 0 for one pass "
                        f"(default: the pipeline's; {GPU_PREDICT_MAX_WORDPIECES} on GPU)")
    precision = parser.add_mutually_exclusive_group()
    precision.add_argument("--mixed-precision", dest="mixed_precision", action="store_true", default=None,
                           help="half precision in the encoder (default: on GPU only)")
    precision.add_argument("--no-mixed-precision", dest="mixed_precision", action="store_false")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory probes")
    parser.add_argument("--output", type=Path, default=None,
                        help="JSON file (default: benchmarks/results/<date>-<device>.json)")
    parser.add_argument("--memory-probe", choices=CONFIGURATIONS, help=argparse.SUPPRESS)
    parser.add_argument("--probe-corpus", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    for value, flag in ((args.batch_size, "--batch-size"), (args.runs, "--runs")):
        if value < 1:
            parser.error(f"{flag} must be at least 1")
    if args.n_docs is not None:
        if any(n < 1 for n in args.n_docs):
            parser.error("--n-docs must be at least 1")
        if len(args.n_docs) not in (1, len(args.corpus)):
            parser.error("--n-docs takes one number, or one per --corpus")
        numbers = args.n_docs * len(args.corpus) if len(args.n_docs) == 1 else args.n_docs
        args.n_docs = dict(zip(args.corpus, numbers))
    else:
        args.n_docs = {c: DEFAULT_N_DOCS.get(c, 10**9) for c in args.corpus}
    return args


def device_slug(device: str, gpu_id: int) -> str:
    name = "".join(c if c.isalnum() else "-" for c in device.lower()).strip("-")
    return ("gpu-" if gpu_id >= 0 else "cpu-") + "-".join(filter(None, name.split("-")))[:40]


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    if args.memory_probe:
        memory_probe(args)
        return {}
    device = setup_device(args.gpu_id, args.threads)
    import_plugin()
    with tempfile.TemporaryDirectory() as tmp:
        if args.pipeline is None:
            args.pipeline = build_default_pipeline(Path(tmp) / "pipeline", encoder=args.encoder)
        overrides = overrides_from_args(args)
        results = [benchmark_corpus(args, corpus, overrides) for corpus in args.corpus]
    table = format_table(results, args.gpu_id >= 0)
    print(table)
    report = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": "python benchmarks/pipeline_speed.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "environment": environment(device, args),
        "batch_size": args.batch_size,
        "runs": args.runs,
        "transformer_overrides": overrides["components"]["transformer"],
        "results": results,
        "table": table,
    }
    output = args.output
    if output is None:
        day = datetime.date.today().isoformat()
        output = RESULTS / f"{day}-{device_slug(device, args.gpu_id)}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf8")
    print(f"\nwritten to {output}")
    return report


if __name__ == "__main__":
    main()
