"""Where the time of the shared pipeline goes: seconds per component.

    python benchmarks/component_times.py [--corpus papers] [--n-docs 2] [--profile 25]

Runs the pipeline's components one after another over the whole corpus (the
tokenizer, then the transformer, then each head reading its output) and
prints the median seconds of each over a few runs after a warm-up; with
``--profile N`` it also prints the N most expensive functions of one run
(cProfile, cumulative time), which shows per-document Python overhead.
"""
import argparse
import cProfile
import io
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.corpora import load_corpus, n_words  # noqa: E402
from benchmarks.pipeline_speed import import_plugin, setup_device, synchronize  # noqa: E402
from benchmarks.pipelines import build_default_pipeline, load_configuration, load_overrides  # noqa: E402


def component_seconds(nlp, texts: List[str], batch_size: int, gpu_id: int = -1) -> Dict[str, float]:
    """Seconds that each component (and the tokenizer) takes over ``texts``."""
    out: Dict[str, float] = {}
    start = time.perf_counter()
    docs = list(nlp.tokenizer.pipe(texts, batch_size=batch_size))
    out["tokenizer"] = time.perf_counter() - start
    for name, component in nlp.pipeline:
        synchronize(gpu_id)
        start = time.perf_counter()
        if hasattr(component, "pipe"):
            docs = list(component.pipe(docs, batch_size=batch_size))
        else:
            docs = [component(doc) for doc in docs]
        synchronize(gpu_id)
        out[name] = time.perf_counter() - start
    return out


def main(argv: Optional[List[str]] = None) -> Dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default="papers")
    parser.add_argument("--n-docs", type=int, default=2)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--pipeline", type=Path, default=None)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--gpu-id", type=int, default=-1)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--profile", type=int, default=0, help="print the N costliest functions of one run")
    args = parser.parse_args(argv)
    setup_device(args.gpu_id, args.threads)
    import_plugin()
    records = load_corpus(args.corpus, args.n_docs, args.data_dir)
    texts = [r.text for r in records]
    with tempfile.TemporaryDirectory() as tmp:
        path = args.pipeline or build_default_pipeline(Path(tmp) / "pipeline")
        nlp = load_configuration("full", path, load_overrides(args.gpu_id >= 0, None, None)).jobs[0].nlp
    component_seconds(nlp, texts, args.batch_size, args.gpu_id)  # warm-up
    runs = [component_seconds(nlp, texts, args.batch_size, args.gpu_id) for _ in range(args.runs)]
    medians = {name: statistics.median(run[name] for run in runs) for name in runs[0]}
    total = sum(medians.values())
    words = sum(n_words(t) for t in texts)
    print(f"{args.corpus}: {len(texts)} docs, {words} words; median of {args.runs} runs")
    print(f"{'component':<12} {'seconds':>8} {'share':>6}")
    for name, seconds in medians.items():
        print(f"{name:<12} {seconds:8.3f} {seconds / total:6.1%}")
    heads = total - medians["tokenizer"] - medians.get("transformer", 0.0)
    if medians.get("transformer"):
        print(f"heads / transformer: {heads / medians['transformer']:.3f}")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        component_seconds(nlp, texts, args.batch_size, args.gpu_id)
        profiler.disable()
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(args.profile)
        print(stream.getvalue())
    return medians


if __name__ == "__main__":
    main()
