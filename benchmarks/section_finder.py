"""Seconds of the plain-text heading finder on a paper and on a long text, and where they go.

    python benchmarks/section_finder.py --data-dir $SCICLS_DATA_DIR [--sources grobid grobid_more] \\
        [--rendering pdf_lines] [--paper-kb 50] [--long-mb 2] [--runs 5] [--clock wall|cpu]

The texts are the data folder's papers of ``--sources``, all of them (train
and test: this times the finder, it does not judge it;
``spacy_scicls.corpora.heading_papers``), rendered as plain text in the
layout ``--rendering`` (``spacy_scicls.corpora.renderings``), as
scripts/evaluate_headings.py renders them: the paper is the one whose text is
closest to ``--paper-kb`` KB; the long text is the papers one after another
(an empty line between two), from the first, until ``--long-mb`` MB, cut at
a line's end (and the papers again from the first if they are not enough).

For each text it prints the median seconds of ``--runs`` runs of
``spacy_scicls.segmentation.lines.heading_spans`` with the packaged weights,
and of each step that it takes, timed one by one in the order it takes them
(the same calls with the same arguments): the line-number prefixes; the
cues of the lines (``line_features``); the first pass over them; the
reflowed reading (the lines gathered into paragraphs, each paragraph joined
into one line, then the cues of those lines and the first pass over them, and
each line's cues of its paragraph); the second pass; and ``heading_flags``
(HeadingLineModel.probabilities takes the steps from the cues of the lines
to the second pass). The whole also
assembles the spans from the flags (not timed on its own: the whole and the
steps are separate runs, so their difference is within the runs' spread).

``--clock cpu`` times the CPU seconds of the process (``time.process_time``)
instead of the seconds on the wall: on a machine that other work shares, the
wall-clock time of each run depends on that work, its CPU time much less.
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Tuple

CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}

import numpy

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def rendered_papers(data_dir: Path, source: str, rendering: str, seed: int = 0) -> List[Tuple[str, str]]:
    """``(name, text)`` of every paper of ``source`` rendered in ``rendering``, as
    scripts/evaluate_headings.py renders them (its first rendering's seeds)."""
    from spacy_scicls.corpora.heading_papers import printed_papers
    from spacy_scicls.corpora.pdf_layout import paper_seed
    from spacy_scicls.corpora.renderings import RENDERINGS, render

    out = []
    for paper in printed_papers(data_dir, source, "all", layout_seed=seed):
        lines, _ = render(paper.blocks, RENDERINGS[rendering], paper_seed(paper.name, 1000, seed))
        out.append((paper.name, "\n".join(lines) + "\n"))
    return out


def long_text(papers: List[Tuple[str, str]], n_chars: int) -> str:
    """The papers one after another until ``n_chars`` characters, cut after a line."""
    parts, total, i = [], 0, 0
    while total < n_chars:
        text = papers[i % len(papers)][1]
        parts.append(text)
        total += len(text) + 1
        i += 1
    joined = "\n".join(parts)
    cut = joined.rfind("\n", 0, n_chars)
    return joined[: cut + 1] if cut > 0 else joined[:n_chars]


def step_seconds(text: str, model,
                 clock: Callable[[], float] = time.perf_counter) -> Tuple[Dict[str, float], List[bool]]:
    """Seconds of each step of ``heading_spans(text, model)``, taken as it takes them,
    and the heading flags of the lines that they give."""
    from spacy_scicls.segmentation import lines as L

    times: Dict[str, float] = {}

    def timed(name: str, fn: Callable, *args):
        start = clock()
        result = fn(*args)
        times[name] = times.get(name, 0.0) + clock() - start
        return result

    raw_lines = text.splitlines(keepends=True)
    lines = [line.rstrip("\r\n") for line in raw_lines]
    prefixes = timed("line-number prefixes", L.line_number_prefixes, lines)
    X = timed("line_features", L.line_features, lines)
    empty = numpy.asarray([not line.strip() for line in lines], dtype=bool)
    first = timed("model: first pass", L.forward, model.params, X)
    first[empty] = 0.0
    units, joined = timed("reflowed: paragraph units, joined", L.reflowed_units, lines, first)
    X_units = timed("reflowed: line_features", L.line_features, joined)
    unit_first = timed("reflowed: first pass", L.forward, model.params, X_units)
    unit_cues = timed("reflowed: cues of each line", L.unit_features, len(lines), units, unit_first, first)
    cues = timed("model: second pass cues", L.context_features, lines, X, first, unit_cues)
    probs = timed("model: second pass", L.forward, model.context_params, cues)
    probs[empty] = 0.0
    flags = timed("heading_flags", L.heading_flags, lines, probs, model.threshold, prefixes)
    return times, flags


def measure(text: str, model, runs: int, clock: Callable[[], float] = time.perf_counter) -> Dict[str, float]:
    """Median seconds of the whole and of each step over ``runs`` runs (after one warm-up)."""
    from spacy_scicls.segmentation.lines import heading_spans

    heading_spans(text, model)
    whole, steps = [], []
    for _ in range(runs):
        start = clock()
        heading_spans(text, model)
        whole.append(clock() - start)
        steps.append(step_seconds(text, model, clock)[0])
    out = {"heading_spans": statistics.median(whole)}
    for name in steps[0]:
        out[name] = statistics.median(s[name] for s in steps)
    return out


def main(argv=None) -> int:
    from spacy_scicls.corpora.heading_papers import SOURCES
    from spacy_scicls.corpora.renderings import RENDERINGS
    from spacy_scicls.segmentation.lines import HeadingLineModel

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    env = os.environ.get("SCICLS_DATA_DIR")
    parser.add_argument("--data-dir", type=Path, default=Path(env) if env else None, required=env is None)
    parser.add_argument("--sources", nargs="+", default=["grobid", "grobid_more"], choices=SOURCES)
    parser.add_argument("--rendering", default="pdf_lines", choices=list(RENDERINGS))
    parser.add_argument("--paper-kb", type=float, default=50.0)
    parser.add_argument("--long-mb", type=float, default=2.0)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--clock", default="wall", choices=list(CLOCKS),
                        help="seconds on the wall, or CPU seconds of the process")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    papers = [p for source in args.sources for p in rendered_papers(args.data_dir, source, args.rendering)]
    if not papers:
        raise SystemExit(f"no papers of {', '.join(args.sources)} in {args.data_dir}")
    name, paper = min(papers, key=lambda p: abs(len(p[1]) - args.paper_kb * 1000))
    texts = [(f"paper {name}", paper),
             ("papers one after another", long_text(papers, int(args.long_mb * 1e6)))]
    model = HeadingLineModel.from_disk()
    results = []
    for label, text in texts:
        results.append(measure(text, model, args.runs, CLOCKS[args.clock]))
        print(f"{label}: {len(text):,} characters, {text.count(chr(10)):,} lines", flush=True)
    print(f"\n{len(papers)} papers of {', '.join(args.sources)}, rendering {args.rendering}; "
          f"median {'CPU ' if args.clock == 'cpu' else ''}seconds of {args.runs} runs\n")
    print("| step | " + " | ".join(f"{len(text) / 1e3:,.0f} KB" for _, text in texts) + " | share of the whole (long text) |")
    print("|---|" + "---:|" * (len(texts) + 1))
    whole = results[-1]["heading_spans"]
    steps = [name for name in results[0] if name != "heading_spans"]
    for step in steps:
        print(f"| {step} | " + " | ".join(f"{r[step]:.4f}" for r in results) + f" | {results[-1][step] / whole:.0%} |")
    groups = {
        "reflowed reading (all its steps)": [s for s in steps if s.startswith("reflowed")],
        "line_features (lines and reflowed)": ["line_features", "reflowed: line_features"],
        "model (both passes, lines and reflowed)": [s for s in steps
                                                    if s.startswith("model") or s == "reflowed: first pass"],
    }
    for group, members in groups.items():
        print(f"| {group} | " + " | ".join(f"{sum(r[m] for m in members):.4f}" for r in results)
              + f" | {sum(results[-1][m] for m in members) / whole:.0%} |")
    print("| sum of the steps | " + " | ".join(f"{sum(r[s] for s in steps):.4f}" for r in results)
          + f" | {sum(results[-1][s] for s in steps) / whole:.0%} |")
    print("| **heading_spans** | " + " | ".join(f"**{r['heading_spans']:.4f}**" for r in results) + " | 100% |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
