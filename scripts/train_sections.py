"""Train the IMRaD head of ``scicls_sections`` on silver labels, with the encoder frozen.

1. Reads the "train" split of the paper collections (PLOS JATS, unarXive,
   S2ORC fixtures; see ``spacy_scicls.corpora.papers``) and labels their
   sections by heading (``spacy_scicls.corpora.sections.silver_labels``).
2. Builds, per paper, one doc of its sections (each cut to its first
   ``--max-tokens`` tokens, a cheaper encoder pass) with headings, and one
   without (content only), runs the shared transformer over them once and
   keeps each labelled section's features (what the head reads: heading
   vector, section vector, position).
3. Fits the head's classifier layers on those features (the transformer is
   not updated) and saves the pipeline (transformer + sections) to ``--output``.

    python scripts/train_sections.py --data-dir $SCICLS_DATA_DIR --output training/sections-pipeline
"""
import argparse
import os
import sys
import time
from pathlib import Path

import numpy

REPO = Path(__file__).resolve().parents[1]


def build_nlp(config: Path):
    import spacy
    from spacy.training import Example

    import spacy_scicls  # noqa: F401

    cfg = spacy.util.load_config(config, overrides={"nlp.pipeline": ["transformer", "sections"]})
    nlp = spacy.util.load_model_from_config(cfg, auto_fill=True, validate=True)
    sample = nlp.make_doc("Introduction\nA first section.")
    nlp.initialize(lambda: [Example(nlp.make_doc(sample.text), sample)])
    return nlp


def section_features(nlp, docs, batch_size: int = 8) -> numpy.ndarray:
    """The head's input features of every section span of ``docs``, with the frozen encoder."""
    from spacy_scicls.ml.section_classifier import _section_features
    from spacy_scicls.ml.tok2vec import token_vectors
    from spacy_scicls.pipeline.sections import _to_ragged
    from spacy_scicls.segmentation import segments_from_spans

    transformer = nlp.get_pipe("transformer")
    head = nlp.get_pipe("sections")
    model = head.model
    rows = []
    for i in range(0, len(docs), batch_size):
        batch = [transformer(doc) for doc in docs[i : i + batch_size]]
        segments = [segments_from_spans(doc, list(doc.spans["sections"])) for doc in batch]
        Xs, _ = token_vectors(model.get_ref("tok2vec"), batch, is_train=False)
        F, _ = _section_features(model, Xs, _to_ragged(model, segments))
        rows.append(model.ops.to_numpy(F))
    return numpy.vstack(rows) if rows else numpy.zeros((0, 0), dtype="float32")


def fit_classifier(nlp, F: numpy.ndarray, y: numpy.ndarray, epochs: int, seed: int = 0) -> None:
    from thinc.api import Adam, fix_random_seed

    fix_random_seed(seed)
    head = nlp.get_pipe("sections")
    classifier = head.model.layers[1]
    ops = classifier.ops
    optimizer = Adam(0.001)
    rng = numpy.random.default_rng(seed)
    n_labels = len(head.labels)
    # Each label weighs the same in the loss, however rare it is.
    counts = numpy.bincount(y, minlength=n_labels).astype("float32")
    weights = numpy.where(counts > 0, counts.sum() / (n_labels * numpy.maximum(counts, 1)), 0.0)
    for epoch in range(epochs):
        order = rng.permutation(len(y))
        total = 0.0
        for start in range(0, len(order), 64):
            idx = order[start : start + 64]
            scores, backprop = classifier.begin_update(ops.asarray2f(F[idx]))
            probs = ops.to_numpy(scores)
            target = numpy.zeros_like(probs)
            target[numpy.arange(len(idx)), y[idx]] = 1.0
            w = weights[y[idx]][:, None]
            total += float(-(numpy.log(numpy.clip(probs[numpy.arange(len(idx)), y[idx]], 1e-9, 1)) * w[:, 0]).sum())
            backprop(ops.asarray2f((probs - target) * w / len(idx)))
            classifier.finish_update(optimizer)
        if epoch % 10 == 0 or epoch == epochs - 1:
            print(f"epoch {epoch}: loss {total / len(y):.4f}")


def main(argv=None) -> int:
    import torch

    from spacy_scicls.corpora.papers import COLLECTIONS, iter_papers
    from spacy_scicls.corpora.sections import section_doc, silver_labels
    from spacy_scicls.labels import IMRAD_LABELS

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    env = os.environ.get("SCICLS_DATA_DIR")
    parser.add_argument("--data-dir", type=Path, default=Path(env) if env else None, required=env is None)
    parser.add_argument("--config", type=Path, default=REPO / "configs" / "full_pipeline.cfg")
    parser.add_argument("--output", type=Path, default=REPO / "training" / "sections-pipeline")
    parser.add_argument("--cache", type=Path, default=REPO / "training" / "section_features.npz")
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    nlp = build_nlp(args.config)
    if args.cache.exists():
        data = numpy.load(args.cache)
        F, y = data["F"], data["y"]
        print(f"features from {args.cache}: {F.shape}")
    else:
        docs, labels = [], []
        for collection in COLLECTIONS:
            for doc in iter_papers(args.data_dir, collection, "train", nlp):
                silver = silver_labels(doc)
                for headings in (True, False):
                    sdoc = section_doc(doc, nlp, silver, headings=headings, max_tokens=args.max_tokens)
                    docs.append(sdoc)
                    labels.extend(s.label_ for s in sdoc.spans["sections"])
        start = time.time()
        F = section_features(nlp, docs)
        keep = numpy.asarray([label in IMRAD_LABELS for label in labels])
        F = F[keep]
        y = numpy.asarray([IMRAD_LABELS.index(label) for label in labels if label in IMRAD_LABELS])
        print(f"encoded {len(docs)} docs ({sum(len(d) for d in docs)} tokens) in {time.time() - start:.0f} s; "
              f"{len(y)} labelled sections")
        args.cache.parent.mkdir(parents=True, exist_ok=True)
        numpy.savez(args.cache, F=F, y=y)
    fit_classifier(nlp, F, y.astype("int64"), args.epochs)
    args.output.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(args.output)
    print(f"saved {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
