"""Train the IMRaD head of ``scicls_sections`` on silver labels, with the encoder frozen.

1. Reads the "train" split of the paper collections (PLOS JATS, unarXive,
   S2ORC fixtures; see ``spacy_scicls.corpora.papers``) and labels their
   sections by heading (``spacy_scicls.corpora.sections.silver_labels``).
2. Builds, per paper, one doc of its sections with headings and one without
   (content only), each section cut to the first tokens the head reads
   (``content_tokens`` of ``spacy_scicls.SectionClassifier.v2``, 128 by
   default, so the cut changes nothing the head sees), runs the shared
   transformer over them once and keeps, per section, the pooled vectors the
   head reads (heading mean, content mean) with its depth (cached in
   ``--cache``).
3. Fits the head's classifier layers on those features (the transformer is
   not updated), with every label weighing the same, and saves the pipeline
   (transformer + sections) to ``--output``. ``--dev-folds K`` first prints
   the accuracy of K-fold cross-validation by paper on the training papers
   (with headings and content only), per epoch count of ``--dev-epochs``.
4. Learns how the labels follow each other in the training papers (a
   transition model, ``spacy_scicls.ml.section_order``) and stores it in
   the component, which then decodes a paper's labels together.

    python scripts/train_sections.py --data-dir $SCICLS_DATA_DIR --output training/sections-pipeline
"""
import argparse
import os
import sys
import time
from pathlib import Path
from typing import Optional

import numpy

REPO = Path(__file__).resolve().parents[1]


def words_setting(model) -> Optional[str]:
    """How a v3 head reads the words (None for a head that reads none), as kept in the cache."""
    if "word_buckets" not in model.attrs:
        return None
    return (f"buckets {model.attrs['word_buckets']} ngrams {model.attrs['ngram_size']} "
            f"tokens {model.attrs['words_tokens']}")


def build_nlp(config: Path, encoder: Optional[str] = None, seed: int = 0):
    import spacy
    from spacy.training import Example
    from thinc.api import fix_random_seed

    import spacy_scicls  # noqa: F401

    # the head's initial weights come from here: seeded, so that a run is repeatable
    fix_random_seed(seed)

    overrides = {"nlp.pipeline": ["transformer", "sections"]}
    if encoder:
        overrides["components.transformer.model.name"] = encoder
    cfg = spacy.util.load_config(config, overrides=overrides)
    nlp = spacy.util.load_model_from_config(cfg, auto_fill=True, validate=True)
    sample = nlp.make_doc("Introduction\nA first section.")
    nlp.initialize(lambda: [Example(nlp.make_doc(sample.text), sample)])
    return nlp


def encoded_section_batches(nlp, docs, batch_size: int):
    """Batches of ``docs`` read with the frozen encoder as the pipeline reads them (each doc whole,
    through the transformer's windows), with their section spans: yields the index of the batch's
    first doc, the batch, the sections' rows and lengths, and the token vectors of each doc."""
    from spacy_scicls.ml.tok2vec import token_vectors
    from spacy_scicls.pipeline.sections import _levels, _to_ragged
    from spacy_scicls.segmentation import segments_from_spans

    transformer = nlp.get_pipe("transformer")
    model = nlp.get_pipe("sections").model
    for i in range(0, len(docs), batch_size):
        batch = [transformer(doc) for doc in docs[i : i + batch_size]]
        segments = [segments_from_spans(doc, list(doc.spans["sections"])) for doc in batch]
        levels = [_levels(doc, segs, "sections") for doc, segs in zip(batch, segments)]
        spans = _to_ragged(model, segments, levels)
        Xs, _ = token_vectors(model.get_ref("tok2vec"), batch, is_train=False)
        Xs = [model.ops.to_numpy(X) for X in Xs]
        yield i, batch, model.ops.to_numpy(spans.data), model.ops.to_numpy(spans.lengths), Xs


def pooled_sections(nlp, docs, batch_size: int = 8) -> dict:
    """Per section span of ``docs`` (read with the frozen encoder): heading and
    content means, the doc it belongs to, its depth, whether it has a heading."""
    from spacy_scicls.ml.section_classifier import pool_sections

    content_tokens = nlp.get_pipe("sections").model.attrs["content_tokens"]
    parts = {"H": [], "C": [], "owners": [], "levels": [], "has_heading": []}
    for i, _, rows, lengths, Xs in encoded_section_batches(nlp, docs, batch_size):
        H, C, owners, ranges = pool_sections(Xs, rows, lengths, content_tokens)
        parts["H"].append(H)
        parts["C"].append(C)
        parts["owners"].append(owners + i)
        parts["levels"].append(rows[:, 3])
        parts["has_heading"].append(numpy.asarray([r[1] > r[0] for r in ranges], dtype="float32"))
    return {k: numpy.concatenate(v) for k, v in parts.items()}


def section_features(pooled: dict) -> numpy.ndarray:
    """The head's input rows: v2's features, then (for v3) the words, length and place of each section."""
    from spacy_scicls.ml.section_classifier import compose_section_features

    F = compose_section_features(pooled["H"], pooled["C"], pooled["owners"], pooled["levels"],
                                 pooled["has_heading"])
    columns = [F]
    if "extra" in pooled:
        columns.append(pooled["extra"])
    return numpy.hstack(columns)


def extra_sections(model, docs, batch_size: int = 64) -> numpy.ndarray:
    """What v3 reads beside the pooled vectors (``v3_extra_features``: length and place in
    tokens, hashed words) of each section of ``docs``: from the tokens alone, no encoder pass."""
    from spacy_scicls.ml.section_classifier import pool_sections, v3_extra_features
    from spacy_scicls.pipeline.sections import _levels, _to_ragged
    from spacy_scicls.segmentation import segments_from_spans

    parts = []
    for i in range(0, len(docs), batch_size):
        batch = docs[i : i + batch_size]
        segments = [segments_from_spans(doc, list(doc.spans["sections"])) for doc in batch]
        spans = _to_ragged(model, segments, [_levels(doc, segs, "sections") for doc, segs in zip(batch, segments)])
        rows, lengths = model.ops.to_numpy(spans.data), model.ops.to_numpy(spans.lengths)
        empty = [numpy.zeros((len(doc), 0), dtype="float32") for doc in batch]
        _, _, owners, ranges = pool_sections(empty, rows, lengths, model.attrs["words_tokens"])
        parts.append(v3_extra_features(batch, owners, ranges, model.attrs["word_buckets"], model.attrs["ngram_size"]))
    return numpy.concatenate(parts)


def training_docs(data_dir: Path, nlp, content_tokens: int):
    """Per training paper, a doc of its silver-labelled sections with headings and one without
    (content only), each section cut to ``content_tokens``; their labels, papers and blindness."""
    from spacy_scicls.corpora.papers import COLLECTIONS, iter_papers
    from spacy_scicls.corpora.sections import section_doc, silver_labels

    docs, labels, papers, blind = [], [], [], []
    for collection in COLLECTIONS:
        for doc in iter_papers(data_dir, collection, "train", nlp):
            silver = silver_labels(doc)
            for headings in (True, False):
                sdoc = section_doc(doc, nlp, silver, headings=headings,
                                   max_tokens=content_tokens if content_tokens > 0 else None)
                docs.append(sdoc)
                n = len(sdoc.spans["sections"])
                labels.extend(s.label_ for s in sdoc.spans["sections"])
                papers.extend([f"{collection}/{doc._.scicls_meta.get('source') or doc._.scicls_meta.get('id')}"] * n)
                blind.extend([not headings] * n)
    return docs, labels, papers, blind


def fit_classifier(classifier, F: numpy.ndarray, y: numpy.ndarray, n_labels: int, epochs: int, seed: int = 0,
                   learn_rate: float = 0.001, l2: float = 1e-3, batch_size: int = 64, log: bool = True) -> None:
    """Fit ``classifier`` (the head's layers after the token vectors) on section features ``F``."""
    from thinc.api import Adam, fix_random_seed

    fix_random_seed(seed)
    ops = classifier.ops
    optimizer = Adam(learn_rate, L2=l2, L2_is_weight_decay=True)
    rng = numpy.random.default_rng(seed)
    # Each label weighs the same in the loss, however rare it is.
    counts = numpy.bincount(y, minlength=n_labels).astype("float32")
    weights = numpy.where(counts > 0, counts.sum() / (n_labels * numpy.maximum(counts, 1)), 0.0)
    for epoch in range(epochs):
        order = rng.permutation(len(y))
        total = 0.0
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            scores, backprop = classifier.begin_update(ops.asarray2f(F[idx]))
            probs = ops.to_numpy(scores)
            target = numpy.zeros_like(probs)
            target[numpy.arange(len(idx)), y[idx]] = 1.0
            w = weights[y[idx]][:, None]
            total += float(-(numpy.log(numpy.clip(probs[numpy.arange(len(idx)), y[idx]], 1e-9, 1)) * w[:, 0]).sum())
            backprop(ops.asarray2f((probs - target) * w / len(idx)))
            classifier.finish_update(optimizer)
        if log and (epoch % 10 == 0 or epoch == epochs - 1):
            print(f"epoch {epoch}: loss {total / len(y):.4f}")


def paper_sequences(owners, y, mask) -> list:
    """The label sequence (``None`` for an unlabelled section) of each doc in ``owners[mask]``, in reading order."""
    return [[int(v) if v >= 0 else None for v in y[(owners == doc) & mask]] for doc in numpy.unique(owners[mask])]


def heading_roles(docs) -> numpy.ndarray:
    """Per section of ``docs``, the index of the label its heading names (-1: none, or no heading)."""
    from spacy_scicls.corpora.sections import section_roles
    from spacy_scicls.labels import IMRAD_LABELS

    roles = [role for doc in docs for role in section_roles(
        [span._.heading for span in doc.spans["sections"]],
        [span._.section_level or 1 for span in doc.spans["sections"]])]
    return numpy.asarray([-1 if role is None else IMRAD_LABELS.index(role) for role in roles], dtype="int64")


def component_accuracy(probs, rows, y, blind, owners, pooled, transitions, cfg) -> dict:
    """Hits of the labels the component would choose for sections ``rows`` (heading weight, labels
    decoded together, sub-sections inheriting as ``cfg`` says), with headings and content only."""
    from spacy_scicls.pipeline.sections import decide_labels, not_inherited, opening_labels

    lengths = [int((owners[rows] == doc).sum()) for doc in numpy.unique(owners[rows])]
    roles = [int(r) if r >= 0 else None for r in pooled["roles"][rows]]
    chosen, _ = decide_labels(probs, roles, pooled["levels"][rows], pooled["has_heading"][rows] > 0, lengths,
                              heading_weight=float(cfg.get("heading_weight", 0.0)),
                              inherit_threshold=float(cfg.get("inherit_threshold", 1.01)),
                              transitions=transitions, order_weight=float(cfg.get("order_weight", 0.0)),
                              not_inherited=not_inherited(cfg.get("labels", ())),
                              opening=opening_labels(cfg.get("labels", ())))
    chosen = numpy.asarray(chosen)
    scored = y[rows] >= 0
    return {b: (chosen[(blind[rows] == b) & scored] == y[rows][(blind[rows] == b) & scored]).tolist()
            for b in (False, True)}


def cross_validate(config: Path, F, y, papers, blind, folds: int, epoch_counts, encoder=None, owners=None,
                   order_weight: float = 0.0, pooled: Optional[dict] = None, cfg: Optional[dict] = None,
                   seed: int = 0, **fit_args) -> None:
    """Accuracy of ``folds``-fold cross-validation by paper, with headings and content only
    (and, with ``owners`` and an ``order_weight``, with each paper's labels decoded together
    by a transition model learned from the training folds; ``y`` -1: unlabelled, not scored).
    With ``pooled`` (holding each section's heading role, depth and whether it has a heading)
    and the component's ``cfg``, also the labels as the component chooses them."""
    import copy

    from spacy_scicls.ml.section_order import decode, learn_transitions

    nlp = build_nlp(config, encoder, seed=seed)
    n_labels = len(nlp.get_pipe("sections").labels)
    template = nlp.get_pipe("sections").model.layers[1]
    fold_of = {p: k % folds for k, p in enumerate(sorted(set(papers)))}
    fold = numpy.asarray([fold_of[p] for p in papers])
    decoding = owners is not None and order_weight > 0
    for epochs in epoch_counts:
        hits = {False: [], True: []}
        ordered = {False: [], True: []}
        component = {False: [], True: []}
        for k in range(folds):
            classifier = copy.deepcopy(template)
            train = fold != k
            labelled = train & (y >= 0)
            fit_classifier(classifier, F[labelled], y[labelled], n_labels, epochs, log=False, seed=seed,
                           **fit_args)
            probs = classifier.ops.to_numpy(classifier.predict(classifier.ops.asarray2f(F[~train])))
            pred = probs.argmax(axis=1)
            scored = y[~train] >= 0
            for b in (False, True):
                mask = (blind[~train] == b) & scored
                hits[b].extend((pred[mask] == y[~train][mask]).tolist())
            if decoding:
                transitions = learn_transitions(paper_sequences(owners, y, train & ~blind), n_labels)
                rows = numpy.flatnonzero(~train)
                decoded = numpy.zeros(len(rows), dtype="int64")
                for doc in numpy.unique(owners[rows]):
                    at = numpy.flatnonzero(owners[rows] == doc)
                    decoded[at] = decode(probs[at], transitions, order_weight)
                for b in (False, True):
                    mask = (blind[~train] == b) & scored
                    ordered[b].extend((decoded[mask] == y[~train][mask]).tolist())
                if pooled is not None and "roles" in pooled:
                    for b, found in component_accuracy(probs, rows, y, blind, owners, pooled, transitions,
                                                       cfg or {}).items():
                        component[b].extend(found)
        print(f"cv {folds} folds, {epochs} epochs: accuracy with headings {numpy.mean(hits[False]):.3f} "
              f"(n {len(hits[False])}), content only {numpy.mean(hits[True]):.3f} (n {len(hits[True])})")
        if decoding:
            print(f"   labels decoded together (order_weight {order_weight}): with headings "
                  f"{numpy.mean(ordered[False]):.3f}, content only {numpy.mean(ordered[True]):.3f}")
        if component[False]:
            print(f"   as the component labels (heading_weight {cfg.get('heading_weight')}, inherit_threshold "
                  f"{cfg.get('inherit_threshold')}): with headings {numpy.mean(component[False]):.3f}, "
                  f"content only {numpy.mean(component[True]):.3f}")


def training_features(args, nlp, head, content_tokens: int, encoder: str) -> dict:
    """The pooled vectors (and for a v3 head the words) of the training papers' sections, from
    ``--cache`` or made and cached."""
    from spacy_scicls.encoders import DEFAULT_ENCODER
    from spacy_scicls.labels import IMRAD_LABELS

    if args.cache.exists():
        pooled = dict(numpy.load(args.cache))
        if int(pooled["content_tokens"]) != content_tokens:
            raise SystemExit(f"{args.cache} was made for content_tokens {int(pooled['content_tokens'])}; "
                             f"the config says {content_tokens}: delete the cache")
        # caches made before the encoder was recorded were made with the default encoder
        cached_encoder = str(pooled.get("encoder", DEFAULT_ENCODER))
        if cached_encoder != encoder:
            raise SystemExit(f"{args.cache} holds vectors of the encoder {cached_encoder!r}, not {encoder!r}: "
                             "pass another --cache")
        print(f"pooled sections from {args.cache}: {pooled['H'].shape}")
    else:
        docs, labels, papers, blind = training_docs(args.data_dir, nlp, content_tokens)
        roles = heading_roles(docs)
        start = time.time()
        pooled = pooled_sections(nlp, docs)
        pooled["y"] = numpy.asarray([IMRAD_LABELS.index(x) if x in IMRAD_LABELS else -1 for x in labels])
        pooled["papers"] = numpy.asarray(papers)
        pooled["blind"] = numpy.asarray(blind)
        pooled["content_tokens"] = numpy.asarray(content_tokens)
        pooled["roles"] = roles
        pooled["encoder"] = numpy.asarray(encoder)
        print(f"encoded {len(docs)} docs ({sum(len(d) for d in docs)} tokens) in {time.time() - start:.0f} s; "
              f"{int((pooled['y'] >= 0).sum())} labelled sections")
        args.cache.parent.mkdir(parents=True, exist_ok=True)
        numpy.savez(args.cache, **pooled)
    if "roles" not in pooled:
        # caches made before the heading roles were kept
        docs, labels, _, _ = training_docs(args.data_dir, nlp, content_tokens)
        if len(labels) != len(pooled["y"]):
            raise SystemExit(f"{args.cache} holds {len(pooled['y'])} sections, the papers give {len(labels)}: "
                             "delete the cache")
        pooled["roles"] = heading_roles(docs)
        numpy.savez(args.cache, **pooled)
    words = words_setting(head.model)
    if words is not None:
        # v3 also reads the sections' words, length and place: made from the tokens (no encoder
        # pass), cached beside the vectors for the settings they were made with
        if "extra" not in pooled or str(pooled.get("words_setting", "")) != words:
            start = time.time()
            docs, labels, _, _ = training_docs(args.data_dir, nlp, head.model.attrs["words_tokens"])
            if len(labels) != len(pooled["y"]):
                raise SystemExit(f"{args.cache} holds {len(pooled['y'])} sections, the papers give {len(labels)}: "
                                 "delete the cache")
            pooled["extra"] = extra_sections(head.model, docs)
            pooled["words_setting"] = numpy.asarray(words)
            numpy.savez(args.cache, **pooled)
            print(f"read the words of {len(labels)} sections in {time.time() - start:.0f} s")
    return pooled


def main(argv=None) -> int:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    env = os.environ.get("SCICLS_DATA_DIR")
    parser.add_argument("--data-dir", type=Path, default=Path(env) if env else None, required=env is None)
    parser.add_argument("--config", type=Path, default=REPO / "configs" / "full_pipeline.cfg")
    parser.add_argument("--encoder", help="the shared encoder's name or path (default: the config's)")
    parser.add_argument("--output", type=Path, default=REPO / "training" / "sections-pipeline")
    parser.add_argument("--cache", type=Path, default=REPO / "training" / "section_pooled.npz",
                        help="pooled section vectors (made on the first run, read on later ones)")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--learn-rate", type=float, default=0.001)
    parser.add_argument("--l2", type=float, default=1e-3)
    parser.add_argument("--order-smoothing", type=float, default=1.0,
                        help="added to every count of the label transition model")
    parser.add_argument("--dev-folds", type=int, default=0, help="cross-validate by paper first (0: no)")
    parser.add_argument("--dev-epochs", type=int, nargs="+", default=[10, 30, 60])
    parser.add_argument("--seed", type=int, default=0, help="seeds the head's initial weights and its fitting")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    nlp = build_nlp(args.config, args.encoder, seed=args.seed)
    encoder = str(nlp.config["components"]["transformer"]["model"]["name"])
    head = nlp.get_pipe("sections")
    if "content_tokens" not in head.model.attrs:
        raise SystemExit(f"{args.config}: the sections model must be spacy_scicls.SectionClassifier.v2 or .v3")
    content_tokens = head.model.attrs["content_tokens"]
    # The training papers' strings are no part of the pipeline: made inside a memory zone,
    # they are not saved in its vocab (only numpy features leave the zone).
    with nlp.memory_zone():
        pooled = training_features(args, nlp, head, content_tokens, encoder)
    F_all, y_all = section_features(pooled), pooled["y"].astype("int64")
    keep = y_all >= 0
    F, y = F_all[keep], y_all[keep]
    fit_args = {"learn_rate": args.learn_rate, "l2": args.l2}
    # the papers' docs with headings give the order of the labels (those without repeat them)
    owners, blind_all = pooled["owners"], pooled["blind"].astype(bool)
    if args.dev_folds:
        cross_validate(args.config, F_all, y_all, pooled["papers"], blind_all, args.dev_folds, args.dev_epochs,
                       encoder=args.encoder, owners=owners, order_weight=float(head.cfg.get("order_weight", 0.0)),
                       pooled=pooled, cfg=head.cfg, seed=args.seed, **fit_args)
    start = time.time()
    fit_classifier(head.model.layers[1], F, y, len(head.labels), args.epochs, seed=args.seed, **fit_args)
    print(f"fitted the head on {len(y)} sections in {time.time() - start:.0f} s")
    from spacy_scicls.ml.section_order import learn_transitions

    sequences = paper_sequences(owners, y_all, ~blind_all)
    head.set_transitions(learn_transitions(sequences, len(head.labels), smoothing=args.order_smoothing))
    print(f"learned the order of the labels from {len(sequences)} papers")
    args.output.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(args.output)
    print(f"saved {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
