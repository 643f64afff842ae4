"""Train the heading-line scorer of the plain-text section finder on many renderings of the gold papers.

The training papers are the "train" split (``split_of`` of the file name) of
the data folder's GROBID training TEI (``papers/grobid_tei/corpus_tei`` and
``more_tei``: a real PDF's lines with gold headings) and of the PLOS,
unarXive and S2ORC papers laid out as a PDF prints them
(``spacy_scicls.corpora.heading_papers``). The JOSE and CRAFT papers are
never trained on (the out-of-source test), nor is any "test" paper.

Each training paper is rendered as plain text several ways
(``spacy_scicls.corpora.renderings``): the three layouts users' tools give
most (PDF lines with an empty line between blocks, with none, paragraphs
reflowed to one line each) and ``--random-renderings`` more drawn at random
(pages with running headers, footers and page numbers, line numbers, narrow
or wide columns, empty lines here and there), each seeded by the paper's
name. ``spacy_scicls.segmentation.lines.HeadingLineModel`` is fitted on all
of them and written to ``--output``:

    python scripts/train_heading_lines.py --data-dir $SCICLS_DATA_DIR

``--dev-folds K`` first prints K-fold cross-validation by paper on the
training papers: heading-line F1 of the headings found in the held-out papers,
per rendering (the core ones and ``DEV_RENDERINGS``), and the worst rendering
(the way to tune without the test papers).
"""
import argparse
import os
import sys
import time
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy

from spacy_scicls.corpora.heading_papers import OUT_OF_SOURCE, SOURCES, PrintedPaper, printed_papers
from spacy_scicls.corpora.pdf_layout import paper_seed
from spacy_scicls.corpora.renderings import RENDERINGS, draw_rendering, render
from spacy_scicls.readers.text_columns import read_columns
from spacy_scicls.segmentation.lines import (DEFAULT_MODEL, HeadingLineModel, heading_spans, line_features,
                                             train_two_pass)

TRAIN_SOURCES = tuple(s for s in SOURCES if s not in OUT_OF_SOURCE)
CORE_RENDERINGS = ("pdf_lines_blank", "pdf_lines", "reflowed")
PDF_LINE_SOURCES = ("grobid", "grobid_more")
#: Renderings that cross-validation scores besides the core ones (each paper drawn its own layout): the
#: harder layouts that users' tools give, which training sees only among the random renderings.
DEV_RENDERINGS = ("two_columns", "page_furniture", "line_numbers", "side_by_side")


def rendered_copies(paper: PrintedPaper, n_random: int, seed: int) -> List[Tuple[str, List[str], List[float]]]:
    """``(rendering name, lines, labels)`` for the core renderings and ``n_random`` random ones of ``paper``."""
    out = []
    for k, name in enumerate(CORE_RENDERINGS):
        lines, gold = render(paper.blocks, RENDERINGS[name], paper_seed(paper.name, k, seed))
        out.append((name, lines, [float(i in gold) for i in range(len(lines))]))
    for k in range(n_random):
        rng = numpy.random.default_rng(paper_seed(paper.name, 100 + k, seed))
        rendering = draw_rendering(rng)
        lines, gold = render(paper.blocks, rendering, int(rng.integers(0, 2**31)))
        out.append(("random", lines, [float(i in gold) for i in range(len(lines))]))
    return out


def f1_line(tp: int, fp: int, fn: int) -> str:
    p, r = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
    return f"P {p:.3f}  R {r:.3f}  F1 {2 * p * r / max(p + r, 1e-9):.3f}"


def cross_validate(papers: Sequence[PrintedPaper], copies, weights, args) -> None:
    """Heading-line P/R/F1 on the held-out papers of each fold (paper ``i`` in fold
    ``i % K``), from the model fitted on the other folds, found as ``scicls`` finds
    them (``heading_spans`` on the text read as the text reader reads it), per core
    rendering and per rendering of :data:`DEV_RENDERINGS`, with the worst of them."""
    from evaluate_headings import line_counts

    folds = args.dev_folds
    counts: Dict[Tuple[str, str], List[int]] = {}
    start = time.time()
    features = [[line_features(lines) for _, lines, _ in c] for c in copies]
    for k in range(folds):
        train = [i for i in range(len(papers)) if i % folds != k]
        rows = [(lines, labels) for i in train for _, lines, labels in copies[i]]
        row_weights = [weights[i] for i in train for _ in copies[i]]
        params, context_params = train_two_pass(rows, hidden=args.hidden, l2=args.l2, epochs=args.epochs,
                                                paper_weights=row_weights, seed=args.seed,
                                                negative_rate=args.negative_rate,
                                                features=[f for i in train for f in features[i]])
        model = HeadingLineModel(params, threshold=args.threshold, context_params=context_params)
        for i in range(len(papers)):
            if i % folds != k:
                continue
            group = "pdf_lines" if papers[i].source in PDF_LINE_SOURCES else "laid_out"
            texts = [(name, lines, labels) for name, lines, labels in copies[i] if name != "random"]
            for j, name in enumerate(DEV_RENDERINGS):
                seed = paper_seed(papers[i].name, 50 + j, args.seed)
                lines, gold = render(papers[i].blocks, RENDERINGS[name], seed)
                texts.append((name, lines, [float(x in gold) for x in range(len(lines))]))
            for name, lines, labels in texts:
                columns = read_columns("\n".join(lines) + "\n")
                found = columns.source_spans(heading_spans(columns.text, model))
                tp, fp, fn = line_counts(lines, {x for x, v in enumerate(labels) if v > 0}, found)
                row = counts.setdefault((group, name), [0, 0, 0])
                row[0] += tp
                row[1] += fp
                row[2] += fn
    print(f"cross-validation, {folds} folds by paper, {len(papers)} train papers ({time.time() - start:.0f} s):")
    for group in ("pdf_lines", "laid_out"):
        f1s = {}
        for (g, name), (tp, fp, fn) in sorted(counts.items()):
            if g == group:
                print(f"   {group:10s} {name:16s} gold {tp + fn:5d}  {f1_line(tp, fp, fn)}")
                f1s[name] = 2 * tp / max(2 * tp + fp + fn, 1)
        if f1s:
            worst = min(f1s, key=f1s.get)
            print(f"   {group:10s} worst F1 {f1s[worst]:.3f} ({worst}), mean {sum(f1s.values()) / len(f1s):.3f}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    data_dir = os.environ.get("SCICLS_DATA_DIR")
    parser.add_argument("--data-dir", type=Path, default=Path(data_dir) if data_dir else None, required=data_dir is None)
    parser.add_argument("--output", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--sources", nargs="+", default=list(TRAIN_SOURCES), choices=TRAIN_SOURCES)
    parser.add_argument("--random-renderings", type=int, default=1,
                        help="random renderings of each paper besides the three core ones")
    parser.add_argument("--hidden", type=int, default=16, help="hidden units of each pass")
    parser.add_argument("--l2", type=float, default=1e-3)
    parser.add_argument("--epochs", type=int, default=400)
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--grobid-weight", type=float, default=2.0,
                        help="how many times a line of a real PDF's lines (GROBID TEI) counts against one of a "
                             "laid-out reader paper")
    parser.add_argument("--negative-rate", type=float, default=0.15,
                        help="share of the non-heading lines trained on, each counting 1/rate times")
    parser.add_argument("--dev-folds", type=int, default=0,
                        help="first print K-fold cross-validation by paper on the train papers (0: no)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the renderings, the page layouts and the networks")
    args = parser.parse_args(argv)

    papers: List[PrintedPaper] = []
    for source in args.sources:
        papers.extend(printed_papers(args.data_dir, source, "train", layout_seed=args.seed))
    if not papers:
        print(f"no training papers in {args.data_dir}", file=sys.stderr)
        return 1
    weights = [args.grobid_weight if p.source in PDF_LINE_SOURCES else 1.0 for p in papers]
    copies = [rendered_copies(p, args.random_renderings, args.seed) for p in papers]
    n_lines = sum(len(lines) for c in copies for _, lines, _ in c)
    n_heads = sum(int(sum(labels)) for c in copies for _, _, labels in c)
    by_source = {s: sum(p.source == s for p in papers) for s in args.sources}
    print(f"{len(papers)} train papers ({', '.join(f'{s} {n}' for s, n in by_source.items())}), "
          f"{sum(len(c) for c in copies)} renderings, {n_lines} lines, {n_heads} heading lines")
    if args.dev_folds:
        cross_validate(papers, copies, weights, args)
    start = time.time()
    rows = [(lines, labels) for c in copies for _, lines, labels in c]
    row_weights = [weights[i] for i, c in enumerate(copies) for _ in c]
    params, context_params = train_two_pass(rows, hidden=args.hidden, l2=args.l2, epochs=args.epochs,
                                            paper_weights=row_weights, seed=args.seed,
                                            negative_rate=args.negative_rate)
    model = HeadingLineModel(params, threshold=args.threshold, context_params=context_params, meta={
        "trained_on": "the 'train' split (spacy_scicls.corpora.plain_text.split_of) of GROBID's training TEI "
                      "(corpus_tei, more_tei) and of the PLOS, unarXive and S2ORC papers laid out as PDF text, "
                      "each rendered several ways (spacy_scicls.corpora.renderings); JOSE and CRAFT never",
        "sources": by_source, "renderings": list(CORE_RENDERINGS) + [f"{args.random_renderings} random"],
        "papers": len(papers), "lines": n_lines, "hidden": args.hidden, "l2": args.l2, "epochs": args.epochs,
        "passes": 2, "grobid_weight": args.grobid_weight, "negative_rate": args.negative_rate, "seed": args.seed,
    })
    print(f"trained in {time.time() - start:.0f} s")
    model.to_disk(args.output)
    print(f"saved {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
