"""``scicls_sections``: one span per section in ``doc.spans["sections"]``,
labelled with its IMRaD role."""
from typing import Callable, Collection, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy
from spacy.language import Language
from spacy.tokens import Doc, Span, SpanGroup
from spacy.training import Example, validate_get_examples
from spacy.vocab import Vocab
from thinc.api import Config, Model
from thinc.types import Floats2d, Ragged

from ..extensions import install_extensions
from ..corpora.sections import section_roles
from ..labels import IMRAD_LABELS
from ..ml.section_classifier import (  # noqa: F401 (registers)
    build_section_classifier_v2, build_section_classifier_v3,
)
from ..ml.section_order import decode
from ..segmentation import Segment, segments_from_spans
from ..segmentation.lines import make_line_model_segmenter_v1  # noqa: F401 (registers function)
from ..segmentation.rule_based import make_rule_based_segmenter_v1  # noqa: F401 (registers function)
from ..segmentation.segments import heading_end_of, heading_level
from ._head import SharedEncoderHead
from ._util import LISTENER_TOK2VEC_CONFIG, sample, set_output_width
from .scoring import make_section_scorer_v1  # noqa: F401 (registers scorer)

install_extensions()

DEFAULT_SECTIONS_CONFIG = """
[model]
@architectures = "spacy_scicls.SectionClassifier.v2"
hidden_width = 64
dropout = 0.2
content_tokens = 128

[segmenter]
@misc = "spacy_scicls.heading_line_sections.v1"

[scorer]
@scorers = "spacy_scicls.section_scorer.v1"
""" + LISTENER_TOK2VEC_CONFIG
DEFAULT_SECTIONS_MODEL = Config().from_str(DEFAULT_SECTIONS_CONFIG)["model"]


@Language.factory(
    "scicls_sections",
    assigns=["doc.spans", "span._.heading", "span._.section_score"],
    default_config={
        "model": DEFAULT_SECTIONS_MODEL,
        "segmenter": {"@misc": "spacy_scicls.heading_line_sections.v1"},
        "spans_key": "sections",
        "scorer": {"@scorers": "spacy_scicls.section_scorer.v1"},
        "inherit_threshold": 0.9,
        "heading_weight": 0.5,
        "order_weight": 1.0,
        "overwrite": False,
    },
    default_score_weights={"sections_f": 1.0, "sections_p": 0.0, "sections_r": 0.0, "sections_boundaries_f": 0.0},
)
def make_section_classifier(
    nlp: Language,
    name: str,
    model: Model,
    segmenter: Callable[[Doc], List[Segment]],
    spans_key: str,
    scorer: Optional[Callable],
    inherit_threshold: float = 0.9,
    heading_weight: float = 0.5,
    order_weight: float = 1.0,
    overwrite: bool = False,
) -> "SectionClassifier":
    """Label each section of a paper with its IMRaD role.

    Sections already in ``doc.spans[spans_key]`` (set by a structured reader)
    keep their boundaries and get a label; otherwise ``segmenter`` finds them
    in the text. A section whose reader stated its role (a span labelled with
    one of the IMRaD labels: JATS ``sec-type``, back matter, LaTeX
    appendices, the abstract; or a label from an earlier run) keeps it, and
    its sub-sections inherit it as below; ``overwrite`` replaces those labels
    by the model's too. A sub-section (``span._.section_level`` > 1, or a
    heading numbered "2.1") takes its parent's label unless its own label's
    probability reaches ``inherit_threshold``; a parent without a heading
    passes nothing down (its label comes from its content alone, as the
    child's does). A heading that names a role
    (:func:`spacy_scicls.corpora.sections.section_roles`: a sub-section's
    "Overview" inside a methods section names none) counts as evidence
    of weight ``heading_weight``: the model's probabilities ``p`` become
    ``(1 - w) * p + w * onehot(heading role)``. At 0.5 (the default) a
    heading that names a role decides it and the content labels the other
    sections; below 0.5 the content overrides the heading when the model is
    sure (by more than ``w / (1 - w)``); 0 turns this off.

    When the component holds transitions between labels learned from
    training papers (:meth:`SectionClassifier.set_transitions`, done by
    ``scripts/train_sections.py``), the labels of a paper's sections are
    decoded together (:func:`spacy_scicls.ml.section_order.decode`): the
    model's probabilities times the transition probabilities raised to
    ``order_weight`` (0: each section on its own). With ``heading_weight``
    0.5 or more, a section whose heading names a role keeps that role.
    """
    return SectionClassifier(
        nlp.vocab, model, name, segmenter=segmenter, spans_key=spans_key, scorer=scorer,
        inherit_threshold=inherit_threshold, heading_weight=heading_weight, order_weight=order_weight,
        overwrite=overwrite,
    )


class SectionClassifier(SharedEncoderHead):
    def __init__(
        self,
        vocab: Vocab,
        model: Model,
        name: str = "scicls_sections",
        *,
        segmenter: Callable[[Doc], List[Segment]],
        spans_key: str = "sections",
        scorer: Optional[Callable] = None,
        inherit_threshold: float = 0.9,
        heading_weight: float = 0.5,
        order_weight: float = 1.0,
        overwrite: bool = False,
    ) -> None:
        self.vocab = vocab
        self.model = model
        self.name = name
        self.segmenter = segmenter
        self.scorer = scorer
        self.cfg: Dict = {"labels": list(IMRAD_LABELS), "spans_key": spans_key, "inherit_threshold": inherit_threshold,
                          "heading_weight": heading_weight, "order_weight": order_weight, "transitions": None,
                          "overwrite": bool(overwrite)}
        if not 0.0 <= heading_weight < 1.0:
            raise ValueError(f"[{name}] heading_weight must be in [0, 1), not {heading_weight}")
        if order_weight < 0:
            raise ValueError(f"[{name}] order_weight must not be negative, not {order_weight}")
        for label in IMRAD_LABELS:
            self.vocab.strings.add(label)

    @property
    def labels(self) -> Tuple[str, ...]:
        return tuple(self.cfg["labels"])

    @property
    def spans_key(self) -> str:
        return self.cfg["spans_key"]

    def add_label(self, label: str) -> int:
        raise NotImplementedError(
            f"{self.name} has the fixed label set {', '.join(IMRAD_LABELS)}; labels cannot be added"
        )

    def set_transitions(self, transitions: Optional[numpy.ndarray]) -> None:
        """Log-probabilities of the next section's label, ``(len(labels) + 1,
        len(labels))``, the last row for a paper's first section (see
        :func:`spacy_scicls.ml.section_order.learn_transitions`); ``None``
        labels each section on its own. Saved with the component."""
        if transitions is None:
            self.cfg["transitions"] = None
            return
        transitions = numpy.asarray(transitions, dtype="float64")
        n = len(self.labels)
        if transitions.shape != (n + 1, n) or not numpy.all(numpy.isfinite(transitions)):
            raise ValueError(f"[{self.name}] transitions must be finite, of shape {(n + 1, n)}, "
                             f"not {transitions.shape}")
        self.cfg["transitions"] = [[round(float(v), 6) for v in row] for row in transitions]

    # -- prediction -------------------------------------------------------
    def segments(self, doc: Doc) -> List[Segment]:
        """The sections of ``doc``: from its spans if a reader set them, else from the text."""
        existing = doc.spans.get(self.spans_key)
        if existing is not None and len(existing):
            return segments_from_spans(doc, list(existing))
        return self.segmenter(doc)

    def predict(self, docs: Iterable[Doc]) -> Tuple[List[List[Segment]], Floats2d]:
        docs = list(docs)
        segments = [self.segments(doc) for doc in docs]
        levels = [_levels(doc, doc_segments, self.spans_key) for doc, doc_segments in zip(docs, segments)]
        spans = _to_ragged(self.model, segments, levels)
        if spans.data.shape[0] == 0:
            return segments, self.model.ops.alloc2f(0, len(self.labels))
        return segments, self.model.predict((docs, spans))

    def set_annotations(self, docs: Iterable[Doc], predictions: Tuple[List[List[Segment]], Floats2d]) -> None:
        segments, scores = predictions
        weight = float(self.cfg.get("heading_weight", 0.0))
        levels = [_levels(doc, doc_segments, self.spans_key) for doc, doc_segments in zip(docs, segments)]
        roles = [None if weight <= 0 else _label_index(self.labels, role)
                 for doc_segments, doc_levels in zip(segments, levels)
                 for role in section_roles([segment.heading for segment in doc_segments], doc_levels)]
        given = [] if self.cfg.get("overwrite", False) else [
            _label_index(self.labels, label)
            for doc, doc_segments in zip(docs, segments) for label in _reader_labels(doc, doc_segments, self.spans_key)]
        transitions = self.cfg.get("transitions")
        chosen, scores = decide_labels(
            self.model.ops.to_numpy(scores), roles, [level for doc_levels in levels for level in doc_levels],
            [bool(segment.heading and segment.heading.strip()) for doc_segments in segments for segment in doc_segments],
            [len(doc_segments) for doc_segments in segments], heading_weight=weight,
            inherit_threshold=float(self.cfg.get("inherit_threshold", 1.01)),
            transitions=None if transitions is None else numpy.asarray(transitions, dtype="float64"),
            order_weight=float(self.cfg.get("order_weight", 0.0)),
            not_inherited=not_inherited(self.labels), opening=opening_labels(self.labels), given=given,
        )
        row = 0
        for doc, doc_segments, doc_levels in zip(docs, segments, levels):
            spans = []
            for segment, level in zip(doc_segments, doc_levels):
                best = chosen[row]
                span = Span(doc, segment.start, segment.end, label=self.labels[best])
                span._.heading = segment.heading
                span._.section_score = float(scores[row, best])
                span._.section_level = level
                spans.append(span)
                row += 1
            doc.spans[self.spans_key] = SpanGroup(doc, name=self.spans_key, spans=spans)

    # -- training ---------------------------------------------------------
    def _gold(self, examples: Iterable[Example]) -> Tuple[List[List[Segment]], List[List[int]]]:
        """Gold sections of each example, mapped onto its predicted doc's tokens."""
        segments, truths = [], []
        for eg in examples:
            doc_segments, doc_truths = [], []
            if self.spans_key in eg.reference.spans:
                for gold in eg.reference.spans[self.spans_key]:
                    if gold.label_ not in self.labels:
                        raise ValueError(
                            f"[{self.name}] section label {gold.label_!r} of {gold.text[:40]!r} "
                            f"is not one of {', '.join(self.labels)}"
                        )
                    span = eg.predicted.char_span(gold.start_char, gold.end_char, alignment_mode="expand")
                    if span is None or len(span) == 0:
                        continue
                    heading = gold._.heading
                    doc_segments.append(Segment(span.start, span.end, heading_end_of(span, heading), heading))
                    doc_truths.append(self.labels.index(gold.label_))
            segments.append(doc_segments)
            truths.append(doc_truths)
        return segments, truths

    def training_batch(self, examples: List[Example]) -> Tuple[Tuple[List[Doc], Ragged], List[int]]:
        # Train on the gold boundaries: the model learns to label sections,
        # whoever found them.
        segments, truths = self._gold(examples)
        levels = [_gold_levels(eg, doc_segments, self.spans_key) for eg, doc_segments in zip(examples, segments)]
        inputs = ([eg.predicted for eg in examples], _to_ragged(self.model, segments, levels))
        return inputs, [t for doc_truths in truths for t in doc_truths]

    def loss(self, targets: List[int], scores: Floats2d) -> Tuple[float, Floats2d]:
        """Cross-entropy of the softmax over IMRaD labels, averaged over sections."""
        rows = numpy.arange(len(targets))
        target = numpy.zeros((len(targets), len(self.labels)), dtype="float32")
        target[rows, targets] = 1.0
        n = max(len(targets), 1)
        d_scores = (scores - self.model.ops.asarray2f(target)) / n
        probs = self.model.ops.to_numpy(scores)
        loss = float(-numpy.log(numpy.clip(probs[rows, targets], 1e-9, 1.0)).sum() / n)
        return loss, d_scores

    def initialize(self, get_examples: Callable[[], Iterable[Example]], *, nlp: Optional[Language] = None) -> None:
        validate_get_examples(get_examples, "SectionClassifier.initialize")
        examples = sample(get_examples())
        docs = [eg.predicted for eg in examples]
        segments, _ = self._gold(examples)
        if not any(segments):
            # No gold sections in the sample: a whole-doc section per doc is
            # enough to infer the layer sizes.
            segments = [[Segment(0, len(doc), 0, None)] if len(doc) else [] for doc in docs]
        set_output_width(self.model, len(self.labels))
        spans = _to_ragged(self.model, segments)
        self.model.initialize(X=(docs, spans), Y=self.model.ops.alloc2f(spans.data.shape[0], len(self.labels)))


def _label_index(labels: Sequence[str], label: Optional[str]) -> Optional[int]:
    return None if label is None else labels.index(label)


def decide_labels(scores: numpy.ndarray, roles: Sequence[Optional[int]], levels: Sequence[int],
                  has_heading: Sequence[bool], lengths: Sequence[int], *, heading_weight: float,
                  inherit_threshold: float, transitions: Optional[numpy.ndarray] = None,
                  order_weight: float = 0.0, not_inherited: Collection[int] = (),
                  opening: Collection[int] = (),
                  given: Sequence[Optional[int]] = ()) -> Tuple[List[int], numpy.ndarray]:
    """The label index of each section from the head's ``scores`` (one row per
    section, ``lengths`` sections per doc in reading order), as the component
    decides it, and the scores it decided from.

    ``roles``: the label its heading names (None: none), weighing
    ``heading_weight`` against the scores; with ``transitions`` and an
    ``order_weight`` each doc's labels are decoded together, sections whose
    heading names a role held to it when ``heading_weight`` >= 0.5. A
    sub-section (``levels`` > 1) whose label's score is below
    ``inherit_threshold`` takes its parent's label, if the parent has a
    heading (``has_heading``): without one (headings withheld) the parent's
    label is a guess from its content, no better than the child's own. A
    sub-section whose own heading names a role, when ``heading_weight`` >= 0.5,
    keeps it: "4.2 Discussion" under "4 Results and Discussion" is discussion,
    and "Acknowledgements" nested under a paper's "Summary" is other. The
    labels in ``not_inherited`` (the abstract: a summary that holds the whole
    paper's sections is no reason to call them abstract) are never inherited.
    The labels in ``opening`` (the abstract and the introduction: a paper
    opens with them, at its top level) are never taken by content alone by
    a sub-section whose parent has a heading and another label, however sure
    the content is: a method's unnamed "2.2 Pretrained Transformers" explains
    the method (a heading's role was read in the paper's nesting before:
    :func:`spacy_scicls.corpora.sections.section_roles`). A parent labelled
    with one of ``not_inherited`` (a "Summary" that holds the whole paper)
    rules nothing out.

    ``given`` (empty, or one per section): the label a structured reader
    gave the section (None: none), which it keeps whatever the rest says;
    its sub-sections inherit from it as from any labelled parent.
    """
    scores = numpy.array(scores, dtype="float32")
    given = list(given) or [None] * len(roles)
    for row, role in enumerate(roles):
        if given[row] is not None:
            scores[row] = 0.0
            scores[row, given[row]] = 1.0
        elif role is not None:
            scores[row] *= 1.0 - heading_weight
            scores[row, role] += heading_weight
    chosen = [int(k) for k in scores.argmax(axis=1)] if len(scores) else []
    if transitions is not None and order_weight > 0:
        start = 0
        for n in lengths:
            fixed = [label if label is not None else (role if heading_weight >= 0.5 else None)
                     for label, role in zip(given[start : start + n], roles[start : start + n])]
            chosen[start : start + n] = decode(scores[start : start + n], transitions, order_weight, fixed)
            start += n
    start = 0
    for n in lengths:
        parents: List[Tuple[int, int, bool]] = []  # (level, label index, has a heading) of the open sections
        for row in range(start, start + n):
            while parents and parents[-1][0] >= levels[row]:
                parents.pop()
            named = roles[row] is not None and heading_weight >= 0.5
            if (given[row] is None and parents and parents[-1][2] and levels[row] > 1
                    and parents[-1][1] not in not_inherited):
                parent_label = parents[-1][1]
                if not named and (chosen[row] in opening and chosen[row] != parent_label
                                  or scores[row, chosen[row]] < inherit_threshold):
                    chosen[row] = parent_label
            parents.append((levels[row], chosen[row], bool(has_heading[row])))
        start += n
    return chosen, scores


def not_inherited(labels: Sequence[str]) -> Tuple[int, ...]:
    """Indices of the labels a sub-section never takes from its parent: the abstract."""
    return tuple(i for i, label in enumerate(labels) if label == "abstract")


def opening_labels(labels: Sequence[str]) -> Tuple[int, ...]:
    """Indices of the labels that open a paper: no sub-section's under a parent with another label."""
    return tuple(i for i, label in enumerate(labels) if label in ("abstract", "introduction"))


def _levels(doc: Doc, segments: List[Segment], spans_key: str) -> List[int]:
    """Depth of each section: from the reader's spans where it set them, else
    from the numbering of the heading ("2.1 Data" is 2), else 1."""
    known = {}
    for span in doc.spans.get(spans_key, []):
        if span._.section_level:
            known[(span.start, span.end)] = int(span._.section_level)
    return [known.get((s.start, s.end)) or heading_level(s.heading) for s in segments]


def _reader_labels(doc: Doc, segments: List[Segment], spans_key: str) -> List[Optional[str]]:
    """The IMRaD label a structured reader gave each section (JATS ``sec-type``,
    back matter, LaTeX appendices, the abstract), or None."""
    known = {(span.start, span.end): span.label_ for span in doc.spans.get(spans_key, [])
             if span.label_ in IMRAD_LABELS}
    return [known.get((s.start, s.end)) for s in segments]


def _gold_levels(eg: Example, segments: List[Segment], spans_key: str) -> List[int]:
    """Depth of each gold section of ``eg`` (mapped onto its predicted doc's tokens)."""
    known = {}
    for gold in eg.reference.spans.get(spans_key, []):
        span = eg.predicted.char_span(gold.start_char, gold.end_char, alignment_mode="expand")
        if span is not None and gold._.section_level:
            known[(span.start, span.end)] = int(gold._.section_level)
    return [known.get((s.start, s.end)) or heading_level(s.heading) for s in segments]


def _to_ragged(model: Model, segments: List[List[Segment]], levels: Optional[List[List[int]]] = None) -> Ragged:
    """One row ``(start, end, heading_end, level)`` per section; ``lengths``: sections per doc.
    Without ``levels`` the depth comes from the heading's numbering."""
    if levels is None:
        levels = [[heading_level(s.heading) for s in doc_segments] for doc_segments in segments]
    rows = [(s.start, s.end, s.heading_end, level) for doc_segments, doc_levels in zip(segments, levels)
            for s, level in zip(doc_segments, doc_levels)]
    data = numpy.asarray(rows, dtype="int32").reshape(-1, 4)
    lengths = numpy.asarray([len(doc_segments) for doc_segments in segments], dtype="int32")
    return Ragged(model.ops.asarray2i(data), model.ops.asarray1i(lengths))
