"""Measure whether the frozen encoder's intermediate layers classify documents better than its last layer.

    python scripts/layer_features.py --data DATA_DIR encode            # once: per-layer token vectors
    python scripts/layer_features.py --data DATA_DIR compare \\
        --mixes 6,5-6,4-6,3-6,0-6,cat:5+6,cat:4+5+6                     # logistic regression, 5-fold CV

``encode`` runs the shared transformer of ``configs/categories.cfg`` once over the
training and dev docs (never the test split) with ``output_hidden_states`` on,
and keeps, per hidden layer (0: the embeddings, 1..6: the layers of
all-MiniLM-L6-v2; 6 is the ``last_hidden_state`` every head reads now), the
token vectors of each doc's first ``--max-tokens`` tokens, aligned and pooled
to spaCy tokens exactly as the heads' listener does (one
``TokenVectorCache`` per layer: ``training/cats/layers-seed0-t256-L<layer>.npz``).

``compare`` scores mixes of those layers by 5-fold cross-validation on the
training docs with logistic regression (scikit-learn) on the pooled features a
category head reads (mean and max of the token vectors and the title's mean,
standardised): ``6`` is the last layer, ``4-6`` the token-wise mean of layers 4,
5 and 6, ``cat:5+6`` the pooled features of layers 5 and 6 side by side. It
prints per mix the arXiv primary-archive top-1 accuracy (a multinomial
regression on the archive of the primary category, trained on every arXiv
training doc, scored on the held-out ``arxiv_2007`` papers, whose primary
category is known) and the HRCS health-category micro-F1 (one regression per
category on the NIHR training awards, one threshold for all, chosen on the
out-of-fold probabilities: slightly optimistic, alike for every mix). It is a
quick screen; ``scripts/cv_categories.py --layers MIX`` scores a layer mean
with the real head.
"""
import argparse
import sys
from pathlib import Path
from typing import List, Sequence

import numpy
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _cats_common import REPO, build_pipeline, data_dir, load_splits, log, truths_for  # noqa: E402
from spacy_scicls.ml.doc_classifier import title_end  # noqa: E402
from spacy_scicls.training.frozen import TokenVectorCache, pooled_features, span_window  # noqa: E402

HIDDEN_STATES = "components.transformer.model.transformer_config"
LAYER_CACHE_TOKENS = 256


def layer_cache_path(seed: int, max_tokens: int, layer: int) -> Path:
    return REPO / "training" / "cats" / f"layers-seed{seed}-t{max_tokens}-L{layer}.npz"


def parse_mix(text: str):
    """``"6"`` -> ("mean", [6]); ``"4-6"`` -> ("mean", [4, 5, 6]); ``"cat:5+6"`` -> ("cat", [5, 6])."""
    if text.startswith("cat:"):
        return "cat", [int(x) for x in text[4:].split("+")]
    first, _, last = text.partition("-")
    return "mean", list(range(int(first), int(last or first) + 1))


def layer_mean_cache(layers: Sequence[int], seed: int, max_tokens: int) -> TokenVectorCache:
    """The token-wise mean of the cached layers ``layers`` (same docs and offsets in every layer file)."""
    caches = [TokenVectorCache.load(layer_cache_path(seed, max_tokens, layer)) for layer in layers]
    base = caches[0]
    total = numpy.zeros(base.vectors.shape, dtype="float32")
    for cache in caches:
        if cache.ids != base.ids or not numpy.array_equal(cache.offsets, base.offsets):
            raise ValueError("the layer caches hold different docs; re-run encode")
        total += cache.vectors.astype("float32")
    return TokenVectorCache((total / len(caches)).astype("float16"), base.offsets, base.title_ends, base.ids)


def encode(args) -> None:
    from spacy_transformers.data_classes import TransformerData
    from spacy_transformers.layers.trfs2arrays import forward as trfs2arrays_forward
    from transformers.utils import ModelOutput

    splits = load_splits(data_dir(args.data), args.seed)
    records = (splits["train"] + splits["dev"])[:args.limit or None]
    nlp = build_pipeline(splits["train"], overrides={HIDDEN_STATES: {"output_hidden_states": True}})
    trf = nlp.get_pipe("transformer")
    # The listener's alignment and pooling (trfs2arrays), run on each hidden layer in turn.
    to_arrays = nlp.get_pipe("arxiv").model.get_ref("tok2vec").layers[-1]
    cut = args.max_tokens + 2 * (span_window(trf.model.attrs.get("get_spans")) or 128)
    chunks: List[List[numpy.ndarray]] = []
    title_ends: List[int] = []
    docs = [nlp.make_doc(r.text) for r in records]
    log(f"encoding {len(docs)} train and dev docs with every hidden layer")
    for start in range(0, len(docs), args.batch_size):
        batch = [doc[:cut].as_doc() if len(doc) > cut else doc for doc in docs[start:start + args.batch_size]]
        batch = list(trf.pipe(batch, batch_size=len(batch)))
        datas = [doc._.trf_data for doc in batch]
        per_layer = []
        n_layers = len(datas[0].model_output["hidden_states"])
        for layer in range(n_layers):
            layer_datas = [
                TransformerData(model_output=ModelOutput(last_hidden_state=d.model_output["hidden_states"][layer]),
                                wordpieces=d.wordpieces, align=d.align)
                for d in datas
            ]
            Xs, _ = trfs2arrays_forward(to_arrays, layer_datas, False)
            per_layer.append([numpy.asarray(X[:args.max_tokens], dtype="float16") for X in Xs])
        if start == 0:
            # The last hidden layer is what the heads read now.
            last, _ = trfs2arrays_forward(to_arrays, datas, False)
            gap = max(float(numpy.abs(numpy.asarray(a[:args.max_tokens], "float32") - b).max())
                      for a, b in zip(last, per_layer[-1]))
            log(f"{n_layers} hidden states; last layer vs last_hidden_state: max |dx| = {gap:.1e}")
        for i, doc in enumerate(batch):
            chunks.append([layer_vectors[i] for layer_vectors in per_layer])
            title_ends.append(title_end(doc))
        if (start // args.batch_size) % 20 == 0:
            log(f"  encoded {min(start + args.batch_size, len(docs))}/{len(docs)}")
    offsets = numpy.zeros(len(chunks) + 1, dtype="int64")
    offsets[1:] = numpy.cumsum([len(c[0]) for c in chunks])
    for layer in range(len(chunks[0])):
        vectors = numpy.concatenate([c[layer] for c in chunks])
        path = layer_cache_path(args.seed, args.max_tokens, layer)
        TokenVectorCache(vectors, offsets, numpy.asarray(title_ends, "int64"), [r.id for r in records]).save(path)
        log(f"saved {path}")


def compare(args) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from spacy_scicls.calibration import micro_macro_f1

    splits = load_splits(data_dir(args.data), args.seed)
    config_nlp = build_pipeline(splits["train"])
    arxiv, hc = config_nlp.get_pipe("arxiv"), config_nlp.get_pipe("hrcs_hc")
    arxiv_docs, _ = truths_for(arxiv, splits["train"])
    hc_docs, y_hc = truths_for(hc, splits["train"])
    archive = [arxiv.taxonomy.group_of(r.labels["arxiv"][0]) for r in arxiv_docs]
    names = sorted(set(archive))
    y_archive = numpy.asarray([names.index(a) for a in archive])
    primary = numpy.asarray([r.source == "arxiv_2007" for r in arxiv_docs])
    rng = numpy.random.RandomState(args.seed)
    fold_a = rng.permutation(len(arxiv_docs)) % args.folds
    fold_h = rng.permutation(len(hc_docs)) % args.folds
    print(f"{args.folds}-fold CV on training docs, logistic regression (C {args.C}) on the pooled features "
          f"of {args.max_tokens} tokens: arXiv {len(arxiv_docs)} docs ({int(primary.sum())} with a known primary "
          f"category), HRCS health categories {len(hc_docs)} awards")
    for text in args.mixes.split(","):
        how, layers = parse_mix(text)
        caches = ([layer_mean_cache(layers, args.seed, args.max_tokens)] if how == "mean"
                  else [layer_mean_cache([layer], args.seed, args.max_tokens) for layer in layers])

        def features(records):
            return numpy.hstack([pooled_features(c, [r.id for r in records], max_tokens=args.max_tokens)
                                 for c in caches])

        X_a, X_h = features(arxiv_docs), features(hc_docs)
        hits, per_fold = [], []
        for f in range(args.folds):
            fit, held = fold_a != f, fold_a == f
            scaler = StandardScaler().fit(X_a[fit])
            lr = LogisticRegression(C=args.C, max_iter=300).fit(scaler.transform(X_a[fit]), y_archive[fit])
            pred = lr.classes_[lr.predict_proba(scaler.transform(X_a[held])).argmax(axis=1)]
            ok = (pred == y_archive[held])[primary[held]]
            hits.extend(ok)
            per_fold.append(ok.mean())
        probs = numpy.zeros(y_hc.shape)
        for f in range(args.folds):
            fit, held = fold_h != f, fold_h == f
            scaler = StandardScaler().fit(X_h[fit])
            for j in range(y_hc.shape[1]):
                if y_hc[fit, j].min() == y_hc[fit, j].max():
                    probs[held, j] = y_hc[fit, j].mean()
                    continue
                lr = LogisticRegression(C=args.C, max_iter=300).fit(scaler.transform(X_h[fit]), y_hc[fit, j])
                probs[held, j] = lr.predict_proba(scaler.transform(X_h[held]))[:, 1]
        f1 = {t: micro_macro_f1(probs >= t, y_hc)["micro_f"] for t in numpy.arange(0.05, 0.96, 0.05)}
        best = max(f1, key=f1.get)
        h_folds = " ".join("%.3f" % micro_macro_f1(probs[fold_h == f] >= best, y_hc[fold_h == f])["micro_f"]
                           for f in range(args.folds))
        print(f"{text:>12}: arXiv primary archive {numpy.mean(hits):.4f} (folds "
              + " ".join("%.3f" % a for a in per_fold) + f"); health categories micro-F1 {f1[best]:.4f} "
              f"at {best:.2f} (folds {h_folds})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("encode", "compare"))
    parser.add_argument("--data", help="folder with cats/<corpus> (default: $SCICLS_DATA_DIR)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-tokens", type=int, default=LAYER_CACHE_TOKENS)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--limit", type=int,
                        help="encode only the first LIMIT docs (a quick check; it replaces the layer caches)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--C", type=float, default=1.0, help="inverse regularisation of the regressions")
    parser.add_argument("--mixes", default="6,5-6,4-6,3-6,0-6,cat:5+6,cat:4+5+6")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    encode(args) if args.command == "encode" else compare(args)


if __name__ == "__main__":
    main()
