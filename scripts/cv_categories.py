"""Choose a category head's reading length and neighbour vote by cross-validation on the training split.

    python scripts/cv_categories.py --data DATA_DIR --head hrcs_hc \\
        --candidates 256:0:30,512:0:30,256:0.5:30,512:0.5:30

Each candidate is ``max_tokens:neighbour_weight:neighbours``. The head's training
documents (with the other corpora's as out-of-field negatives, as
``scripts/train_categories.py`` adds them) are cut into ``--folds`` seeded folds;
for each fold the head (built from ``configs/categories.cfg``, from its initial
weights) is trained on the other folds with early stopping on the dev split, its
neighbour vote stores those folds' documents, its temperature and thresholds are
fitted on the dev split, and the held-out fold is scored as
``scripts/evaluate_categories.py`` scores the test split. It prints each
candidate's micro-F1 per fold and its mean (and the group-level micro-F1 and the
share of out-of-field documents labelled). The test split is never read.

Why: a dev split of 130 NIHR awards is too small to choose on; every training
award is scored once here (461 awards for the HRCS heads).

A head with a lexical part (``DocClassifier.v5``) also gets it per fold: its
lexicon is fitted on the training split's docs outside the held-out fold, and
its linear layer is trained on the other folds (early stopping on dev) beside
the dense classifier; each of ``--lexical-weights`` (the mix, 0: the dense head
alone) is then scored on the same trained parts, so the sweep costs one training
per fold. ``--lexical-l2``, ``--lexical-learn-rate``, ``--lexical-max-tokens`` and
``--lexicon-max-features`` set the lexical part for the run. ``--set`` overrides a
setting of ``configs/categories.cfg`` as in ``scripts/train_categories.py``.
"""
import argparse
import sys
from pathlib import Path

import numpy
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _cats_common import (  # noqa: E402
    CACHE_TOKENS, build_pipeline, data_dir, f1_at_best_threshold, feature_cache, feature_cache_path, lexical_rows_for,
    load_splits, log, truths_for, with_out_of_field,
)
from evaluate_categories import figures  # noqa: E402
from spacy_scicls.calibration import micro_macro_f1  # noqa: E402
from spacy_scicls.ml.doc_classifier_lexical import fit_head_lexicon  # noqa: E402
from spacy_scicls.training.frozen import (  # noqa: E402
    pooled_features, predict_classifier, store_neighbours, train_classifier, train_lexical,
)
from train_categories import LEXICAL_LEARN_RATE, LEXICAL_L2, WEIGHT_DECAY, parse_setting  # noqa: E402


def parse_candidate(text: str):
    try:
        max_tokens, weight, k = text.split(":")
        candidate = int(max_tokens), float(weight), int(k)
    except ValueError:
        raise SystemExit(f"a candidate is max_tokens:neighbour_weight:neighbours, got {text!r}") from None
    if not 1 <= candidate[0] <= CACHE_TOKENS or not 0.0 <= candidate[1] <= 1.0 or candidate[2] < 1:
        raise SystemExit(f"candidate {text!r} out of range (max_tokens 1..{CACHE_TOKENS}, weight 0..1, neighbours >= 1)")
    return candidate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="folder with cats/<corpus> (default: $SCICLS_DATA_DIR)")
    parser.add_argument("--head", required=True, help="erc, arxiv, hrcs_rac or hrcs_hc")
    parser.add_argument("--candidates", required=True, help="comma-separated max_tokens:neighbour_weight:neighbours")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--out-of-field", type=float, default=1.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--lexical-weights", default=None,
                        help="comma-separated mixes of the lexical part to score (DocClassifier.v5 heads; "
                        "default: the config's)")
    parser.add_argument("--lexical-mixes", default=None,
                        help="comma-separated ways of mixing to score: probability, logit (default: the config's)")
    parser.add_argument("--lexical-l2", type=float, default=LEXICAL_L2)
    parser.add_argument("--lexical-learn-rate", type=float, default=LEXICAL_LEARN_RATE)
    parser.add_argument("--lexical-max-tokens", type=int, help="tokens the lexical part reads (default: the config's)")
    parser.add_argument("--lexicon-max-features", type=int, help="n-grams in the lexicon (default: the config's)")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="override a setting of configs/categories.cfg (repeatable)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    candidates = [parse_candidate(c) for c in args.candidates.split(",")]
    if args.folds < 2:
        raise SystemExit("--folds must be at least 2")

    splits = load_splits(data_dir(args.data), args.seed)
    nlp = build_pipeline(splits["train"], overrides=dict(parse_setting(text) for text in args.set))
    cache = feature_cache(nlp, splits["train"] + splits["dev"] + splits["test"], feature_cache_path(nlp, args.seed))
    pipe = nlp.get_pipe(args.head)
    if not pipe.model.has_ref("neighbours") and any(w > 0 for _, w, _ in candidates):
        raise SystemExit(f"[{args.head}] has no neighbour vote (DocClassifier.v4) in configs/categories.cfg")
    initial = pipe.model.get_ref("classifier").to_bytes()
    train, y_train = truths_for(pipe, splits["train"])
    dev, y_dev = truths_for(pipe, splits["dev"])
    if args.out_of_field > 0:
        train, y_train, _ = with_out_of_field(splits["train"], train, y_train, args.out_of_field, args.seed)
        dev, y_dev, _ = with_out_of_field(splits["dev"], dev, y_dev, args.out_of_field, args.seed)
    fold = numpy.random.RandomState(args.seed).permutation(len(train)) % args.folds
    def pooled(records, max_tokens):
        return numpy.stack([
            pooled_features(cache, [r.id], max_tokens=max_tokens)[0]
            for r in records
        ])
    lexical = pipe.model.has_ref("lexical_features")
    if lexical:
        features = pipe.model.get_ref("lexical_features")
        if args.lexical_max_tokens:
            features.attrs["max_tokens"] = args.lexical_max_tokens
        if args.lexicon_max_features:
            features.attrs["max_features"] = args.lexicon_max_features
        weights = [(how, float(w))
                   for how in (args.lexical_mixes.split(",") if args.lexical_mixes else [pipe.model.attrs["lexical_mix"]])
                   for w in (args.lexical_weights.split(",") if args.lexical_weights
                             else [pipe.model.attrs["lexical_weight"]])]
        fold_of = {r.id: f for r, f in zip(train, fold)}
        all_docs = [(r.id, nlp.make_doc(r.text)) for r in splits["train"]]
        lexical_setting = (f"; lexical part: {features.attrs['max_tokens']} tokens, at most "
                           f"{features.attrs['max_features']} n-grams, l2 {args.lexical_l2}, "
                           f"learn rate {args.lexical_learn_rate}")
    else:
        weights, lexical_setting = [("probability", 0.0)], ""
    print(f"{args.head}: {args.folds}-fold cross-validation on {len(train)} training docs "
          + f"({int(y_train.any(axis=1).sum())} in the taxonomy); decisions fitted on {len(dev)} dev docs"
          + lexical_setting)
    for max_tokens, weight, k in candidates:
        X = pooled(train, max_tokens)
        X_dev = pooled(dev, max_tokens)
        results = {w: [] for w in weights}
        for f in range(args.folds):
            fit, held = fold != f, fold == f
            pipe.model.get_ref("classifier").from_bytes(initial)
            train_classifier(
                pipe, X[fit], (y_train[fit], numpy.ones((int(fit.sum()), 1), "float32")),
                X_dev=X_dev, dev_score=lambda p: micro_macro_f1(p >= 0.5, y_dev)["micro_f"],
                epochs=args.epochs, seed=args.seed, l2=WEIGHT_DECAY.get(args.head, 0.01),
                prior_bias=pipe.model.attrs.get("hidden_width") == 0,
            )
            if pipe.model.has_ref("neighbours"):
                store_neighbours(pipe, X[fit], y_train[fit])
                pipe.model.get_ref("scorer").attrs["weight"] = weight
                pipe.model.get_ref("neighbours").attrs["k"] = k
            rows_dev = rows_held = None
            if lexical:
                # The lexicon from the training split's docs outside the held-out fold, as
                # the final head's comes from every training doc.
                fit_head_lexicon(pipe.model, [doc for id_, doc in all_docs if fold_of.get(id_) != f])
                rows_fit = lexical_rows_for(pipe, nlp, [train[i] for i in numpy.flatnonzero(fit)])
                rows_dev = lexical_rows_for(pipe, nlp, dev)
                rows_held = lexical_rows_for(pipe, nlp, [train[i] for i in numpy.flatnonzero(held)])
                train_lexical(
                    pipe, rows_fit, (y_train[fit], numpy.ones((int(fit.sum()), 1), "float32")),
                    rows_dev=rows_dev, dev_score=lambda p: f1_at_best_threshold(p, y_dev),
                    epochs=args.epochs, learn_rate=args.lexical_learn_rate, l2=args.lexical_l2, seed=args.seed,
                )
            y_held = y_train[held]
            in_field = y_held.any(axis=1)
            records = [r for r, keep in zip((train[i] for i in numpy.flatnonzero(held)), in_field) if keep]
            for w in weights:
                if lexical:
                    pipe.model.attrs["lexical_mix"], pipe.model.attrs["lexical_weight"] = w
                pipe.fit_decisions(predict_classifier(pipe, X_dev, rows_dev), y_dev)
                raw = predict_classifier(pipe, X[held], rows_held)
                probs = pipe.calibrated(raw)
                results[w].append(figures(
                    pipe.taxonomy, pipe.labels, raw[in_field], probs[in_field], pipe.thresholds, y_held[in_field],
                    records, pipe.cfg.get("at_least_one", False), float(pipe.cfg.get("at_least_one_min", 0.0)),
                    probs[~in_field] if (~in_field).any() else None,
                ))
        for w in weights:
            print(summary_line(max_tokens, weight, k, w if lexical else None, results[w]), flush=True)
        log(f"done {max_tokens}:{weight}:{k}")


def summary_line(max_tokens, weight, k, lexical, results) -> str:
    """One candidate's mean figures over the folds (and micro-F1 per fold)."""
    mean = lambda key: numpy.mean([r[key] for r in results if key in r])  # noqa: E731
    per_fold = " ".join("%.3f" % r["micro_f"] for r in results)
    line = f"max_tokens {max_tokens:3d}, neighbour_weight {weight:.2f}, neighbours {k:2d}"
    if lexical is not None:
        line += f", lexical {lexical[0]} mix, weight {lexical[1]:.2f}"
    line += f": micro-F1 {mean('micro_f'):.4f} (folds {per_fold})"
    if "primary_archive_acc" in results[0]:
        line += f", primary archive {mean('primary_archive_acc'):.4f}"
    if "group_micro_f" in results[0]:
        line += f", group {mean('group_micro_f'):.4f}"
    if "out_of_field_labelled" in results[0]:
        line += f", out-of-field labelled {mean('out_of_field_labelled'):.4f}"
    return line


if __name__ == "__main__":
    main()
