"""Pool every hidden state of the shared encoder per token, for the entity head's input.

    python scripts/encode_entity_layers.py --corpus climateie --splits train dev

The encoder runs as in ``evaluate_entities.py`` (same windows, same wordpiece alignment) but
returns its hidden states: the embeddings and each layer. Each is pooled per token as the last
layer is (the mean over a token's wordpieces). The last layer is checked against the cached
token vectors of ``evaluate_entities.py`` (their largest absolute difference is printed and must
stay under ``--tolerance``) and not stored again; the layers below it are stored as float16,
``(n_layers - 1, n_tokens, width)`` per doc, under ``corpus/entity-features/*-layers.npz``.
``evaluate_entities.py eval --layers SPEC`` and ``cv_entity_scores.py --layers SPEC`` read them.
"""
import argparse
import sys
import time
from pathlib import Path

import numpy
from spacy.training import Example

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
import evaluate_entities as ee  # noqa: E402
from spacy_scicls.corpora.entities import load_entity_corpus  # noqa: E402
from spacy_scicls.entities.frozen import pooled_layer_vectors, with_token_vectors  # noqa: E402
from spacy_scicls.threads import set_cpu_threads  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default="climateie", choices=["climateie", "scierc", "biodivner"])
    parser.add_argument("--splits", nargs="+", default=["train", "dev"])
    parser.add_argument("--data-dir", default=None, help="default: $SCICLS_DATA_DIR")
    parser.add_argument("--seed", type=int, default=0, help="the corpus split")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    set_cpu_threads(args.threads)
    data_dir = ee.data_dir_of(args)
    nlp = ee.build_nlp(ee.DEFAULT_ENCODER, [], 8, transformer_config={"output_hidden_states": True})
    splits, _ = load_entity_corpus(args.corpus, data_dir, nlp, seed=args.seed)
    transformer = nlp.get_pipe("transformer")
    first = next(iter(splits.values()))[:1]
    transformer.initialize(lambda: [Example(d.copy(), d) for d in first], nlp=nlp)
    tag = ee.DEFAULT_ENCODER.replace("/", "--")
    for split in args.splits:
        docs = splits[split]
        last = ee.encode(None, docs, REPO / "corpus" / "entity-features" / f"{args.corpus}-{split}-{tag}.npz")
        lower, worst, began = {}, 0.0, time.time()
        for i, (doc, cached) in enumerate(zip(docs, last)):
            copy = with_token_vectors(doc, numpy.zeros((len(doc), 1), dtype="float32"))
            copy._.trf_data = None
            copy = next(transformer.pipe([copy], batch_size=1))
            layers = pooled_layer_vectors(copy._.trf_data, len(copy))
            diff = float(numpy.abs(layers[-1] - cached).max()) if len(doc) else 0.0
            worst = max(worst, diff)
            print(f"  {split} doc {i}: {len(doc)} tokens, {layers.shape[0]} hidden states, "
                  f"last layer vs cache: max |diff| {diff:.2e}", flush=True)
            lower[f"doc{i}"] = layers[:-1].astype("float16")
        if worst > args.tolerance:
            sys.exit(f"{split}: the last layer differs from the cached vectors by {worst:.2e} > {args.tolerance}")
        out = ee.layers_cache(args.corpus, split)
        numpy.savez(out, **lower)
        print(f"{split}: {len(docs)} docs in {time.time() - began:.0f}s; last layer vs cache max |diff| {worst:.2e}; "
              f"saved {out.name}", flush=True)


if __name__ == "__main__":
    main()
