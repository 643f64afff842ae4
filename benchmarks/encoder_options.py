"""The transformer component alone under different prediction settings.

    python benchmarks/encoder_options.py [--corpus papers] [--wordpieces 0 2048 4096 8192]
        [--max-batch-items 4096]

``predict_max_wordpieces = 0`` is spacy-transformers' own prediction: every
window of a sub-batch in one pass, padded to the longest, under
``torch.no_grad``. A positive value runs the windows sorted by length in
passes of at most that many padded wordpieces, under ``torch.inference_mode``
(spacy_scicls.encoder_inference). ``max_batch_items`` is the transformer
component's own limit on a sub-batch (spaCy tokens times docs). Runs are
interleaved after a warm-up; the figure is the median. The last column is the
largest difference of any wordpiece vector that a token is aligned to from
the ``0`` setting's.
"""
import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import List, Optional

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.corpora import load_corpus, n_words  # noqa: E402
from benchmarks.pipeline_speed import import_plugin, setup_device, synchronize  # noqa: E402
from benchmarks.pipelines import build_default_pipeline, load_configuration, load_overrides  # noqa: E402


def token_vectors(docs) -> list:
    """The wordpiece vectors that spaCy tokens are aligned to (padding left out)."""
    out = []
    for doc in docs:
        data = doc._.trf_data
        hidden = data.tensors[0]
        out.append(hidden.reshape(-1, hidden.shape[-1])[data.align.data.ravel()])
    return out


def main(argv: Optional[List[str]] = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default="papers")
    parser.add_argument("--n-docs", type=int, default=2)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--pipeline", type=Path, default=None)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--gpu-id", type=int, default=-1)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--wordpieces", type=int, nargs="+", default=[0, 2048, 4096, 8192])
    parser.add_argument("--max-batch-items", type=int, nargs="+", default=[4096])
    args = parser.parse_args(argv)
    from spacy_scicls.encoder_inference import use_sorted_prediction

    setup_device(args.gpu_id, args.threads)
    import_plugin()
    records = load_corpus(args.corpus, args.n_docs, args.data_dir)
    texts = [r.text for r in records]
    words = sum(n_words(t) for t in texts)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.pipeline or build_default_pipeline(Path(tmp) / "pipeline")
        nlp = load_configuration("bare", path, load_overrides(args.gpu_id >= 0, None, None)).jobs[0].nlp
    component = nlp.get_pipe("transformer")
    settings = [(w, m) for m in args.max_batch_items for w in args.wordpieces]

    def run(setting):
        wordpieces, max_batch_items = setting
        use_sorted_prediction(component.model, wordpieces)
        component.cfg["max_batch_items"] = max_batch_items
        synchronize(args.gpu_id)
        start = time.perf_counter()
        docs = list(nlp.pipe(texts, batch_size=args.batch_size))
        synchronize(args.gpu_id)
        return time.perf_counter() - start, docs

    reference = {}
    for setting in settings:  # warm-up, and the vectors to compare
        reference[setting] = token_vectors(run(setting)[1])
    seconds = {setting: [] for setting in settings}
    for _ in range(args.runs):
        for setting in settings:
            seconds[setting].append(run(setting)[0])
    base = settings[0]
    print(f"{args.corpus}: {len(texts)} docs, {words} words; median of {args.runs} runs")
    print(f"{'max_batch_items':>15} {'predict_max_wordpieces':>22} {'seconds':>8} {'words/s':>8} {'speed-up':>8} {'max |diff|':>10}")
    result = {}
    for setting in settings:
        median = statistics.median(seconds[setting])
        speedup = statistics.median(seconds[base]) / median
        diff = max(
            float(abs(a - b).max()) if a.size else 0.0 for a, b in zip(reference[base], reference[setting])
        )
        print(f"{setting[1]:>15} {setting[0]:>22} {median:8.2f} {words / median:8.0f} {speedup:8.2f} {diff:10.2e}")
        result[setting] = {"median_seconds": median, "speedup": speedup, "max_abs_diff": diff}
    return result


if __name__ == "__main__":
    main()
