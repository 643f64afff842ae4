"""Evaluate the document-category heads on the held-out test split, beside a baseline.

    python scripts/evaluate_categories.py --data DATA_DIR --model training/categories-pipeline

For each taxonomy it prints, on the seeded test split (never used for training or
tuning; same split as scripts/train_categories.py with the same --seed):

- micro / macro F1 at the thresholds fitted on dev;
- arXiv: top-1 accuracy at archive level, i.e. whether the archive of the most
  probable category is the archive of the paper's primary category (arxiv_2007
  docs, whose primary category is known);
- HRCS activity codes: micro-F1 at code level and at group level (codes rolled up
  to their group, decided and gold alike);
- expected calibration error (15 bins over every doc x label probability)
  before and after temperature scaling;
- micro-F1 of the docs left after excluding the 10/30/50% least certain ones
  (certainty: smallest logit distance of any label to its threshold).

Beside each figure, the same for two baselines, each with its own temperature and
thresholds fitted on dev in the same way: logistic regression (one per label,
scikit-learn) on

- ``LR-sent``: sentence embeddings of the same encoder (the issue's baseline): the
  encoder run with transformers on title + abstract as one sequence of up to 256
  wordpieces, masked mean pooling, L2-normalised, as sentence-transformers does
  (computed once, cached under ``training/cats/``);
- ``LR-tok``: the mean of the pipeline's own frozen token vectors of the same text
  (strided 128-token windows), the input the heads pool;
- ``LR-tfidf`` (with ``--tfidf-baseline``): tf-idf of the title and abstract's words and
  word pairs (scikit-learn; sublinear counts, at most 20,000 n-grams found in two or
  more training docs), C = 10: words alone, the lexical part's input.
- ``ZS-desc`` (zero-shot, no training): the cosine of the same sentence embedding with the
  sentence embedding of each of the label's description texts (name and description, and
  each descriptor: ERC sub-panels, HRCS inclusion items), the best per label; only its
  temperature and thresholds are fitted on dev.
ERC figures are against SILVER labels (from the arXiv/HRCS crosswalk), not gold.

``--reviewed dev|test|all`` prints instead the ERC figures on real abstracts that the project's
reviewers gave ERC panels (``scripts/data/erc_reviewed.csv``, read by ``scripts/_erc_reviewed.py``):
for the ERC head of each ``--reviewed-models`` pipeline, an untrained ``DocClassifier.v6`` head and
ZS-desc, whether the most probable panel is the reviewers' panel or their alternative and whether its
domain is theirs, for the PE and LS abstracts, all of them, and per source. The dev half is for
choosing settings, the test half for reporting.

Then, for documents from outside every head's training data (``scripts/_cats_outside.py``:
ClimateIE climate papers, PLOS articles, unarXive papers, NIHR test awards), per head and
for ZS-desc: the share that get a label and the labels they get most often, and these checks:
climate papers given ERC PE10 and an earth-science arXiv category (physics.ao-ph,
physics.geo-ph); unarXive physics papers given no HRCS label; the ERC top panel's domain
against the PLOS articles' discipline domains and the top panel against the unarXive
papers' silver panels (proxies: no text with gold ERC panels is available here).
"""
import argparse
import sys
from pathlib import Path
from typing import Dict, List

import numpy
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _cats_common import (  # noqa: E402
    HEADS, REPO, data_dir, feature_cache, feature_cache_path, lexical_rows_for, load_splits, sentence_embedding_cache,
    truths_for,
)
from spacy_scicls.calibration import (  # noqa: E402
    apply_temperature, expected_calibration_error, fit_temperature, micro_macro_f1, tune_thresholds,
)
from spacy_scicls.decisions import certainty, decide  # noqa: E402
from spacy_scicls.training.frozen import mean_pooled, pooled_features, predict_classifier  # noqa: E402

EXCLUDE = (0.1, 0.3, 0.5)


def decisions(probs, thresholds, at_least_one, at_least_one_min=0.0) -> numpy.ndarray:
    pred = numpy.zeros(probs.shape, dtype=bool)
    for i, row in enumerate(probs):
        pred[i, decide(row, thresholds, multi_label=True, at_least_one=at_least_one,
                       at_least_one_min=at_least_one_min)] = True
    return pred


def figures(taxonomy, labels, raw_test, probs_test, thresholds, y_test, records, at_least_one,
            at_least_one_min=0.0, probs_out_of_field=None) -> Dict[str, float]:
    """Every figure of one system on the test docs of one taxonomy (and, given
    ``probs_out_of_field``, the share of the other corpora's test docs it labels)."""
    pred = decisions(probs_test, thresholds, at_least_one, at_least_one_min)
    out = dict(micro_macro_f1(pred, y_test))
    out["ece_before"] = expected_calibration_error(raw_test, y_test)
    out["ece_after"] = expected_calibration_error(probs_test, y_test)
    cert = numpy.asarray([certainty(row, thresholds, multi_label=True) for row in probs_test])
    order = numpy.argsort(-cert, kind="stable")  # most certain first
    for frac in EXCLUDE:
        keep = order[: int(round(len(order) * (1 - frac)))]
        out[f"micro_f_excl{int(frac * 100)}"] = micro_macro_f1(pred[keep], y_test[keep])["micro_f"]
    if taxonomy.group_taxonomy:
        groups = sorted(taxonomy.groups)
        gidx = {g: i for i, g in enumerate(groups)}
        col_group = numpy.asarray([gidx[taxonomy.group_of(code)] for code in labels])
        g_pred = numpy.zeros((len(pred), len(groups)), dtype=bool)
        g_gold = numpy.zeros((len(pred), len(groups)), dtype=bool)
        for j, g in enumerate(col_group):
            g_pred[:, g] |= pred[:, j]
            g_gold[:, g] |= y_test[:, j] > 0.5
        out["group_micro_f"] = micro_macro_f1(g_pred, g_gold)["micro_f"]
    if taxonomy.name == "arxiv":
        primary = [i for i, r in enumerate(records) if r.source == "arxiv_2007"]
        top = probs_test[primary].argmax(axis=1)
        hits = [
            taxonomy.group_of(labels[t]) == taxonomy.group_of(records[i].labels["arxiv"][0])
            for t, i in zip(top, primary)
        ]
        out["primary_archive_acc"] = float(numpy.mean(hits)) if hits else float("nan")
        out["n_primary"] = len(hits)
    if probs_out_of_field is not None and len(probs_out_of_field):
        labelled = decisions(probs_out_of_field, thresholds, at_least_one, at_least_one_min).any(axis=1)
        out["out_of_field_labelled"] = float(labelled.mean())
    return out


def logistic_regression(X_train, y_train, X_eval: List[numpy.ndarray], seed: int) -> List[numpy.ndarray]:
    """One logistic regression per label on standardised features (the LR-sent and LR-tok baselines)."""
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(X_train)
    return per_label_logistic_regression(
        scaler.transform(X_train), y_train, [scaler.transform(X) for X in X_eval], C=1.0, seed=seed)


def tfidf_logistic_regression(train_texts, y_train, eval_texts: List[List[str]], seed: int) -> List[numpy.ndarray]:
    """One logistic regression per label on tf-idf of words and word pairs (the LR-tfidf baseline)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=20000, sublinear_tf=True)
    Xt = vectorizer.fit_transform(train_texts)
    return per_label_logistic_regression(
        Xt, y_train, [vectorizer.transform(texts) for texts in eval_texts], C=10.0, seed=seed)


def per_label_logistic_regression(Xt, y_train, Xs, C: float, seed: int) -> List[numpy.ndarray]:
    """Probabilities of one logistic regression per label for each matrix in ``Xs``; a label with one
    class in train gets its (clipped) training rate as a constant."""
    from sklearn.linear_model import LogisticRegression

    outs = [numpy.zeros((X.shape[0], y_train.shape[1])) for X in Xs]
    for j in range(y_train.shape[1]):
        col = y_train[:, j]
        if col.min() == col.max():
            for out in outs:
                out[:, j] = numpy.clip(col.mean(), 1e-4, 1 - 1e-4)
            continue
        clf = LogisticRegression(C=C, max_iter=2000, random_state=seed).fit(Xt, col)
        for out, X in zip(outs, Xs):
            out[:, j] = clf.predict_proba(X)[:, 1]
    return outs


ROWS = [
    ("micro_f", "micro-F1 at tuned thresholds"),
    ("macro_f", "macro-F1 at tuned thresholds"),
    ("primary_archive_acc", "primary-archive top-1 accuracy"),
    ("group_micro_f", "micro-F1 at group level"),
    ("ece_before", "ECE before temperature scaling"),
    ("ece_after", "ECE after temperature scaling"),
    ("micro_f_excl10", "micro-F1, 10% least certain excluded"),
    ("micro_f_excl30", "micro-F1, 30% least certain excluded"),
    ("micro_f_excl50", "micro-F1, 50% least certain excluded"),
    ("out_of_field_labelled", "other corpora's test docs given a label"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="folder with cats/<corpus> (default: $SCICLS_DATA_DIR)")
    parser.add_argument("--model", default=str(REPO / "training" / "categories-pipeline"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--heads", default=",".join(HEADS))
    parser.add_argument("--tfidf-baseline", action="store_true",
                        help="also report logistic regression on tf-idf of words and word pairs (LR-tfidf)")
    parser.add_argument("--no-outside", action="store_true",
                        help="leave out the documents from outside the training data (climate, PLOS, unarXive, awards)")
    parser.add_argument("--outside-only", action="store_true",
                        help="print only the documents from outside the training data (no test split, no baselines)")
    parser.add_argument("--outside-sets", default="climate,plos,unarxive,awards",
                        help="which documents from outside the training data to print (comma-separated)")
    parser.add_argument("--no-baselines", action="store_true",
                        help="the heads' figures alone: no LR-sent, LR-tok or ZS-desc columns (no sentence "
                        "embeddings to compute), e.g. to compare two pipelines' heads quickly")
    parser.add_argument("--reviewed", choices=("dev", "test", "all"),
                        help="print only the ERC figures on this half of the reviewer-labelled set "
                        "(scripts/data/erc_reviewed.csv): the ERC head of each --reviewed-models pipeline, "
                        "an untrained DocClassifier.v6 ERC head and ZS-desc")
    parser.add_argument("--reviewed-models", default=None,
                        help="comma-separated pipelines whose ERC heads --reviewed scores (default: --model)")
    parser.add_argument("--zero-shot-heads", action="store_true",
                        help="instead of --model, evaluate heads that were never trained: the default head "
                        "(DocClassifier.v6) of each taxonomy on the encoder of configs/categories.cfg, "
                        "initialized with no training data")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    import spacy

    if args.reviewed:
        print_reviewed(data_dir(args.data), args.reviewed, (args.reviewed_models or args.model).split(","),
                       args.threads)
        return
    splits = load_splits(data_dir(args.data), args.seed)
    nlp = zero_shot_pipeline(args.heads.split(",")) if args.zero_shot_heads else spacy.load(args.model)
    if args.outside_only:
        print(f"model: {'untrained DocClassifier.v6 heads' if args.zero_shot_heads else args.model}")
        print_outside(nlp, data_dir(args.data), splits["test"], args.heads.split(","), {}, args.threads,
                      args.outside_sets.split(","))
        return
    cache = feature_cache(
        nlp, splits["train"] + splits["dev"] + splits["test"],
        feature_cache_path(nlp, args.seed),
    )
    sentence = None if args.no_baselines else sentence_embedding_cache(
        splits["train"] + splits["dev"] + splits["test"],
        REPO / "training" / "cats" / f"sentence-embeddings-seed{args.seed}.npz", threads=args.threads,
    )
    print(f"Test split (seed {args.seed}): {len(splits['test'])} docs; model {args.model}")
    zero_shot_fits = {}
    for name in args.heads.split(","):
        pipe = nlp.get_pipe(name)
        tax = pipe.taxonomy
        reading = pipe.model.get_ref("reading").attrs
        train, y_train = truths_for(pipe, splits["train"])
        dev, y_dev = truths_for(pipe, splits["dev"])
        test, y_test = truths_for(pipe, splits["test"])
        ids = lambda rs: [r.id for r in rs]  # noqa: E731
        at_least_one = pipe.cfg.get("at_least_one", False)
        # The other corpora's test docs (NIHR awards for arXiv, arXiv papers for
        # HRCS): a head should give them no label.
        in_field = set(ids(test))
        others = [r for r in splits["test"] if r.id not in in_field]

        X_test, X_others = (
            pooled_features(cache, ids(rs), max_tokens=reading["max_tokens"], max_title_tokens=reading["max_title_tokens"])
            for rs in (test, others)
        )
        raw = predict_classifier(pipe, X_test, lexical_rows_for(pipe, nlp, test))
        head = figures(tax, pipe.labels, raw, pipe.calibrated(raw), pipe.thresholds, y_test, test, at_least_one,
                       float(pipe.cfg.get("at_least_one_min", 0.0)),
                       pipe.calibrated(predict_classifier(pipe, X_others, lexical_rows_for(pipe, nlp, others)))
                       if others else None)

        M = lambda rs: mean_pooled(cache, ids(rs), max_tokens=reading["max_tokens"])  # noqa: E731
        S = lambda rs: numpy.stack([sentence[i] for i in ids(rs)])  # noqa: E731
        T = lambda rs: [r.text for r in rs]  # noqa: E731
        systems = [] if args.no_baselines else [("LR-sent", S, logistic_regression), ("LR-tok", M, logistic_regression)]
        if not args.no_baselines:
            descriptions = description_embeddings(tax, pipe.labels, threads=args.threads)
            systems.append(("ZS-desc", S, lambda _X, _y, evaluated, _seed: [zero_shot(X, *descriptions)
                                                                             for X in evaluated]))
        if args.tfidf_baseline:
            systems.append(("LR-tfidf", T, tfidf_logistic_regression))
        baselines = {}
        for key, features, fit in systems:
            evaluated = [features(dev), features(test)] + ([features(others)] if others else [])
            lr_dev, lr_test, *lr_others = fit(features(train), y_train, evaluated, args.seed)
            temperature = fit_temperature(lr_dev, y_dev, multi_label=True)
            thresholds, _ = tune_thresholds(apply_temperature(lr_dev, temperature, multi_label=True), y_dev)
            if key == "ZS-desc":
                zero_shot_fits[name] = (descriptions, temperature, thresholds)
            baselines[key] = (temperature, figures(
                tax, pipe.labels, lr_test, apply_temperature(lr_test, temperature, multi_label=True),
                thresholds, y_test, test, at_least_one,
                probs_out_of_field=apply_temperature(lr_others[0], temperature, multi_label=True) if others else None,
            ))

        silver = " (SILVER labels from the crosswalk)" if name == "erc" else ""
        temps = ", ".join(f"{k} {t:.2f}" for k, (t, _) in baselines.items())
        print(f"\n== {name}{silver}: {len(pipe.labels)} labels, {len(train)} train / {len(dev)} dev / "
              f"{len(test)} test docs; temperature: head {pipe.temperature:.2f}, {temps}")
        print(f"{'':42s} {'head':>8s} " + " ".join(f"{k:>8s}" for k in baselines))
        for key, label in ROWS:
            if key in head:
                extra = f"   (n={head['n_primary']} arxiv_2007 docs)" if key == "primary_archive_acc" else ""
                extra = f"   (n={len(others)}; lower is better)" if key == "out_of_field_labelled" else extra
                cols = " ".join(f"{b[key]:8.4f}" for _, b in baselines.values())
                print(f"{label:42s} {head[key]:8.4f} {cols}{extra}")
    if not args.no_outside:
        print_outside(nlp, data_dir(args.data), splits["test"], args.heads.split(","), zero_shot_fits, args.threads,
                      args.outside_sets.split(","))


def print_reviewed(data, half: str, models, threads: int) -> None:
    """ERC top panel and domain right on the reviewer-labelled set, per system, for PE+LS, all and per source."""
    import spacy

    from _erc_reviewed import format_figures, read_reviewed, reviewed_docs, reviewed_figures, split_of
    from spacy_scicls.training.sentence_embeddings import sentence_embeddings

    items = [item for item in read_reviewed() if half == "all" or split_of(item) == half]
    texts = reviewed_docs(data, items)
    print(f"ERC reviewer-labelled set ({half} half, {len(items)} abstracts): top panel right = the most probable "
          "panel is the reviewers' panel or their alternative; domain right = its domain is theirs")

    def top_panels(nlp):
        keys = nlp.get_pipe("erc").cat_keys
        codes = nlp.get_pipe("erc").labels
        return [codes[max(range(len(keys)), key=lambda j: doc.cats[keys[j]])] for doc in nlp.pipe(texts, batch_size=16)]

    systems = [(model, lambda model=model: top_panels(spacy.load(model))) for model in models]
    systems.append(("untrained DocClassifier.v6", lambda: top_panels(zero_shot_pipeline(["erc"]))))

    def zs_desc():
        head = zero_shot_pipeline(["erc"]).get_pipe("erc")
        vectors, owners = description_embeddings(head.taxonomy, head.labels, threads=threads)
        torch.set_num_threads(threads)
        return [head.labels[j] for j in zero_shot(sentence_embeddings(texts), vectors, owners).argmax(axis=1)]

    systems.append(("ZS-desc", zs_desc))
    for name, run in systems:
        print()
        for line in format_figures(Path(name).name if Path(name).exists() else name,
                                   reviewed_figures(items, run())):
            print(line)


def zero_shot_pipeline(heads):
    """The transformer of configs/categories.cfg and, per taxonomy, a default (v6) head with no training data."""
    import spacy

    from _cats_common import CONFIG

    config = spacy.util.load_config(CONFIG)
    nlp = spacy.blank("en")
    nlp.add_pipe("transformer", config={"model": dict(config["components"]["transformer"]["model"])})
    for name in heads:
        nlp.add_pipe("scicls_doc_categories", name=name, config={"taxonomy": name})
    nlp.initialize()
    return nlp


def description_embeddings(taxonomy, labels, threads: int = 1):
    """Sentence embeddings of every description text of ``labels`` and each text's label index."""
    from spacy_scicls.training.sentence_embeddings import sentence_embeddings

    texts, owners = [], []
    for j, code in enumerate(labels):
        for text in taxonomy.label(code).description_texts():
            texts.append(text)
            owners.append(j)
    torch.set_num_threads(threads)
    return sentence_embeddings(texts), numpy.asarray(owners)


def zero_shot(X, vectors, owners) -> numpy.ndarray:
    """ZS-desc: per label, the best cosine of each (unit) row with its (unit) description vectors,
    as a probability-like score in 0..1 (monotone, so that dev-fitted thresholds decide)."""
    S = numpy.asarray(X, dtype="float64") @ numpy.asarray(vectors, dtype="float64").T
    best = numpy.stack([S[:, owners == j].max(axis=1) for j in range(owners.max() + 1)], axis=1)
    return 1.0 / (1.0 + numpy.exp(-20.0 * (best - 0.3)))


def print_outside(nlp, data, test_records, heads, zero_shot_fits, threads: int, which=None) -> None:
    """The share of outside documents that each head (and ZS-desc) labels, which labels, and the checks."""
    from _cats_outside import is_physics, outside_sets, summarise
    from spacy_scicls.training.sentence_embeddings import sentence_embeddings

    sets = outside_sets(data, test_records)
    if which is not None:
        unknown = sorted(set(which) - set(sets))
        if unknown:
            raise SystemExit(f"unknown outside sets {unknown}; choose among {list(sets)}")
        sets = {name: docs for name, docs in sets.items() if name in which}
    print("\n== documents from outside the heads' training data (title and abstract)")
    for set_name, docs in sets.items():
        texts = [d.text for d in docs]
        annotated = list(nlp.pipe(texts, batch_size=16))
        torch.set_num_threads(threads)
        # ZS-desc's sentence embeddings, only where it was fitted (not with --no-baselines)
        embedded = sentence_embeddings(texts) if any(h in zero_shot_fits for h in heads) else None
        print(f"\n-- {set_name}: {len(docs)} docs")
        for name in heads:
            pipe = nlp.get_pipe(name)
            tax = pipe.taxonomy.name
            systems = {"head": [doc._.scicls_labels.get(tax, []) for doc in annotated]}
            if name in zero_shot_fits:
                (vectors, owners), temperature, thresholds = zero_shot_fits[name]
                probs = apply_temperature(zero_shot(embedded, vectors, owners), temperature, multi_label=True)
                pred = decisions(probs, thresholds, pipe.cfg.get("at_least_one", False))
                order = numpy.argsort(-probs, axis=1)
                systems["ZS-desc"] = [[pipe.labels[j] for j in row if pred[i, j]] for i, row in enumerate(order)]
            for system, decided in systems.items():
                share, top = summarise(decided)
                checks = outside_checks(set_name, name, docs, decided, is_physics)
                print(f"{name:9s} {system:8s} labelled {share:6.3f}   {checks}   most often: {top}")


def outside_checks(set_name, head, docs, decided, is_physics) -> str:
    """The figures that say whether a head is right on an outside set (empty where none applies)."""
    n = len(docs)
    if set_name == "climate" and head == "erc":
        return f"PE10 given {sum('PE10' in d for d in decided) / n:.3f}, top PE10 {sum(d[:1] == ['PE10'] for d in decided) / n:.3f}"
    if set_name == "climate" and head == "arxiv":
        earth = ("physics.ao-ph", "physics.geo-ph")
        return f"earth-science category given {sum(any(c in earth for c in d) for d in decided) / n:.3f}"
    if set_name == "unarxive" and head.startswith("hrcs"):
        physics = [d for doc, d in zip(docs, decided) if is_physics(doc)]
        return f"physics papers with an HRCS label {sum(bool(d) for d in physics)}/{len(physics)}"
    if set_name == "plos" and head == "erc":
        known = [(doc.known["erc_domain"], d) for doc, d in zip(docs, decided) if doc.known.get("erc_domain")]
        right = sum(bool(d) and d[0][:2] in domains for domains, d in known)
        return f"top panel's domain among the disciplines' domains {right}/{len(known)}"
    if set_name == "unarxive" and head == "erc":
        known = [(doc.known["erc"], d) for doc, d in zip(docs, decided) if doc.known.get("erc")]
        right = sum(bool(d) and d[0] in panels for panels, d in known)
        domain = sum(bool(d) and d[0][:2] in {p[:2] for p in panels} for panels, d in known)
        return f"top panel among the silver panels {right}/{len(known)}, domain {domain}/{len(known)}"
    return ""


if __name__ == "__main__":
    main()
