"""``scicls_hf_sections``: a published section classifier (the IMRaD seed model) as
a section component.

It labels the sections that the section splitter produced, each span of
``doc.spans["sections"]`` (set by a structured reader), or, when a doc has
none, the sections that ``segmenter`` finds in its text (the rule-based
segmenter by default, as ``scicls_sections`` does). It writes what
``scicls_sections`` writes: one span per section labelled with one of
:data:`spacy_scicls.labels.IMRAD_LABELS`, ``span._.heading`` and
``span._.section_score``.

The model's classes are mapped onto the IMRaD labels when it is loaded
(``label_map``; the unarXive IMRaD classes are known by default). Several
classes may map onto one label; a label's score is then the sum of their
probabilities. A class that maps onto nothing is an error at load time.
"""
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy
import torch
from spacy.language import Language
from spacy.tokens import Doc, Span, SpanGroup

from ..extensions import install_extensions
from ..labels import IMRAD_LABELS
from ..segmentation import Segment, segments_from_spans
from ..segmentation.rule_based import make_rule_based_segmenter_v1  # noqa: F401 (registers function)
from ._base import LOADING_DEFAULTS, SeedModelPipe
from .hf_categories import input_length, is_multi_label
from .loading import inference_context, load_sequence_classifier

install_extensions()

# Class names that section classifiers use, folded (lower case, "_" and "-" as
# spaces), and the IMRaD label each stands for. unarXive's IMRaD classes are
# introduction, related work, methods, results and discussion, sometimes
# abbreviated to one letter.
KNOWN_SECTION_CLASSES: Dict[str, str] = {
    **{label.replace("_", " "): label for label in IMRAD_LABELS},
    "i": "introduction", "intro": "introduction", "background": "related_work",
    "w": "related_work", "related works": "related_work", "previous work": "related_work",
    "m": "methods", "method": "methods", "methodology": "methods", "materials and methods": "methods",
    "r": "results", "result": "results", "experiments": "results", "evaluation": "results",
    "d": "discussion", "c": "conclusion", "conclusions": "conclusion", "a": "abstract", "o": "other",
}


def fold_class(name: str) -> str:
    return " ".join(str(name).replace("_", " ").replace("-", " ").lower().split())


@Language.factory(
    "scicls_hf_sections",
    assigns=["doc.spans", "span._.heading", "span._.section_score"],
    default_config={
        "model": "lostelf/section-classifier-imrad",
        "segmenter": {"@misc": "spacy_scicls.rule_based_sections.v1"},
        "spans_key": "sections",
        "label_map": {},
        "with_heading": False,
        "max_length": None,
        "scorer": {"@scorers": "spacy_scicls.section_scorer.v1"},
        **LOADING_DEFAULTS,
    },
    default_score_weights={"sections_f": 1.0, "sections_p": 0.0, "sections_r": 0.0, "sections_boundaries_f": 0.0},
)
def make_hf_section_classifier(
    nlp: Language,
    name: str,
    model: str,
    segmenter: Callable[[Doc], List[Segment]],
    spans_key: str,
    label_map: Dict[str, str],
    with_heading: bool,
    max_length: Optional[int],
    scorer: Optional[Callable],
    batch_size: int,
    allow_pickle: bool,
    local_files_only: bool,
    revision: Optional[str],
    half_precision: bool,
    inference_mode: bool,
    save_weights: bool,
) -> "HFSectionClassifier":
    """Label each section with a published section classifier.

    model: hub name or folder of a ``*ForSequenceClassification`` model over section text.
    segmenter: finds sections in docs that have none in ``doc.spans[spans_key]``.
    label_map: model class name -> IMRaD label, added to the known class names.
    with_heading: prepend the heading line to the section text the model reads
        (the IMRaD seed was trained on section text without headings).
    max_length: wordpieces per section; None for the model's own maximum.
    scorer: scores like scicls_sections (sections_* keys).
    The loading and running settings are those of ``scicls_hf_doc_categories``.
    """
    return HFSectionClassifier(
        name,
        model,
        segmenter=segmenter,
        spans_key=spans_key,
        label_map=label_map,
        with_heading=with_heading,
        max_length=max_length,
        scorer=scorer,
        batch_size=batch_size,
        allow_pickle=allow_pickle,
        local_files_only=local_files_only,
        revision=revision,
        half_precision=half_precision,
        inference_mode=inference_mode,
        save_weights=save_weights,
    )


class HFSectionClassifier(SeedModelPipe):
    def __init__(
        self,
        name: str,
        model: str,
        *,
        segmenter: Callable[[Doc], List[Segment]],
        spans_key: str = "sections",
        label_map: Optional[Dict[str, str]] = None,
        with_heading: bool = False,
        max_length: Optional[int] = None,
        scorer: Optional[Callable] = None,
        **settings: Any,
    ) -> None:
        super().__init__(name, model, **settings)
        self.scorer = scorer
        for raw, label in (label_map or {}).items():
            if label not in IMRAD_LABELS:
                raise ValueError(
                    f"[{name}] label_map maps {raw!r} to {label!r}, which is not one of {', '.join(IMRAD_LABELS)}"
                )
        self.segmenter = segmenter
        self.cfg.update(
            spans_key=spans_key,
            label_map=dict(label_map or {}),
            with_heading=bool(with_heading),
            max_length=max_length,
        )

    @property
    def labels(self) -> Tuple[str, ...]:
        return IMRAD_LABELS

    @property
    def spans_key(self) -> str:
        return self.cfg["spans_key"]

    # ------------------------------------------------------------ loading
    def _load(self, source: str) -> None:
        config, tokenizer, model = load_sequence_classifier(source, **self.loading_kwargs())
        raw = [str(config.id2label[i]) for i in range(config.num_labels)]
        known = {**KNOWN_SECTION_CLASSES, **{fold_class(k): v for k, v in self.cfg["label_map"].items()}}
        # Raw class -> IMRaD label, as a matrix that sums class probabilities per label.
        mapping = numpy.zeros((len(raw), len(IMRAD_LABELS)), dtype="float32")
        for i, name in enumerate(raw):
            label = self.cfg["label_map"].get(name) or known.get(fold_class(name))
            if label is None:
                raise ValueError(
                    f"[{self.name}] the model {source!r} has the class {name!r} (output {i}), which is not an "
                    f"IMRaD label ({', '.join(IMRAD_LABELS)}) or a known name for one; map it with 'label_map'"
                )
            mapping[i, IMRAD_LABELS.index(label)] = 1.0
        self.hf_config, self.tokenizer, self.model = config, tokenizer, model
        self.raw_labels, self.mapping = raw, mapping
        self.multi_label = is_multi_label(config)
        self.max_length = input_length(config, tokenizer, self.cfg["max_length"])

    def _save(self, path: Path) -> None:
        self.model.save_pretrained(str(path), safe_serialization=True)
        self.tokenizer.save_pretrained(str(path))

    def _torch_module(self):
        return self.model

    def score(self, examples, **kwargs) -> Dict[str, Any]:
        """The scores of ``scicls_sections``, for comparing the two."""
        if self.scorer is None:
            return {}
        return self.scorer(examples, **{"spans_key": self.spans_key, **kwargs})

    # ------------------------------------------------------------ running
    def segments(self, doc: Doc) -> List[Segment]:
        existing = doc.spans.get(self.spans_key)
        if existing is not None and len(existing):
            return segments_from_spans(doc, list(existing))
        return self.segmenter(doc)

    def section_text(self, doc: Doc, segment: Segment) -> str:
        """What the model reads for a section: its text without (or with) the heading."""
        body = doc[segment.heading_end : segment.end].text.strip()
        heading = (segment.heading or "").strip()
        if self.cfg["with_heading"] and heading:
            return f"{heading}\n{body}".strip()
        return body or heading

    def predict_texts(self, texts: List[str]) -> numpy.ndarray:
        """IMRaD label probabilities, one row per text (the model's classes summed per label)."""
        self.ensure_loaded()
        out = numpy.zeros((len(texts), len(IMRAD_LABELS)), dtype="float32")
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        device = next(self.model.parameters()).device
        size = int(self.cfg["batch_size"])
        for start in range(0, len(order), size):
            rows = order[start : start + size]
            batch = self.tokenizer(
                [texts[i] for i in rows], truncation=True, max_length=self.max_length, padding=True, return_tensors="pt"
            ).to(device)
            with inference_context(bool(self.cfg["inference_mode"])):
                logits = self.model(**batch).logits.float()
            probs = torch.sigmoid(logits) if self.multi_label else torch.softmax(logits, dim=-1)
            out[rows] = probs.cpu().numpy() @ self.mapping
        return out

    def _annotate(self, docs: List[Doc]) -> None:
        segments = [self.segments(doc) for doc in docs]
        texts, where = [], []
        for d, (doc, doc_segments) in enumerate(zip(docs, segments)):
            for s, segment in enumerate(doc_segments):
                text = self.section_text(doc, segment)
                if text:
                    texts.append(text)
                    where.append((d, s))
        scores: Dict[Tuple[int, int], numpy.ndarray] = dict(zip(where, self.predict_texts(texts)))
        for d, (doc, doc_segments) in enumerate(zip(docs, segments)):
            spans = []
            for s, segment in enumerate(doc_segments):
                span = Span(doc, segment.start, segment.end)
                row = scores.get((d, s))
                if row is None:
                    # A section with neither text nor heading: nothing to classify.
                    span.label_ = "other"
                    span._.section_score = None
                else:
                    best = int(row.argmax())
                    span.label_ = IMRAD_LABELS[best]
                    span._.section_score = float(row[best])
                span._.heading = segment.heading
                spans.append(span)
            doc.spans[self.spans_key] = SpanGroup(doc, name=self.spans_key, spans=spans)
