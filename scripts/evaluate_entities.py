"""Train and evaluate entity recognisers on the shared transformer.

    python scripts/evaluate_entities.py eval --corpus climateie scierc biodivner
    python scripts/evaluate_entities.py thresholds --model training/entities-climateie
    python scripts/evaluate_entities.py spread --model training/entities-climateie

``eval`` reads each corpus (``--data-dir`` or $SCICLS_DATA_DIR; readers and
seeded splits in ``spacy_scicls.corpora``), runs the shared transformer ONCE
over every doc (token vectors cached under ``corpus/``), then trains, on the
same frozen vectors and training split, three systems that read them through
``TransformerListener``s: ``scicls`` (this package's ``scicls_entities``),
spaCy's ``ner`` and spaCy's ``spancat``. Each keeps the epoch with the best
dev F1; ``scicls`` also picks its threshold on dev. The script prints strict
entity-level precision, recall and F1 (exact character boundaries and label),
per label and overall, on the test split, which no system trained or was
tuned on. Gold is every annotated entity, nested ones included.

``--cv-folds K`` picks the head's threshold on more than the dev split: K
heads, each trained on all training docs but one fold, score their held-out
fold, and the selected head scores dev; the threshold with the best F1 over
all those docs is kept. ``--save`` saves the transformer and the head.

``--label-thresholds`` also fits a threshold per label on the same held-out
scores as the global one, shrunk towards it by a prior chosen by cross-fitting
over the groups of docs (``spacy_scicls.entities.thresholds``); the head keeps
none where they do not beat the global threshold.

``thresholds`` prints a saved head's P/R/F1 on dev and test at every threshold;
``spread`` its F1 per test paper and a bootstrap over the papers.
"""
import argparse
import contextlib
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Dict, List, Tuple

import numpy
import spacy
from spacy.training import Example
from thinc.api import Adam, fix_random_seed

import spacy_scicls  # noqa: F401 (registers factories and architectures)
from spacy_scicls.corpora.entities import ALL_ENTITIES_KEY, load_entity_corpus
from spacy_scicls.entities.frozen import chunk_doc, pooled_token_vectors, with_token_vectors
from spacy_scicls.entities.thresholds import ScoredDoc, fit_label_thresholds
from spacy_scicls import bootstrap
from spacy_scicls.threads import set_cpu_threads

REPO = Path(__file__).resolve().parents[1]
DEFAULT_ENCODER = "sentence-transformers/all-MiniLM-L6-v2"
SYSTEMS = ("scicls", "ner", "spancat")
SPANCAT_KEY = "sc"
# Thresholds the head may take, picked on dev.
THRESHOLDS = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)


def data_dir_of(args) -> str:
    """The data folder: ``--data-dir``, else $SCICLS_DATA_DIR; a clear exit without either."""
    data_dir = getattr(args, "data_dir", None) or os.environ.get("SCICLS_DATA_DIR")
    if not data_dir:
        sys.exit("give --data-dir or set SCICLS_DATA_DIR")
    return data_dir


def listener() -> dict:
    return {
        "@architectures": "spacy-transformers.TransformerListener.v1",
        "grad_factor": 1.0,
        "upstream": "transformer",
        "pooling": {"@layers": "reduce_mean.v1"},
    }


def head_model(args) -> dict:
    """The span head's model config from the command line."""
    return {
        "@architectures": "spacy_scicls.SpanEntityScorer.v2", "max_width": args.max_width,
        "span_width": args.span_width, "hidden_width": args.hidden_width, "tok2vec": listener(),
        "normalize": args.layer_norm, "prune_ratio": args.prune_ratio, "context_width": args.context_width,
        "context_depth": args.context_depth, "context_window": args.context_window,
        "input_dropout": args.input_dropout,
        # None, not a missing key: a missing key would take the component's default features.
        "features": token_features(args.features_width) if args.features_width else None,
    }


def token_features(width: int) -> dict:
    """The head's own embedding of each token's form (case, digits, affixes)."""
    return {"@architectures": "spacy.MultiHashEmbed.v2", "width": width,
            "attrs": ["NORM", "PREFIX", "SUFFIX", "SHAPE"], "rows": [5000, 1000, 2500, 2500],
            "include_static_vectors": False}


def build_nlp(encoder: str, systems, max_width: int, args=None, transformer_config=None) -> spacy.Language:
    nlp = spacy.blank("en")
    nlp.add_pipe(
        "transformer",
        config={
            "model": {
                "@architectures": "spacy_scicls.TransformerModel.v1",
                "name": encoder,
                "mixed_precision": False,
                "get_spans": {"@span_getters": "spacy-transformers.strided_spans.v1", "window": 128, "stride": 96},
                "grad_scaler_config": {},
                "tokenizer_config": {"use_fast": True},
                "transformer_config": dict(transformer_config or {}),
            },
            "set_extra_annotations": {"@annotation_setters": "spacy-transformers.null_annotation_setter.v1"},
            "max_batch_items": 4096,
        },
    )
    if "scicls" in systems:
        nlp.add_pipe(
            "scicls_entities",
            name="scicls",
            config={
                "ents_policy": "replace",
                "positive_weight": args.positive_weight if args else 5.0,
                "model": head_model(args) if args else {"max_width": max_width, "tok2vec": listener()},
            },
        )
    if "ner" in systems:
        nlp.add_pipe(
            "ner",
            config={
                "model": {
                    "@architectures": "spacy.TransitionBasedParser.v2",
                    "state_type": "ner",
                    "extra_state_tokens": False,
                    "hidden_width": 64,
                    "maxout_pieces": 2,
                    "use_upper": False,
                    "tok2vec": listener(),
                }
            },
        )
    if "spancat" in systems:
        nlp.add_pipe(
            "spancat",
            config={
                "spans_key": SPANCAT_KEY,
                "threshold": 0.5,
                "suggester": {"@misc": "spacy.ngram_range_suggester.v1", "min_size": 1, "max_size": max_width},
                "model": {
                    "@architectures": "spacy.SpanCategorizer.v1",
                    "reducer": {"@layers": "spacy.mean_max_reducer.v1", "hidden_size": 128},
                    "scorer": {"@layers": "spacy.LinearLogistic.v1"},
                    "tok2vec": listener(),
                },
            },
        )
    return nlp


# -- frozen encoder: token vectors computed once ------------------------------
def encode(nlp, docs, cache: Path) -> List[numpy.ndarray]:
    if cache.exists():
        stored = numpy.load(cache)
        vectors = [stored[f"doc{i}"] for i in range(len(docs))]
        if all(v.shape[0] == len(d) for v, d in zip(vectors, docs)):
            return vectors
    transformer = nlp.get_pipe("transformer")
    vectors = []
    start = time.time()
    for doc in docs:
        copy = with_token_vectors(doc, numpy.zeros((len(doc), 1), dtype="float32"))
        copy._.trf_data = None
        copy = next(transformer.pipe([copy], batch_size=1))
        vectors.append(pooled_token_vectors(copy._.trf_data, len(copy)))
    print(f"  encoded {len(docs)} docs, {sum(len(d) for d in docs)} tokens in {time.time() - start:.0f}s", flush=True)
    cache.parent.mkdir(parents=True, exist_ok=True)
    numpy.savez(cache, **{f"doc{i}": v for i, v in enumerate(vectors)})
    return vectors


def make_examples(golds, vectors, chunk: int) -> List[Example]:
    examples = []
    for gold, vec in zip(golds, vectors):
        pieces = chunk_doc(gold, vec, chunk, [ALL_ENTITIES_KEY]) if chunk else [(gold, vec)]
        for piece, piece_vec in pieces:
            piece.spans[SPANCAT_KEY] = list(piece.ents)
            examples.append(Example(with_token_vectors(piece, piece_vec), piece))
    return examples


# -- strict scores ---------------------------------------------------------
def gold_set(doc) -> set:
    spans = doc.spans[ALL_ENTITIES_KEY] if ALL_ENTITIES_KEY in doc.spans else doc.ents
    return {(s.start_char, s.end_char, s.label_) for s in spans}


def prf(golds: List[set], preds: List[set]) -> Dict[str, Tuple[float, float, float, int]]:
    tp, fp, fn = Counter(), Counter(), Counter()
    for gold, pred in zip(golds, preds):
        for s in pred & gold:
            tp[s[2]] += 1
        for s in pred - gold:
            fp[s[2]] += 1
        for s in gold - pred:
            fn[s[2]] += 1
    out = {}
    for label in sorted(set(tp) | set(fp) | set(fn)) + ["OVERALL"]:
        t = sum(tp.values()) if label == "OVERALL" else tp[label]
        p_ = sum(fp.values()) if label == "OVERALL" else fp[label]
        n_ = sum(fn.values()) if label == "OVERALL" else fn[label]
        p = t / (t + p_) if t + p_ else 0.0
        r = t / (t + n_) if t + n_ else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        out[label] = (p, r, f, t + n_)
    return out


def predict(nlp, system: str, examples: List[Example], threshold=None) -> List[set]:
    component = nlp.get_pipe(system)
    docs = [with_token_vectors(eg.reference, _vectors_of(eg)) for eg in examples]
    if threshold is not None:
        component.cfg["threshold"] = threshold
    docs = list(component.pipe(docs, batch_size=8))
    if system == "spancat":
        return [{(s.start_char, s.end_char, s.label_) for s in d.spans[SPANCAT_KEY]} for d in docs]
    return [{(s.start_char, s.end_char, s.label_) for s in d.ents} for d in docs]


def _vectors_of(eg: Example) -> numpy.ndarray:
    return eg.predicted._.trf_data.model_output.last_hidden_state[0]


def train_system(nlp, system, train, dev, epochs, batch_size, learn_rate, seed, minutes, patience=0, *,
                 averages=True, lr_decay=1.0, dropout=0.1, l2=0.0) -> Tuple[float, int]:
    """Train ``system`` for up to ``epochs`` epochs or ``minutes`` minutes, or until ``patience``
    epochs in a row (0: never) bring no better dev F1; keep its best dev epoch.

    With ``averages``, the system is evaluated and kept with the optimizer's moving
    averages of its weights (as ``spacy train`` does) rather than the last step's
    weights; the learning rate is multiplied by ``lr_decay`` after every epoch."""
    component = nlp.get_pipe(system)
    began = time.time()
    optimizer = Adam(learn_rate, L2=l2, use_averages=averages)
    dev_gold = [gold_set(eg.reference) for eg in dev]
    best, best_epoch, best_bytes = -1.0, 0, component.to_bytes()
    rng = random.Random(seed)
    order = list(train)
    for epoch in range(1, epochs + 1):
        start = time.time()
        rng.shuffle(order)
        losses: Dict[str, float] = {}
        for i in range(0, len(order), batch_size):
            component.update(order[i : i + batch_size], sgd=optimizer, drop=dropout, losses=losses)
        with _weights(component, optimizer, averages):
            f = prf(dev_gold, predict(nlp, system, dev))["OVERALL"][2]
            if f > best:
                best, best_epoch, best_bytes = f, epoch, component.to_bytes()
        print(f"  {system} epoch {epoch}: loss {losses.get(system, 0.0):.2f} dev F1 {f:.3f} "
              f"(lr {optimizer.learn_rate:.5f}, {time.time() - start:.0f}s)", flush=True)
        optimizer.learn_rate = optimizer.learn_rate * lr_decay
        if patience and epoch - best_epoch >= patience:
            print(f"  {system}: stopped after {epoch} epochs (no better dev F1 for {patience} epochs)")
            break
        if time.time() - began > 60 * minutes:
            print(f"  {system}: stopped after {epoch} epochs (time budget {minutes} min)")
            break
    component.from_bytes(best_bytes)
    return best, best_epoch


def _weights(component, optimizer, averages: bool):
    """The optimizer's averaged weights for the ``with`` block, or the current ones."""
    if averages and optimizer.averages:
        return component.model.use_params(optimizer.averages)
    return contextlib.nullcontext()


def print_scores(title: str, scores) -> None:
    print(f"{title}")
    print(f"  {'label':<22}{'P':>7}{'R':>7}{'F1':>7}{'gold':>7}")
    for label, (p, r, f, n) in scores.items():
        print(f"  {label:<22}{p:7.3f}{r:7.3f}{f:7.3f}{n:7d}")


def run_eval(args) -> None:
    data_dir = data_dir_of(args)
    summary = []
    for corpus in args.corpus:
        fix_random_seed(args.seed)
        print(f"== {corpus} (encoder {args.encoder})", flush=True)
        nlp = build_nlp(args.encoder, args.systems, args.max_width, args)
        splits, counts = load_entity_corpus(corpus, data_dir, nlp, seed=args.seed)
        print(f"  docs train/dev/test: {len(splits['train'])}/{len(splits['dev'])}/{len(splits['test'])}; "
              f"alignment: {counts.summary()}", flush=True)
        tag = args.encoder.replace("/", "--")
        examples, vectors = {}, {}
        for split, docs in splits.items():
            vectors[split] = encode_after_init(nlp, docs, REPO / "corpus" / "entity-features" / f"{corpus}-{split}-{tag}.npz")
            examples[split] = make_examples(docs, vectors[split], args.chunk if split == "train" else 0)
        if args.encode_only:
            continue
        nlp.initialize(lambda: examples["train"])
        for system in args.systems:
            fix_random_seed(args.seed)
            best, epoch = train_system(nlp, system, examples["train"], examples["dev"], args.epochs,
                                       args.batch_size, args.learn_rate, args.seed, args.minutes, args.patience,
                                       averages=args.averages, lr_decay=args.lr_decay, dropout=args.dropout,
                                       l2=args.l2)
            line = f"{corpus} {system}: best dev F1 {best:.3f} at epoch {epoch}"
            if system == "scicls":
                threshold = pick_threshold(nlp, examples["dev"], args.label_thresholds and not args.cv_folds)
                line += f", threshold {threshold:.2f} (from dev)"
                if args.cv_folds:
                    threshold = cv_threshold(args, splits["train"], vectors["train"], examples["dev"], epoch, nlp)
                    line += f", then {threshold:.2f} ({args.cv_folds}-fold cross-validation on train, and dev)"
            test_scores = prf([gold_set(eg.reference) for eg in examples["test"]], predict(nlp, system, examples["test"]))
            print_scores(f"-- {corpus} test, {system} ({line})", test_scores)
            p, r, f, n = test_scores["OVERALL"]
            summary.append(f"{corpus:<10} {system:<8} P {p:.3f} R {r:.3f} F1 {f:.3f} (test gold {n})")
        if args.save:
            out = REPO / "training" / f"entities-{corpus}"
            keep = [name for name in nlp.pipe_names if name not in ("transformer", "scicls")]
            for name in keep:
                nlp.remove_pipe(name)
            out.parent.mkdir(parents=True, exist_ok=True)
            nlp.to_disk(out)
            print(f"  saved transformer + scicls to {out}")
    print("== summary (strict entity-level, test split)")
    for line in summary:
        print(line)


def refit(args, system: str, train: List[Example], epochs: int, threshold=None) -> spacy.Language:
    """``system`` trained afresh on ``train`` for ``epochs`` epochs (the best dev epoch of the
    run that picked them), with ``threshold`` for the head: the cross-validation's fold heads.
    Nothing is evaluated on the way; the weights kept are the last epoch's (the optimizer's
    moving averages with ``--averages``, as ``train_system`` keeps them). Returns a pipeline of
    the transformer and the refit system."""
    fix_random_seed(args.seed)
    nlp = build_nlp(args.encoder, [system], args.max_width, args)
    nlp.initialize(lambda: train)
    component = nlp.get_pipe(system)
    if threshold is not None:
        component.cfg["threshold"] = threshold
    fix_random_seed(args.seed)
    optimizer = Adam(args.learn_rate, L2=args.l2, use_averages=args.averages)
    rng = random.Random(args.seed)
    order = list(train)
    for epoch in range(1, epochs + 1):
        start = time.time()
        rng.shuffle(order)
        losses: Dict[str, float] = {}
        for i in range(0, len(order), args.batch_size):
            component.update(order[i : i + args.batch_size], sgd=optimizer, drop=args.dropout, losses=losses)
        print(f"  {system} refit epoch {epoch}/{epochs}: loss {losses.get(system, 0.0):.2f} "
              f"(lr {optimizer.learn_rate:.5f}, {time.time() - start:.0f}s)", flush=True)
        optimizer.learn_rate = optimizer.learn_rate * args.lr_decay
    with _weights(component, optimizer, args.averages):
        weights = component.to_bytes()
    component.from_bytes(weights)
    return nlp


def cv_threshold(args, train_docs, train_vectors, dev: List[Example], epochs: int, nlp) -> float:
    """The head's threshold picked on more papers than the dev split: the training papers are
    split into ``args.cv_folds`` folds (seeded); for each, a head is trained afresh on the other
    folds for ``epochs`` epochs (the best dev epoch) and scores the held-out papers; with the
    selected head's scores on dev, every training and dev paper is then scored by a head that
    did not train on it, and the threshold with the best F1 over all of them is set on ``nlp``'s
    head and returned. The test split plays no part."""
    if args.cv_folds < 2 or args.cv_folds > len(train_docs):
        raise ValueError(f"--cv-folds must be within 2..{len(train_docs)} (training docs), got {args.cv_folds}")
    order = list(range(len(train_docs)))
    random.Random(args.seed).shuffle(order)
    folds = [order[k :: args.cv_folds] for k in range(args.cv_folds)]
    scored: List[ScoredDoc] = []
    for k, held in enumerate(folds):
        rest = [i for i in order if i not in set(held)]
        print(f"  cross-validation fold {k + 1}/{args.cv_folds}: {len(rest)} docs train, {len(held)} held out", flush=True)
        fold_nlp = refit(args, "scicls", make_examples([train_docs[i] for i in rest], [train_vectors[i] for i in rest],
                                                       args.chunk), epochs)
        held_out = make_examples([train_docs[i] for i in held], [train_vectors[i] for i in held], 0)
        scored.extend(score_docs(fold_nlp.get_pipe("scicls"), held_out, group=k))
    scored.extend(score_docs(nlp.get_pipe("scicls"), dev, group=len(folds)))
    component = nlp.get_pipe("scicls")
    best = (-1.0, 0.5)
    for threshold in THRESHOLDS:
        p, r, f, _ = prf([d.gold for d in scored], [d.entities(_same_for_all(component, threshold), component.labels)
                                                    for d in scored])["OVERALL"]
        print(f"  cross-validated threshold {threshold:.2f}: P {p:.3f} R {r:.3f} F1 {f:.3f}", flush=True)
        best = max(best, (f, threshold))
    component.cfg["threshold"] = best[1]
    if getattr(args, "label_thresholds", False):
        set_label_thresholds(component, scored)
    return best[1]


def _same_for_all(component, threshold: float) -> numpy.ndarray:
    return numpy.full(len(component.labels) + 1, threshold, dtype="float32")


def score_docs(component, examples: List[Example], group: int = 0) -> List[ScoredDoc]:
    """``examples`` scored once by ``component`` (candidates and label probabilities), to be
    decoded at any thresholds; ``group`` names the head (fold) that scored them."""
    docs = [with_token_vectors(eg.reference, _vectors_of(eg)) for eg in examples]
    if not docs:
        return []
    per_doc, probs = component.predict(docs)
    probs = component.model.ops.to_numpy(component._split_first_stage(probs)[0])
    scored, offset = [], 0
    for eg, doc, candidates in zip(examples, docs, per_doc):
        doc_probs = probs[offset : offset + len(candidates)]
        scored.append(ScoredDoc.from_doc(doc, candidates, doc_probs, gold_set(eg.reference), group))
        offset += len(candidates)
    return scored


def set_label_thresholds(component, scored: List[ScoredDoc]) -> None:
    """Per-label thresholds fitted on ``scored`` (held-out scores), shrunk towards the global
    threshold by the prior that decodes best when cross-fitted over the docs' groups; stored in
    the component's cfg (an empty dict when no per-label thresholds beat the global one)."""
    fit = fit_label_thresholds(scored, component.labels, THRESHOLDS)
    by_prior = ", ".join(f"{'none' if p is None else f'{p:g}'}: {f:.3f}" for p, f in fit.cross_fitted_f1.items())
    print(f"  per-label thresholds, cross-fitted F1 by shrinkage prior ({by_prior}; none = global only): "
          f"prior {'none' if fit.prior is None else f'{fit.prior:g}'}, global {fit.global_threshold:.2f}", flush=True)
    if fit.label_thresholds:
        print("    " + ", ".join(f"{label} {value:.2f} (fit {fit.fitted[label]:.2f})"
                                 for label, value in sorted(fit.label_thresholds.items())), flush=True)
    component.cfg["threshold"] = fit.global_threshold
    component.cfg["label_thresholds"] = fit.label_thresholds


def encode_after_init(nlp, docs, cache):
    """Token vectors of ``docs``, loading the transformer's weights first if needed."""
    if not getattr(nlp, "_trf_ready", False):
        nlp.get_pipe("transformer").initialize(lambda: [Example(d.copy(), d) for d in docs[:1]], nlp=nlp)
        nlp._trf_ready = True
    return encode(nlp, docs, cache)


def pick_threshold(nlp, dev, label_thresholds: bool = False, groups: int = 5) -> float:
    """The global threshold with the best dev F1; with ``label_thresholds``, per-label ones too,
    their shrinkage cross-fitted over ``groups`` interleaved groups of the dev docs."""
    component = nlp.get_pipe("scicls")
    component.cfg["label_thresholds"] = {}
    gold = [gold_set(eg.reference) for eg in dev]
    best = (-1.0, 0.5)
    for threshold in THRESHOLDS:
        f = prf(gold, predict(nlp, "scicls", dev, threshold))["OVERALL"][2]
        best = max(best, (f, threshold))
    component.cfg["threshold"] = best[1]
    if label_thresholds and len(dev) >= 2:
        scored = score_docs(component, dev)
        for i, doc in enumerate(scored):
            doc.group = i % min(groups, len(scored))
        set_label_thresholds(component, scored)
    return component.cfg["threshold"]


# -- precision against recall -------------------------------------------------
def saved_head_examples(args, split_names):
    """A saved pipeline, its entity component, and the gold examples of each split
    named, with the encoder's cached token vectors."""
    data_dir = data_dir_of(args)
    set_cpu_threads(args.threads)
    nlp = spacy.load(args.model)
    component = nlp.get_pipe(args.component)
    splits, _ = load_entity_corpus(args.corpus, data_dir, nlp, seed=args.seed)
    tag = args.encoder.replace("/", "--")
    examples = {}
    for split in split_names:
        cache = REPO / "corpus" / "entity-features" / f"{args.corpus}-{split}-{tag}.npz"
        examples[split] = make_examples(splits[split], encode(nlp, splits[split], cache), 0)
    return nlp, component, examples


def run_thresholds(args) -> None:
    """P/R/F1 of a saved head on the dev and test splits at every threshold of THRESHOLDS
    (the model scores each split once; only the decoding changes)."""
    nlp, component, by_split = saved_head_examples(args, ("dev", "test"))
    saved = (component.cfg["threshold"], component.cfg["ents_policy"])
    component.cfg["ents_policy"] = "replace"
    print(f"{args.corpus}, {args.model} (saved threshold {saved[0]:.2f})")
    try:
        for split, examples in by_split.items():
            docs = [with_token_vectors(eg.reference, _vectors_of(eg)) for eg in examples]
            gold = [gold_set(eg.reference) for eg in examples]
            scores = component.predict(docs)
            for threshold in THRESHOLDS:
                component.cfg["threshold"] = threshold
                component.set_annotations(docs, scores)
                pred = [{(e.start_char, e.end_char, e.label_) for e in d.ents} for d in docs]
                p, r, f, _ = prf(gold, pred)["OVERALL"]
                print(f"  {split:<5} threshold {threshold:.2f}: P {p:.3f} R {r:.3f} F1 {f:.3f}", flush=True)
    finally:
        component.cfg["threshold"], component.cfg["ents_policy"] = saved


def run_spread(args) -> None:
    """How much a split's few papers can tell: a saved head's P/R/F1 on each paper of
    the split at its saved threshold, and the overall F1 of papers drawn again with
    replacement (a bootstrap over papers, the unit the corpus is split by)."""
    nlp, component, by_split = saved_head_examples(args, (args.split,))
    examples = by_split[args.split]
    gold = [gold_set(eg.reference) for eg in examples]
    pred = predict(nlp, args.component, examples)
    print(f"{args.corpus}/{args.split}, {args.model} (threshold {component.cfg['threshold']:.2f}): {len(examples)} papers")
    counts = []
    for i, (g, p_) in enumerate(zip(gold, pred)):
        counts.append((len(g & p_), len(p_ - g), len(g - p_)))
        p, r, f, n = prf([g], [p_])["OVERALL"]
        print(f"  paper {i}: gold {n:5d}  P {p:.3f}  R {r:.3f}  F1 {f:.3f}")
    print(f"  overall {bootstrap.describe(counts, args.draws, args.seed)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    ev = sub.add_parser("eval")
    ev.add_argument("--corpus", nargs="+", default=["climateie", "scierc", "biodivner"])
    ev.add_argument("--systems", nargs="+", default=list(SYSTEMS), choices=SYSTEMS)
    ev.add_argument("--data-dir", default=None)
    ev.add_argument("--encoder", default=DEFAULT_ENCODER)
    ev.add_argument("--epochs", type=int, default=30)
    ev.add_argument("--batch-size", type=int, default=2, help="docs (chunks) per update")
    ev.add_argument("--chunk", type=int, default=256, help="training docs are cut into pieces of about this many tokens")
    ev.add_argument("--learn-rate", type=float, default=0.005)
    ev.add_argument("--minutes", type=float, default=6.0, help="training time budget per system and corpus")
    ev.add_argument("--max-width", type=int, default=8)
    ev.add_argument("--patience", type=int, default=0, help="stop a system after this many epochs without a better dev F1 (0: never)")
    ev.add_argument("--span-width", type=int, default=128)
    ev.add_argument("--hidden-width", type=int, default=128)
    ev.add_argument("--no-layer-norm", dest="layer_norm", action="store_false", help="no layer norm in the Maxout")
    ev.add_argument("--prune-ratio", type=float, default=0.5, help="candidates kept per token by the linear first stage (0: all)")
    ev.add_argument("--positive-weight", type=float, default=5.0)
    ev.add_argument("--context-width", type=int, default=128, help="width of the head's own convolution layers")
    ev.add_argument("--context-depth", type=int, default=4, help="number of convolution layers (0: none)")
    ev.add_argument("--context-window", type=int, default=1, help="neighbours on each side per convolution layer")
    ev.add_argument("--input-dropout", type=float, default=0.2, help="dropout on the shared token vectors in training")
    ev.add_argument("--features-width", type=int, default=64,
                    help="width of the head's own token-form embedding (NORM/PREFIX/SUFFIX/SHAPE; 0: none)")
    ev.add_argument("--dropout", type=float, default=0.1, help="dropout rate of every system's update")
    ev.add_argument("--no-averages", dest="averages", action="store_false",
                    help="evaluate and keep the last weights, not the optimizer's moving averages")
    ev.add_argument("--lr-decay", type=float, default=1.0, help="learning rate multiplied by this after every epoch")
    ev.add_argument("--l2", type=float, default=0.0, help="Adam's decoupled weight decay")
    ev.add_argument("--cv-folds", type=int, default=0,
                    help="the head's threshold from K-fold cross-validation over the training docs plus dev, "
                         "instead of dev alone (0: dev alone)")
    ev.add_argument("--label-thresholds", action="store_true",
                    help="the head also gets a threshold per label, fitted on the same held-out scores as the "
                         "global one (cross-validation or dev) and shrunk towards it for rare labels")
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument("--threads", type=int, default=2)
    ev.add_argument("--encode-only", action="store_true", help="only compute and cache the token vectors")
    ev.add_argument("--save", action="store_true", help="save transformer + scicls under training/entities-<corpus>")
    th = sub.add_parser("thresholds", help="P/R/F1 of a saved head at every threshold, on dev and test")
    th.add_argument("--model", required=True)
    th.add_argument("--component", default="scicls")
    th.add_argument("--corpus", default="climateie", choices=["climateie", "scierc", "biodivner"])
    th.add_argument("--data-dir", default=None)
    th.add_argument("--encoder", default=DEFAULT_ENCODER)
    th.add_argument("--seed", type=int, default=0)
    th.add_argument("--threads", type=int, default=1)
    spread = sub.add_parser("spread", help="a saved head's F1 per paper of a split, and a bootstrap over its papers")
    spread.add_argument("--model", required=True)
    spread.add_argument("--component", default="scicls")
    spread.add_argument("--corpus", default="climateie", choices=["climateie", "scierc", "biodivner"])
    spread.add_argument("--split", default="test", choices=["train", "dev", "test"])
    spread.add_argument("--draws", type=int, default=2000)
    spread.add_argument("--data-dir", default=None)
    spread.add_argument("--encoder", default=DEFAULT_ENCODER)
    spread.add_argument("--seed", type=int, default=0)
    spread.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if args.command == "eval":
        set_cpu_threads(args.threads)
        run_eval(args)
    elif args.command == "thresholds":
        run_thresholds(args)
    else:
        run_spread(args)


if __name__ == "__main__":
    main()
