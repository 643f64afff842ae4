"""Train the document-category heads on the frozen shared encoder, then fit their decisions.

    python scripts/train_categories.py --data DATA_DIR --output training/categories-pipeline

DATA_DIR holds ``cats/arxiv_2007``, ``cats/arxiv_ml`` and ``cats/hrcs_nihr`` (or set
SCICLS_DATA_DIR). Steps:

1. read the three corpora, add silver ERC panels through the crosswalk, and split
   them train/dev/test with a seeded hash of each title (``--seed``);
2. build ``configs/categories.cfg`` (one transformer, heads erc, arxiv, hrcs_rac,
   hrcs_hc) and initialise it on the training docs;
3. encode every doc once with the frozen transformer; the token vectors are cached
   under ``training/cats/`` so later runs and the evaluation skip this step;
4. train each head's classifier on the pooled rows of its training docs (binary
   cross-entropy, weight decay per head: ``WEIGHT_DECAY``), keeping the epoch with
   the best dev micro-F1 (a head's training docs weighted towards balanced primary labels
   where ``BALANCE`` says so, and a head scored by descriptions also fitted on its labels'
   description texts as short docs, ``DESCRIPTION_DOCS``); a head with a neighbour vote (``DocClassifier.v4``, ``.v5``)
   then stores its training docs (out-of-field ones included) for the vote; a head
   with a lexical part (``DocClassifier.v5``; its lexicon is fitted on every
   training doc when the pipeline is initialised) trains it beside, on the tf-idf
   rows of the same docs (SGD, ``LEXICAL_LEARN_RATE``, ``LEXICAL_L2``), again keeping its best dev epoch;
5. fit each head's temperature and per-label thresholds on dev (``calibrate``);
6. save the pipeline, and check that the saved pipeline, run on raw text, gives the
   probabilities of the cached path.

The test split is never used here; ``scripts/evaluate_categories.py`` reports on it.
"""
import argparse
import sys
from pathlib import Path

import numpy
import torch
from thinc.api import fix_random_seed

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _cats_common import (  # noqa: E402
    CACHE_TOKENS, CONFIG, HEADS, REPO, build_pipeline, data_dir, feature_cache, feature_cache_path, f1_at_best_threshold,
    lexical_rows_for, load_splits, log, truths_for, with_out_of_field,
)
from spacy_scicls.calibration import micro_macro_f1  # noqa: E402
from spacy_scicls.training.frozen import (  # noqa: E402
    pooled_features, predict_classifier, store_neighbours, train_classifier, train_lexical,
)

# Decoupled weight decay per head, chosen on dev: the linear HRCS heads (a few
# hundred training docs) need strong decay, the MLP heads little. The ERC head
# (DocClassifier.v7) is a description score plus a linear residual: strong decay
# keeps the residual a correction (chosen on the reviewer-labelled ERC set's dev half).
WEIGHT_DECAY = {"erc": 1.0, "arxiv": 0.01, "hrcs_rac": 1.0, "hrcs_hc": 1.0}
# Per head, how far each training doc's weight is moved towards balancing its primary
# label: weight (mean count / count of the primary label) ** power (0: every doc
# weighs 1). The ERC labels are silver, from a crosswalk of arXiv and HRCS labels, so
# a few panels (PE9 from astro-ph, PE3 from cond-mat, LS7 from the awards) carry most
# docs; balanced, they no longer teach the residual that those panels are the likely ones.
BALANCE = {"erc": 1.0}
# Per head scored by descriptions, the weight of each label's description texts
# (name and description, each descriptor) added as short training docs of that label:
# they teach the residual every label, those the silver labels never reach included.
DESCRIPTION_DOCS = {"erc": 1.0}
# The lexical part (DocClassifier.v5, trained by SGD): L2 penalty and learning rate,
# chosen by cross-validation on the training split (scripts/cv_categories.py).
LEXICAL_L2 = 1e-4
LEXICAL_LEARN_RATE = 30.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="folder with cats/<corpus> (default: $SCICLS_DATA_DIR)")
    parser.add_argument("--output", default=str(REPO / "training" / "categories-pipeline"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--learn-rate", type=float, default=0.001)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--heads", default=",".join(HEADS))
    parser.add_argument("--config", default=str(CONFIG), help="the heads' config (default: configs/categories.cfg)")
    parser.add_argument("--out-of-field", type=float, default=1.0,
                        help="documents of the other corpora added as all-negative examples, as a multiple "
                        "of the head's own documents (0: none)")
    parser.add_argument("--weight-decay", type=float, help="for every head (default: WEIGHT_DECAY per head)")
    parser.add_argument("--balance", type=float,
                        help="power of the primary-label balancing weights, for every head (default: BALANCE per head)")
    parser.add_argument("--description-docs", type=float,
                        help="weight of the label description texts as training docs, for every head scored by "
                        "descriptions (default: DESCRIPTION_DOCS per head; 0: none)")
    parser.add_argument("--encoder", help="the shared encoder's name or path (default: the config's)")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="override a setting of configs/categories.cfg, e.g. "
                        "components.arxiv.model.hidden_width=256 (repeatable; VALUE read as JSON, else text)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    fix_random_seed(args.seed)
    splits = load_splits(data_dir(args.data), args.seed)
    log("records: " + ", ".join(f"{k} {len(v)}" for k, v in splits.items()))
    overrides = {}
    if args.encoder:
        overrides["components.transformer.model.name"] = args.encoder
    overrides.update(parse_setting(text) for text in args.set)
    nlp = build_pipeline(splits["train"], config_path=Path(args.config), overrides=overrides)
    cache = feature_cache(
        nlp, splits["train"] + splits["dev"] + splits["test"],
        feature_cache_path(nlp, args.seed),
    )
    for name in args.heads.split(","):
        pipe = nlp.get_pipe(name)
        reading = pipe.model.get_ref("reading").attrs
        if reading["max_tokens"] > CACHE_TOKENS:
            sys.exit(f"[{name}] reads {reading['max_tokens']} tokens; the feature cache keeps {CACHE_TOKENS}")
        feats = lambda records: pooled_features(  # noqa: E731
            cache, [r.id for r in records], max_tokens=reading["max_tokens"],
            max_title_tokens=reading["max_title_tokens"],
        )
        train, y_train = truths_for(pipe, splits["train"])
        dev, y_dev = truths_for(pipe, splits["dev"])
        if args.out_of_field > 0:
            # Documents of the other corpora, all labels negative, in training and on dev.
            train, y_train, n_train = with_out_of_field(splits["train"], train, y_train, args.out_of_field, args.seed)
            dev, y_dev, n_dev = with_out_of_field(splits["dev"], dev, y_dev, args.out_of_field, args.seed)
            log(f"[{name}] out-of-field documents: {n_train} train / {n_dev} dev")
        X_train, X_dev = feats(train), feats(dev)
        log(f"[{name}] {len(pipe.labels)} labels, {len(train)} train / {len(dev)} dev docs")
        # What the classifier is fitted on: the training docs, and for a head scored by
        # descriptions its description texts (below); the neighbour vote and the lexical
        # part keep to the training docs.
        X_fit, y_fit = X_train, y_train
        power = args.balance if args.balance is not None else BALANCE.get(name, 0.0)
        mask = balancing_weights(train, pipe.taxonomy.name, power)[:, None]
        if power:
            log(f"[{name}] docs weighted towards balanced primary labels (power {power}): weights "
                f"{mask.min():.2f} to {mask.max():.2f}")
        by_description = pipe.model.has_ref("label_descriptions")
        if by_description:
            # A label no training doc carries (ERC panels the crosswalk never reaches)
            # is left to its description: its column is out of the loss, so training
            # does not learn "never" for it.
            mask = numpy.repeat(mask, len(pipe.labels), axis=1) * (y_train.sum(axis=0, keepdims=True) > 0)
            log(f"[{name}] scored by descriptions; {int((y_train.sum(axis=0) == 0).sum())} labels without "
                "training docs left to their descriptions")
            weight = args.description_docs if args.description_docs is not None else DESCRIPTION_DOCS.get(name, 0.0)
            if weight > 0:
                X_desc, y_desc = description_docs(nlp, pipe, reading)
                X_fit, y_fit = numpy.vstack([X_train, X_desc]), numpy.vstack([y_train, y_desc])
                mask = numpy.vstack([mask, numpy.full(y_desc.shape, weight, "float32")])
                log(f"[{name}] {len(X_desc)} description texts added as training docs (weight {weight})")
        result = train_classifier(
            pipe, X_fit, (y_fit, mask),
            X_dev=X_dev, dev_score=lambda p: micro_macro_f1(p >= 0.5, y_dev)["micro_f"],
            epochs=args.epochs, learn_rate=args.learn_rate, seed=args.seed,
            l2=args.weight_decay if args.weight_decay is not None else WEIGHT_DECAY.get(name, 0.01),
            # a linear head (zero weights at first) starts from the label priors
            prior_bias=pipe.model.attrs.get("hidden_width") == 0 and not by_description,
        )
        log(f"[{name}] best dev micro-F1 at 0.5: {result['best_dev']:.4f} (epoch {result['best_epoch']})")
        # A head whose vote has no weight (the activity codes) stores no docs for it.
        voting = pipe.model.has_ref("scorer") and pipe.model.get_ref("scorer").attrs["weight"] > 0
        stored = store_neighbours(pipe, X_train, y_train) if voting else 0
        if stored:
            log(f"[{name}] neighbour vote: {stored} training docs stored")
        rows_train, rows_dev = lexical_rows_for(pipe, nlp, train), lexical_rows_for(pipe, nlp, dev)
        if rows_train is not None:
            lexical = train_lexical(
                pipe, rows_train, (y_train, numpy.ones((len(train), 1), "float32")),
                rows_dev=rows_dev, dev_score=lambda p: f1_at_best_threshold(p, y_dev),
                epochs=args.epochs, learn_rate=LEXICAL_LEARN_RATE, l2=LEXICAL_L2, seed=args.seed,
            )
            log(f"[{name}] lexical part ({len(pipe.model.get_ref('lexical_features').get_param('keys'))} n-grams): "
                f"best dev micro-F1 at one threshold {lexical['best_dev']:.4f} (epoch {lexical['best_epoch']}); "
                f"{pipe.model.attrs['lexical_mix']} mix, weight {pipe.model.attrs['lexical_weight']}; "
                f"{lexical_cost_ms(pipe, nlp, dev):.2f} ms per dev doc")
        report = pipe.fit_decisions(predict_classifier(pipe, X_dev, rows_dev), y_dev)
        log(f"[{name}] fitted on dev: temperature {report['temperature']:.3f}, "
            f"global threshold {report.get('threshold', pipe.cfg['threshold']):.2f}, "
            f"at_least_one_min {pipe.cfg.get('at_least_one_min', 0.0):.2f}")
        log(f"[{name}] on dev, decisions fitted on it (optimistic; for comparing settings): "
            + dev_summary(pipe, predict_classifier(pipe, X_dev, rows_dev), y_dev, dev))
    output = Path(args.output)
    nlp.to_disk(output)
    log(f"saved {output}")
    check_saved_pipeline(output, splits["test"][:8], cache, args.heads.split(","))


def balancing_weights(records, taxonomy: str, power: float) -> numpy.ndarray:
    """One weight per record: ``(mean count / count of its primary label) ** power``; 1 for a
    record without a label of ``taxonomy`` (the out-of-field docs) and for every record at power 0."""
    from collections import Counter

    primary = [r.labels[taxonomy][0] if r.labels.get(taxonomy) else None for r in records]
    counts = Counter(code for code in primary if code)
    weights = numpy.ones(len(records), "float32")
    if power and counts:
        mean = numpy.mean(list(counts.values()))
        for i, code in enumerate(primary):
            if code:
                weights[i] = (mean / counts[code]) ** power
    return weights


def description_docs(nlp, pipe, reading):
    """Pooled rows of each label's description texts, read as short docs by the frozen encoder, and
    their truths (the describing label alone): what a description head adds to its training docs."""
    from spacy_scicls.training.frozen import encode_token_vectors

    texts, owners = [], []
    for j, code in enumerate(pipe.labels):
        for text in pipe.taxonomy.label(code).description_texts():
            texts.append(text)
            owners.append(j)
    ids = [f"description:{i}" for i in range(len(texts))]
    cache = encode_token_vectors(nlp, [nlp.make_doc(t) for t in texts], ids, head=pipe.name,
                                 max_tokens=reading["max_tokens"])
    X = pooled_features(cache, ids, max_tokens=reading["max_tokens"], max_title_tokens=reading["max_title_tokens"])
    truths = numpy.zeros((len(texts), len(pipe.labels)), "float32")
    truths[numpy.arange(len(texts)), owners] = 1.0
    return X, truths


def lexical_cost_ms(pipe, nlp, records) -> float:
    """Milliseconds per doc that the head's lexical part takes on tokenized docs (features and scores)."""
    import time

    from spacy_scicls.training.frozen import lexical_rows, predict_lexical

    docs = [nlp.make_doc(r.text) for r in records]
    start = time.perf_counter()
    predict_lexical(pipe, lexical_rows(pipe, docs))
    return 1000 * (time.perf_counter() - start) / max(len(docs), 1)


def parse_setting(text: str):
    """``"section.key=value"`` -> ``("section.key", value)``, the value read as JSON where it parses."""
    import json

    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        sys.exit(f"--set takes SECTION.KEY=VALUE, got {text!r}")
    try:
        return key.strip(), json.loads(value)
    except ValueError:
        return key.strip(), value


def dev_summary(pipe, raw, truths, records) -> str:
    """Micro-F1 (and arXiv primary-archive accuracy) of the head on its in-field dev docs."""
    from evaluate_categories import figures

    in_field = truths.any(axis=1)
    kept = [r for r, keep in zip(records, in_field) if keep]
    probs = pipe.calibrated(raw)
    result = figures(pipe.taxonomy, pipe.labels, raw[in_field], probs[in_field], pipe.thresholds, truths[in_field],
                     kept, pipe.cfg.get("at_least_one", False), float(pipe.cfg.get("at_least_one_min", 0.0)),
                     probs[~in_field] if (~in_field).any() else None)
    names = {"micro_f": "micro-F1", "primary_archive_acc": "primary archive", "group_micro_f": "group micro-F1",
             "out_of_field_labelled": "out-of-field labelled"}
    return ", ".join(f"{label} {result[key]:.4f}" for key, label in names.items() if key in result)


def check_saved_pipeline(path: Path, records, cache, heads) -> None:
    """The saved pipeline on raw text gives what the cached path gives."""
    import spacy

    nlp = spacy.load(path)
    docs = list(nlp.pipe([r.text for r in records]))
    worst = 0.0
    for name in heads:
        pipe = nlp.get_pipe(name)
        reading = pipe.model.get_ref("reading").attrs
        X = pooled_features(cache, [r.id for r in records], max_tokens=reading["max_tokens"],
                            max_title_tokens=reading["max_title_tokens"])
        expected = pipe.calibrated(predict_classifier(pipe, X, lexical_rows_for(pipe, nlp, records)))
        got = numpy.asarray([[doc.cats[key] for key in pipe.cat_keys] for doc in docs])
        worst = max(worst, float(numpy.abs(expected - got).max()))
    log(f"saved pipeline vs cached features on {len(docs)} test docs: max |dp| = {worst:.2e}")
    if worst > 1e-2:
        sys.exit("the saved pipeline does not reproduce the cached path")


if __name__ == "__main__":
    main()
