"""Time the shared transformer on titles + abstracts for several span windows.

    python scripts/time_category_encoder.py --data DATA_DIR --windows 128:96,256:192 --docs 100

Runs the transformer of ``configs/categories.cfg`` (the heads need nothing more
from it) over the first ``--docs`` test docs of the seeded split, once per
``window:stride`` (spaCy tokens per strided span, and the step between span
starts), after one warm-up batch, and prints seconds per doc and the number of
transformer spans. Only the encoder is timed: the heads cost the same whatever
the window.
"""
import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _cats_common import build_pipeline, data_dir, load_splits  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="folder with cats/<corpus> (default: $SCICLS_DATA_DIR)")
    parser.add_argument("--windows", default="128:96,256:192")
    parser.add_argument("--docs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    splits = load_splits(data_dir(args.data), args.seed)
    records = splits["test"][: args.docs]
    n_tokens = None
    for spec in args.windows.split(","):
        window, stride = (int(x) for x in spec.split(":"))
        nlp = build_pipeline(splits["train"], overrides={
            "components.transformer.model.get_spans.window": window,
            "components.transformer.model.get_spans.stride": stride,
        })
        trf = nlp.get_pipe("transformer")
        docs = [nlp.make_doc(r.text) for r in records]
        n_tokens = sum(len(d) for d in docs)
        list(trf.pipe([nlp.make_doc(r.text) for r in records[:8]], batch_size=8))  # warm-up
        start = time.perf_counter()
        list(trf.pipe(docs, batch_size=16))
        seconds = time.perf_counter() - start
        spans = sum(len(trf.model.attrs["get_spans"]([d])[0]) for d in docs)
        print(f"window {window:4d} stride {stride:4d}: {seconds / len(docs) * 1000:7.1f} ms/doc "
              f"({len(docs)} docs, {n_tokens} tokens, {spans} spans, {args.threads} thread(s))")


if __name__ == "__main__":
    main()
