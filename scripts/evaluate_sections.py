"""Evaluate section reading: heading detection on plain text, IMRaD labels, speed.

Prints, per data set and split:

1. Heading detection on plain text, P/R/F1 over lines: a detected heading
   line counts when the same line is a gold heading line (after white-space
   normalisation). GROBID's training TEI laid out as PDF-extracted text
   (``papers/grobid_tei``; the heading-line scorer was trained on the "train"
   split only), and the text that the readers make of the PLOS and unarXive
   papers with the headings left in as lines. The older line rules
   (``spacy_scicls.rule_based_sections.v1``) are shown beside the default.
2. IMRaD labels from the trained pipeline (``scripts/train_sections.py``),
   accuracy and macro-F1: against PLOS gold ``sec-type`` (top-level body
   sections that carry one) and against silver labels from the headings
   (``spacy_scicls.corpora.sections.silver_labels``), with headings and with
   headings withheld (content only); and how often the content-only
   prediction disagrees with the heading-based label. Content only, a gold
   top-level section whose text is all in its sub-sections has no span of
   its own and is judged by its first sub-section; the extra row "content,
   by tokens" judges every gold section by the label given to most of its
   content tokens, sub-sections included.
3. Papers per second of the whole pipeline on full papers.

    python scripts/evaluate_sections.py --data-dir $SCICLS_DATA_DIR --pipeline training/sections-pipeline
"""
import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

REPO = Path(__file__).resolve().parents[1]
BODY_ROLES = ("introduction", "related_work", "methods", "results", "discussion", "conclusion")
MERGED = {"conclusion": "discussion"}


def prf(tp: int, fp: int, fn: int) -> Tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def heading_line_counts(texts_and_gold, finder) -> List[Tuple[int, int, int]]:
    """``(tp, fp, fn)`` heading lines of each paper."""
    from spacy_scicls.corpora.plain_text import normalise_line

    counts = []
    for text, gold in texts_and_gold:
        lines = text.splitlines(keepends=True)
        starts, offset = {}, 0
        for i, line in enumerate(lines):
            starts[offset] = i
            offset += len(line)
        found = set()
        for start, end in finder(text):
            # A heading found over several lines counts each of its lines.
            first = max(k for k in starts if k <= start)
            i = starts[first]
            while i < len(lines) and sum(len(x) for x in lines[:i]) < end:
                if normalise_line(lines[i]):
                    found.add(i)
                i += 1
        gold_lines = {i for i in gold if normalise_line(lines[i])}
        counts.append((len(found & gold_lines), len(found - gold_lines), len(gold_lines - found)))
    return counts


def label_scores(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> Tuple[float, float, int]:
    n = len(gold)
    accuracy = sum(g == p for g, p in zip(gold, pred)) / n if n else 0.0
    f1s = []
    for label in labels:
        tp = sum(g == label and p == label for g, p in zip(gold, pred))
        fp = sum(g != label and p == label for g, p in zip(gold, pred))
        fn = sum(g == label and p != label for g, p in zip(gold, pred))
        if tp + fn:
            f1s.append(prf(tp, fp, fn)[2])
    return accuracy, (sum(f1s) / len(f1s) if f1s else 0.0), n


def majority_label(index: int, levels: Sequence[int], labels: Dict[int, str], tokens: Dict[int, int]) -> str:
    """The label given to most content tokens of section ``index`` and its
    sub-sections (the sections after it at a deeper level), among those
    that kept a span; ties go to the earlier section."""
    weight: Counter = Counter()
    first: Dict[str, int] = {}
    j = index
    while j < len(levels) and (j == index or levels[j] > levels[index]):
        if j in labels:
            weight[labels[j]] += tokens[j]
            first.setdefault(labels[j], j)
        j += 1
    return max(weight, key=lambda label: (weight[label], -first[label]))


def tokens_read(model):
    """How many content tokens of a section the head reads (None: all of them): a v2 head its
    ``content_tokens`` (48 for v1), a v3 head also the ``words_tokens`` its words come from."""
    caps = [int(model.attrs.get("content_tokens", 48))]
    if "words_tokens" in model.attrs:
        caps.append(int(model.attrs["words_tokens"]))
    return None if min(caps) <= 0 else max(caps)


def predict_labels(nlp, docs) -> List[List[str]]:
    return [[s.label_ for s in doc.spans["sections"]] for doc in nlp.pipe(docs, batch_size=8)]


def main(argv=None) -> int:
    import spacy
    import torch

    import spacy_scicls  # noqa: F401
    from spacy_scicls import bootstrap
    from spacy_scicls.corpora.papers import iter_papers
    from spacy_scicls.corpora.plain_text import reader_text_and_gold, split_of, tei_plain_text
    from spacy_scicls.corpora.sections import section_doc, section_roles, silver_labels
    from spacy_scicls.labels import IMRAD_LABELS
    from spacy_scicls.segmentation import HeadingLineModel, find_heading_lines, heading_spans

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    env = os.environ.get("SCICLS_DATA_DIR")
    parser.add_argument("--data-dir", type=Path, default=Path(env) if env else None, required=env is None)
    parser.add_argument("--pipeline", type=Path, default=REPO / "training" / "sections-pipeline")
    parser.add_argument("--heading-model", type=Path, default=None,
                        help="heading-line weights (default: the packaged ones)")
    parser.add_argument("--max-tokens", type=int, default=None,
                        help="label evaluation reads each section's first N content tokens (default: as many as "
                             "the head reads: its content_tokens, and for v3 its words_tokens; 48 for a v1 head)")
    parser.add_argument("--label-splits", nargs="+", default=["test"], choices=["test", "train"])
    parser.add_argument("--paper-bootstrap", type=int, default=0, metavar="DRAWS",
                        help="also print each heading row's F1 over its papers drawn again with replacement")
    parser.add_argument("--label-collections", nargs="+", default=["plos", "unarxive", "s2orc"],
                        choices=["plos", "unarxive", "s2orc"], help="the collections whose IMRaD labels are scored")
    parser.add_argument("--speed-papers", type=int, default=4)
    parser.add_argument("--skip", nargs="*", default=[], choices=["headings", "labels", "speed"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--order-weight", type=float, default=None,
                        help="the sections component's order_weight for this evaluation (default: the pipeline's)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    blank = spacy.blank("en")

    if "headings" not in args.skip:
        print("== Heading detection on plain text (line P / R / F1) ==")
        model = HeadingLineModel.from_disk(args.heading_model) if args.heading_model else HeadingLineModel.from_disk()
        finders = {"heading-line model": lambda text: heading_spans(text, model), "line rules": find_heading_lines}
        tei_dir = args.data_dir / "papers" / "grobid_tei" / "corpus_tei"
        sets: Dict[str, list] = {}
        for path in sorted(tei_dir.glob("*.tei.xml")):
            sets.setdefault(f"grobid_tei/{split_of(path.name)}", []).append(tei_plain_text(path))
        for collection in ("plos", "unarxive"):
            sets[f"{collection}_reader_text/test"] = [
                reader_text_and_gold(d) for d in iter_papers(args.data_dir, collection, "test", blank)
            ]
        for name, items in sets.items():
            for finder_name, finder in finders.items():
                counts = heading_line_counts(items, finder)
                tp, fp, fn = (sum(row[k] for row in counts) for k in range(3))
                p, r, f = prf(tp, fp, fn)
                print(f"{name:28s} {finder_name:20s} papers {len(items):3d}  gold {tp + fn:5d}  "
                      f"P {p:.3f}  R {r:.3f}  F1 {f:.3f}")
                if args.paper_bootstrap:
                    print(f"{'':28s}   {bootstrap.describe(counts, args.paper_bootstrap)}")

    if "labels" not in args.skip:
        nlp = spacy.load(args.pipeline)
        if args.order_weight is not None:
            nlp.get_pipe("sections").cfg["order_weight"] = args.order_weight
        if args.max_tokens is None:
            args.max_tokens = tokens_read(nlp.get_pipe("sections").model)
        order = nlp.get_pipe("sections").cfg
        cut = f"cut to {args.max_tokens} tokens" if args.max_tokens else "whole"
        print(f"== IMRaD labels (pipeline {args.pipeline.name}; sections {cut}; "
              f"order_weight {order.get('order_weight', 0.0)}"
              f"{'' if order.get('transitions') else ', no transitions'}) ==")
        for collection in args.label_collections:
            for split in args.label_splits:
                docs = list(iter_papers(args.data_dir, collection, split, nlp))
                silver, gold = [], []
                items = []
                for doc in docs:
                    labels = silver_labels(doc)
                    reader = [s.label_ if (s._.section_level == 1 and s.label_ in BODY_ROLES) else None
                              for s in doc.spans["sections"]]
                    # The reader's labels are withheld: the component would keep them, and
                    # this measures what the model gives a section whose role nobody stated.
                    unstated = [None] * len(doc.spans["sections"])
                    seen = section_doc(doc, nlp, unstated, max_tokens=args.max_tokens)
                    blind = section_doc(doc, nlp, unstated, headings=False, max_tokens=args.max_tokens)
                    roles = section_roles([sp._.heading for sp in doc.spans["sections"]],
                                          [sp._.section_level or 1 for sp in doc.spans["sections"]])
                    items.append((labels, reader, seen, blind, [sp._.section_level or 1 for sp in doc.spans["sections"]], roles))
                start = time.time()
                pred_seen = predict_labels(nlp, [item[2] for item in items])
                pred_blind = predict_labels(nlp, [item[3] for item in items])
                elapsed = time.time() - start
                for (labels, reader, seen, blind, levels, roles), ps, pb in zip(items, pred_seen, pred_blind):
                    by_seen = dict(zip(seen.user_data["section_index"], ps))
                    by_blind = dict(zip(blind.user_data["section_index"], pb))
                    for i in sorted(set(by_seen) & set(by_blind)):
                        if labels[i] is not None:
                            silver.append((labels[i], by_seen[i], by_blind[i]))
                    # A gold top-level section whose text is all in its
                    # sub-sections has no span of its own without its
                    # heading: it is judged by its first sub-section's label.
                    # The fourth column judges it instead by the label given
                    # to most of its content tokens, its sub-sections' included.
                    blind_tokens = dict(zip(blind.user_data["section_index"],
                                            (len(span) for span in blind.spans["sections"])))
                    for i, label in enumerate(reader):
                        if label is None or i not in by_seen:
                            continue
                        j = i
                        while j < len(reader) and j not in by_blind and (j == i or levels[j] > levels[i]):
                            j += 1
                        if j in by_blind and (j == i or levels[j] > levels[i]):
                            gold.append((label, by_seen[i], by_blind[j], majority_label(i, levels, by_blind, blind_tokens),
                                         roles[i]))
                print(f"-- {collection}/{split}: {len(docs)} papers, {len(silver)} silver-labelled sections "
                      f"({elapsed:.0f} s for both passes)")
                rows = [("silver", silver)] + ([("PLOS gold sec-type", gold)] if collection == "plos" else [])
                for name, triples in rows:
                    if not triples:
                        continue
                    g = [t[0] for t in triples]
                    modes = [("heading+content", 1), ("content only", 2)]
                    if name == "PLOS gold sec-type":
                        modes.append(("content, by tokens", 3))
                    for mode, k in modes:
                        acc, macro, n = label_scores(g, [t[k] for t in triples], IMRAD_LABELS)
                        print(f"   vs {name:20s} {mode:18s} n {n:4d}  accuracy {acc:.3f}  macro-F1 {macro:.3f}")
                    if name == "silver":
                        disagree = sum(t[0] != t[2] for t in triples) / len(triples)
                        print(f"   content-only prediction disagrees with the heading-based label on {disagree:.1%}")
                    if name == "PLOS gold sec-type":
                        confusion = Counter((t[0], t[1]) for t in triples if t[0] != t[1])
                        print("   errors (gold -> predicted, heading+content): "
                              + ", ".join(f"{a}->{b} {c}" for (a, b), c in confusion.most_common(6)))
                        # PLOS types some sections against the role their own heading names ("Discussion"
                        # typed `conclusions`, "Results and Discussion" too, where a combined heading
                        # takes its first role): a labeller that follows the heading cannot get those
                        # right, so they are counted apart. The accuracy above stays the figure.
                        against = [t for t in triples if t[4] is not None and t[4] != t[0]]
                        rest = [t for t in triples if t[4] is None or t[4] == t[0]]
                        print(f"   gold contradicts the role its own heading names on {len(against)} sections ("
                              + ", ".join(f"{a} typed, heading says {b}: {c}" for (a, b), c in
                                          Counter((t[0], t[4]) for t in against).most_common(4))
                              + f"); heading+content accuracy on the other {len(rest)}: "
                              + f"{label_scores([t[0] for t in rest], [t[1] for t in rest], IMRAD_LABELS)[0]:.3f}")
                        # PLOS tags most of its "Discussion" sections `conclusions`: how many of the
                        # errors are only that, with discussion and conclusion counted as one role
                        merged = [tuple(MERGED.get(x, x) for x in t) for t in triples]
                        print("   discussion and conclusion as one role: " + ", ".join(
                            f"{mode} accuracy {label_scores([t[0] for t in merged], [t[k] for t in merged], IMRAD_LABELS)[0]:.3f}"
                            for mode, k in (("heading+content", 1), ("content only", 2))))

    if "speed" not in args.skip:
        print("== Speed: whole papers through the pipeline ==")
        nlp = spacy.load(args.pipeline)
        docs = list(iter_papers(args.data_dir, "plos", "test", nlp))[: args.speed_papers]
        texts = [d.text for d in docs]
        start = time.time()
        n_tokens = sum(len(d) for d in nlp.pipe(docs, batch_size=8))
        structured = time.time() - start
        start = time.time()
        found = [len(d.spans["sections"]) for d in nlp.pipe(texts, batch_size=8)]
        plain = time.time() - start
        print(f"plos/test structured (JATS reader docs): {len(docs)} papers, {n_tokens} tokens, "
              f"{len(docs) / structured:.3f} papers/s ({n_tokens / structured:.0f} tokens/s)")
        print(f"plos/test plain text (headings found by the pipeline): {len(texts)} papers, "
              f"{len(texts) / plain:.3f} papers/s, {sum(found)} sections found")
    return 0


if __name__ == "__main__":
    sys.exit(main())
