"""Train the heading-line scorer of the plain-text section finder.

Reads GROBID's full-text training TEI files (``papers/grobid_tei``), lays
each out as PDF-extracted plain text (``spacy_scicls.corpora.plain_text``),
adds the text that the readers make of the PLOS and unarXive papers (one
line per paragraph, headings on their own lines), optionally the same PLOS
and unarXive papers laid out again as PDF text (``--pdf-layout-copies``:
``spacy_scicls.corpora.pdf_layout``), and fits
``spacy_scicls.segmentation.lines.HeadingLineModel`` on the papers of the
"train" split only (the "test" split is left for scripts/evaluate_sections.py).

    python scripts/train_heading_lines.py --data-dir $SCICLS_DATA_DIR \
        --output spacy_scicls/segmentation/heading_lines.json
"""
import argparse
import os
import sys
import time
from pathlib import Path

import numpy

from spacy_scicls.corpora import pdf_layout
from spacy_scicls.corpora.plain_text import reader_text_and_gold, split_of, tei_plain_text
from spacy_scicls.segmentation.lines import DEFAULT_MODEL, HeadingLineModel, train_network, line_features, train_two_pass


def cross_validate(papers, weights, n_grobid: int, args) -> None:
    """Heading-line P/R/F1 on the GROBID papers of each fold (paper ``i`` in fold ``i % K``), from
    the model fitted on the other folds' GROBID papers and all the reader texts, at a few thresholds."""
    folds = args.dev_folds
    probs, golds = [], []
    start = time.time()
    for k in range(folds):
        train = [i for i in range(len(papers)) if i >= n_grobid or i % folds != k]
        params, context_params = train_two_pass([papers[i] for i in train], hidden=args.hidden, l2=args.l2,
                                                epochs=args.epochs, paper_weights=[weights[i] for i in train],
                                                seed=args.seed)
        model = HeadingLineModel(params, context_params=context_params)
        for i in range(n_grobid):
            if i % folds == k:
                lines, labels = papers[i]
                keep = numpy.asarray([bool(line.strip()) for line in lines], dtype=bool)
                probs.append(model.probabilities(lines)[keep])
                golds.append(numpy.asarray(labels)[keep] > 0)
    p, gold = numpy.concatenate(probs), numpy.concatenate(golds)
    print(f"cross-validation, {folds} folds by paper, {n_grobid} GROBID train papers ({time.time() - start:.0f} s):")
    for threshold in (0.3, 0.4, 0.5, 0.6):
        pred = p >= threshold
        tp, fp, fn = int((pred & gold).sum()), int((pred & ~gold).sum()), int((~pred & gold).sum())
        precision, recall = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
        f1 = 2 * precision * recall / max(precision + recall, 1e-9)
        print(f"   threshold {threshold:.1f}  P {precision:.3f}  R {recall:.3f}  F1 {f1:.3f}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    data_dir = os.environ.get("SCICLS_DATA_DIR")
    parser.add_argument("--data-dir", type=Path, default=Path(data_dir) if data_dir else None, required=data_dir is None)
    parser.add_argument("--output", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--hidden", type=int, default=8)
    parser.add_argument("--l2", type=float, default=1e-3)
    parser.add_argument("--epochs", type=int, default=1500)
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--grobid-weight", type=float, default=3.0,
                        help="how many times a line of the PDF-derived GROBID text counts against one of the "
                             "readers' text (chosen by 3-fold cross-validation by paper on the train split)")
    parser.add_argument("--dev-folds", type=int, default=0,
                        help="first print K-fold cross-validation by paper on the GROBID train papers (0: no)")
    parser.add_argument("--one-pass", action="store_true", help="no second pass over the neighbours' probabilities")
    parser.add_argument("--seed", type=int, default=0, help="seed of the networks' initial weights")
    parser.add_argument("--pdf-layout-copies", type=int, default=0,
                        help="also train on N copies of each PLOS and unarXive train paper laid out as PDF text, "
                             "each in a page style of its own (spacy_scicls.corpora.pdf_layout; 0: none)")
    parser.add_argument("--pdf-layout-weight", type=float, default=1.0,
                        help="how many times a line of those laid-out papers counts")
    parser.add_argument("--pdf-layout-seed", type=int, default=0, help="seed of the page styles and layouts")
    args = parser.parse_args(argv)
    import spacy

    from spacy_scicls.corpora.papers import iter_papers

    papers, names, weights = [], [], []
    tei_dir = args.data_dir / "papers" / "grobid_tei" / "corpus_tei"
    texts = [(path.name, tei_plain_text(path)) for path in sorted(tei_dir.glob("*.tei.xml"))
             if split_of(path.name) == "train"]
    n_grobid = len(texts)
    blank = spacy.blank("en")
    laid_out = []
    records = pdf_layout.unarxive_records(sorted((args.data_dir / "papers" / "unarxive").glob("*.jsonl"))) \
        if args.pdf_layout_copies else {}
    for collection in ("plos", "unarxive"):
        for doc in iter_papers(args.data_dir, collection, "train", blank):
            name = str(doc._.scicls_meta["source"])
            texts.append((name, reader_text_and_gold(doc)))
            if not args.pdf_layout_copies:
                continue
            # The reader has resolved unarXive's markers in the text (formulas as their LaTeX);
            # the floats' captions come from the record.
            blocks = pdf_layout.reader_blocks(doc)
            if collection == "plos":
                floats = pdf_layout.jats_floats(doc._.scicls_meta["source"])
            else:
                floats = pdf_layout.unarxive_floats(records[str(doc._.scicls_meta["id"])])
            for copy in range(args.pdf_layout_copies):
                lines, gold = pdf_layout.lay_out(blocks, pdf_layout.paper_seed(name, copy, args.pdf_layout_seed),
                                                 floats=floats)
                laid_out.append((f"{name} (PDF layout {copy})", lines, gold))
    for k, (name, (text, gold)) in enumerate(texts):
        lines = text.splitlines()
        papers.append((lines, [float(i in gold) for i in range(len(lines))]))
        names.append(name)
        weights.append(args.grobid_weight if k < n_grobid else 1.0)
    for name, lines, gold in laid_out:
        papers.append((lines, [float(i in gold) for i in range(len(lines))]))
        names.append(name)
        weights.append(args.pdf_layout_weight)
    if laid_out:
        print(f"{len(laid_out)} papers laid out as PDF text, {sum(len(x[1]) for x in laid_out)} lines, "
              f"{sum(len(x[2]) for x in laid_out)} heading lines")
    if not papers:
        print(f"no training papers in {args.data_dir}", file=sys.stderr)
        return 1
    if args.dev_folds:
        cross_validate(papers, weights, n_grobid, args)
    start = time.time()
    if args.one_pass:
        y = numpy.concatenate([numpy.asarray(labels) for _, labels in papers])
        X = numpy.vstack([line_features(lines) for lines, _ in papers])
        w = numpy.concatenate([numpy.full(len(labels), weight) for (_, labels), weight in zip(papers, weights)])
        params = train_network(X, y, hidden=args.hidden, l2=args.l2, epochs=args.epochs, weights=w, seed=args.seed)
        context_params = None
    else:
        params, context_params = train_two_pass(papers, hidden=args.hidden, l2=args.l2, epochs=args.epochs,
                                                paper_weights=weights, seed=args.seed)
    model = HeadingLineModel(params, threshold=args.threshold, context_params=context_params, meta={
        "trained_on": "GROBID full-text training TEI laid out as PDF text, PLOS and unarXive reader text; "
                      "split 'train' (spacy_scicls.corpora.plain_text.split_of)",
        "papers": len(names), "lines": sum(len(lines) for lines, _ in papers), "hidden": args.hidden, "l2": args.l2,
        "epochs": args.epochs, "passes": 1 if context_params is None else 2, "grobid_weight": args.grobid_weight,
    })
    if args.seed:
        model.meta["seed"] = args.seed
    if args.pdf_layout_copies:
        model.meta["trained_on"] += "; the PLOS and unarXive papers also laid out as PDF text (pdf_layout)"
        model.meta.update({"pdf_layout_copies": args.pdf_layout_copies, "pdf_layout_weight": args.pdf_layout_weight,
                           "pdf_layout_seed": args.pdf_layout_seed})
    tp = fp = fn = 0
    for lines, labels in papers:
        pred = numpy.asarray(model.heading_lines(lines))
        gold = numpy.asarray(labels) > 0
        tp, fp, fn = tp + int((pred & gold).sum()), fp + int((pred & ~gold).sum()), fn + int((~pred & gold).sum())
    print(f"trained on {len(names)} papers, {model.meta['lines']} lines ({tp + fn} heading lines) in "
          f"{time.time() - start:.0f} s; training-set P {tp / max(tp + fp, 1):.3f} R {tp / max(tp + fn, 1):.3f}")
    model.to_disk(args.output)
    print(f"saved {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
