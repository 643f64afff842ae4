"""Heading detection on plain text, per rendering: P/R/F1 on papers not trained on, the worst rendering first.

Every test paper (``spacy_scicls.corpora.heading_papers``: the "test" split
of GROBID's training TEI and of the PLOS, unarXive and S2ORC papers laid out
as PDF text; all the JOSE and CRAFT papers, which no model is trained on) is
rendered as plain text in each layout of
``spacy_scicls.corpora.renderings.RENDERINGS``, read as the text reader
reads a file (pages set as two columns side by side read column by column,
``spacy_scicls.readers.text_columns``), its headings found by
``spacy_scicls.segmentation.lines.heading_spans`` with the shipped weights
(or ``--heading-model``), and every line of the rendered text that a found
heading comes from is scored against the gold heading lines (white space
ignored).

Printed, for each rendering: the papers with real PDF lines (GROBID TEI),
all in-source test papers, and the out-of-source papers (JOSE, CRAFT), each
with its F1 over papers drawn again with replacement
(``--paper-bootstrap`` draws, ``spacy_scicls.bootstrap``); then the worst
rendering of each group, the figure that counts; then every source by
rendering.

    python scripts/evaluate_headings.py --data-dir $SCICLS_DATA_DIR
"""
import argparse
import os
import sys
import time
from pathlib import Path
from typing import Dict, List, Sequence, Set, Tuple

import numpy

GROUPS = {
    "pdf_lines (GROBID TEI)": ("grobid", "grobid_more"),
    "in-source (all test)": ("grobid", "grobid_more", "plos", "unarxive", "s2orc"),
    "out-of-source (JOSE, CRAFT)": ("jose", "craft"),
}


def line_counts(lines: Sequence[str], gold: Set[int], spans: Sequence[Tuple[int, int]]) -> Tuple[int, int, int]:
    """``(tp, fp, fn)`` over lines: every non-empty line that a found heading
    span touches counts as found, against the gold heading lines."""
    starts = []
    offset = 0
    for line in lines:
        starts.append(offset)
        offset += len(line) + 1
    found: Set[int] = set()
    k = 0
    for start, end in sorted(spans):
        while k + 1 < len(starts) and starts[k + 1] <= start:
            k += 1
        i = k
        while i < len(lines) and starts[i] < end:
            if lines[i].strip():
                found.add(i)
            i += 1
    gold = {i for i in gold if lines[i].strip()}
    return len(found & gold), len(found - gold), len(gold - found)


_MODEL: list = []  # the model the forked workers score with


def _score_papers(items) -> Tuple[List[Tuple[int, int, int]], int]:
    """``(tp, fp, fn)`` of each ``(blocks, rendering, seed)`` with the model in ``_MODEL``, and how
    many of the texts had pages read column by column."""
    from spacy_scicls.corpora.renderings import render
    from spacy_scicls.readers.text_columns import read_columns
    from spacy_scicls.segmentation.lines import heading_spans

    rows = []
    in_columns = 0
    for blocks, rendering, seed in items:
        lines, gold = render(blocks, rendering, seed)
        # As the text reader does: pages set side by side are read column by column first; the
        # headings found are scored on the lines of the rendered text they come from.
        columns = read_columns("\n".join(lines) + "\n")
        in_columns += columns.changed
        rows.append(line_counts(lines, gold, columns.source_spans(heading_spans(columns.text, _MODEL[0]))))
    return rows, in_columns


def f1_of(counts) -> Tuple[float, float, float, int]:
    tp, fp, fn = numpy.asarray(counts, dtype="float64").reshape(-1, 3).sum(axis=0)
    p, r = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
    return p, r, 2 * p * r / max(p + r, 1e-9), int(tp + fn)


def main(argv=None) -> int:
    from spacy_scicls import bootstrap
    from spacy_scicls.corpora.heading_papers import OUT_OF_SOURCE, SOURCES, printed_papers
    from spacy_scicls.corpora.pdf_layout import paper_seed
    from spacy_scicls.corpora.renderings import RENDERINGS
    from spacy_scicls.segmentation.lines import HeadingLineModel

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    env = os.environ.get("SCICLS_DATA_DIR")
    parser.add_argument("--data-dir", type=Path, default=Path(env) if env else None, required=env is None)
    parser.add_argument("--heading-model", type=Path, default=None,
                        help="heading-line weights (default: the shipped ones)")
    parser.add_argument("--sources", nargs="+", default=list(SOURCES), choices=SOURCES)
    parser.add_argument("--renderings", nargs="+", default=list(RENDERINGS), choices=list(RENDERINGS))
    parser.add_argument("--split", default="test", choices=["test", "train"],
                        help="the split of the in-source papers (the out-of-source ones are all read)")
    parser.add_argument("--paper-bootstrap", type=int, default=1000, metavar="DRAWS")
    parser.add_argument("--jobs", type=int, default=1,
                        help="processes that score the papers (the figures are the same)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the page layouts and renderings (the training script's default is 0 too)")
    args = parser.parse_args(argv)
    model = HeadingLineModel.from_disk(args.heading_model) if args.heading_model else HeadingLineModel.from_disk()

    start = time.time()
    # counts[(source, rendering)]: one (tp, fp, fn) row per paper
    counts: Dict[Tuple[str, str], List[Tuple[int, int, int]]] = {}
    n_papers: Dict[str, int] = {}
    tasks = []
    for source in args.sources:
        split = "all" if source in OUT_OF_SOURCE else args.split
        papers = list(printed_papers(args.data_dir, source, split, layout_seed=args.seed))
        n_papers[source] = len(papers)
        for r, name in enumerate(args.renderings):
            tasks.append(((source, name), [(paper.blocks, RENDERINGS[name], paper_seed(paper.name, 1000 + r, args.seed))
                                           for paper in papers]))
    _MODEL.append(model)
    if args.jobs > 1:
        import multiprocessing

        with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
            results = pool.map(_score_papers, [items for _, items in tasks])
    else:
        results = [_score_papers(items) for _, items in tasks]
    in_columns: Dict[str, int] = {}
    for (key, _), (rows, split) in zip(tasks, results):
        counts[key] = rows
        in_columns[key[1]] = in_columns.get(key[1], 0) + split
    print(f"heading lines, {args.split} split ({', '.join(f'{s} {n}' for s, n in n_papers.items())} papers; "
          f"{time.time() - start:.0f} s)")
    print("== per rendering ==")
    worst: Dict[str, Tuple[float, str]] = {}
    for group, members in GROUPS.items():
        members = [s for s in members if s in args.sources]
        if not members:
            continue
        print(f"-- {group}: {sum(n_papers[s] for s in members)} papers")
        for name in args.renderings:
            rows = [row for s in members for row in counts[(s, name)]]
            p, r, f, n_gold = f1_of(rows)
            print(f"   {name:16s} gold {n_gold:5d}  P {p:.3f}  R {r:.3f}  F1 {f:.3f}")
            if args.paper_bootstrap and len(rows) > 1:
                draws = bootstrap.paper_bootstrap(rows, args.paper_bootstrap, seed=args.seed)
                low, high = numpy.percentile(draws, [5, 95])
                print(f"   {'':16s} over {args.paper_bootstrap} draws of {len(rows)} papers: "
                      f"5th-95th percentile {low:.3f}-{high:.3f}, standard deviation {draws.std():.3f}")
            if group not in worst or f < worst[group][0]:
                worst[group] = (f, name)
    print("== texts with pages read column by column (two columns side by side) ==")
    print("   " + ", ".join(f"{name} {in_columns[name]} of {sum(n_papers.values())}" for name in args.renderings))
    print("== worst rendering (the figure that counts) ==")
    for group, (f, name) in worst.items():
        print(f"   {group:30s} F1 {f:.3f}  ({name})")
    print("== per source (F1) ==")
    print(f"   {'source':12s} {'papers':>6s}  " + "  ".join(f"{name[:14]:>14s}" for name in args.renderings))
    for source in args.sources:
        cells = "  ".join(f"{f1_of(counts[(source, name)])[2]:14.3f}" for name in args.renderings)
        print(f"   {source:12s} {n_papers[source]:6d}  {cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
