"""A gold ``Doc`` from light annotations, for small hand-made training sets."""
import json
from pathlib import Path
from typing import Dict, Iterable, List, Sequence, Tuple

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.training import Example
from spacy.util import filter_spans

from ..extensions import install_extensions
from ..labels import IMRAD_LABELS
from ..segmentation import RuleBasedSegmenter

install_extensions()


def gold_doc(
    nlp: Language,
    text: str,
    *,
    section_labels: Sequence[str] = (),
    cats: Dict[str, Iterable[str]] = {},
    entities: Sequence[Tuple[str, str]] = (),
) -> Doc:
    """Make a gold doc for training.

    section_labels: IMRaD labels of the sections that the rule-based
        segmenter finds, in reading order; when fewer labels than sections
        are given, the leading sections (title, authors) are "other".
    cats: codes per taxonomy, e.g. ``{"erc": ["PE10"]}``: written as
        ``doc.cats["erc/PE10"] = 1.0``.
    entities: ``(surface string, label)`` pairs; every case-insensitive
        occurrence that falls on token boundaries is an entity, overlaps
        resolved longest first.
    """
    doc = nlp.make_doc(text)
    if section_labels:
        unknown = sorted(set(section_labels) - set(IMRAD_LABELS))
        if unknown:
            raise ValueError(f"unknown section labels {unknown}; use {', '.join(IMRAD_LABELS)}")
        segments = RuleBasedSegmenter()(doc)
        if len(section_labels) > len(segments):
            raise ValueError(f"{len(section_labels)} section labels for {len(segments)} sections found in the text")
        labels: List[str] = ["other"] * (len(segments) - len(section_labels)) + list(section_labels)
        spans = []
        for segment, label in zip(segments, labels):
            span = Span(doc, segment.start, segment.end, label=label)
            span._.heading = segment.heading
            spans.append(span)
        doc.spans["sections"] = spans
    doc.cats = {f"{taxonomy}/{code}": 1.0 for taxonomy, codes in cats.items() for code in codes}
    found = []
    lowered = text.lower()
    for surface, label in entities:
        start = lowered.find(surface.lower())
        while start >= 0:
            span = doc.char_span(start, start + len(surface), label=label)
            if span is not None:
                found.append(span)
            start = lowered.find(surface.lower(), start + len(surface))
    doc.set_ents(filter_spans(found), default="outside")
    return doc


def examples_from_annotations(nlp: Language, annotations_path: Path, papers_dir: Path) -> List[Example]:
    """Training examples from a JSON file of light annotations, one entry per paper file.

    Each entry maps a file name in ``papers_dir`` to ``section_labels``,
    ``cats`` and ``entities`` as :func:`gold_doc` takes them; keys starting
    with ``_`` are comments. The format of ``examples/annotations.json``.
    """
    annotations = json.loads(Path(annotations_path).read_text(encoding="utf8"))
    examples = []
    for name, annotation in annotations.items():
        if name.startswith("_"):
            continue
        text = (Path(papers_dir) / name).read_text(encoding="utf8")
        reference = gold_doc(
            nlp,
            text,
            section_labels=annotation["section_labels"],
            cats=annotation["cats"],
            entities=[tuple(pair) for pair in annotation["entities"]],
        )
        examples.append(Example(nlp.make_doc(text), reference))
    return examples
