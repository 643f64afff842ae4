"""``scicls_entities``: span-based named entities in ``doc.ents``.

Every span of up to ``max_width`` tokens is a candidate (see
``entities.candidates``), scored by the model from the shared token vectors,
and the best-scoring non-overlapping candidates become entities, as
SpanMarker decodes, with no encoder pass of the head's own.
"""
from collections import Counter
from typing import Callable, Dict, Iterable, List, Optional, Tuple

import numpy
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.training import Example, validate_get_examples
from spacy.util import logger
from spacy.vocab import Vocab
from thinc.api import Config, Model
from thinc.types import Floats2d, Ragged

from ..entities import ENTS_POLICIES, candidate_spans, greedy_decode, merge_entities
from ..entities.thresholds import column_thresholds
from ..extensions import install_extensions
from ..ml.span_scorer import build_span_entity_scorer_v2  # noqa: F401 (registers architecture)
from ._head import SharedEncoderHead
from ._util import LISTENER_TOK2VEC_CONFIG, sample, set_output_width

install_extensions()

NO_ENTITY = "O"

DEFAULT_ENTITIES_CONFIG = """
[model]
@architectures = "spacy_scicls.SpanEntityScorer.v2"
max_width = 8
span_width = 128
hidden_width = 128
dropout = 0.1
normalize = true
prune_ratio = 0.5
context_width = 128
context_depth = 4
context_window = 1
input_dropout = 0.2

[model.features]
@architectures = "spacy.MultiHashEmbed.v2"
width = 64
attrs = ["NORM", "PREFIX", "SUFFIX", "SHAPE"]
rows = [5000, 1000, 2500, 2500]
include_static_vectors = false
""" + LISTENER_TOK2VEC_CONFIG
DEFAULT_ENTITIES_MODEL = Config().from_str(DEFAULT_ENTITIES_CONFIG)["model"]


@Language.factory(
    "scicls_entities",
    assigns=["doc.ents", "token.ent_iob", "token.ent_type", "span._.entity_score"],
    default_config={
        "model": DEFAULT_ENTITIES_MODEL,
        "threshold": 0.5,
        "ents_policy": "keep_existing",
        "positive_weight": 5.0,
        "label_thresholds": {},
        "scorer": {"@scorers": "spacy.ner_scorer.v1"},
    },
    default_score_weights={"ents_f": 1.0, "ents_p": 0.0, "ents_r": 0.0, "ents_per_type": None},
)
def make_span_entity_recognizer(
    nlp: Language,
    name: str,
    model: Model,
    threshold: float,
    ents_policy: str,
    scorer: Optional[Callable],
    positive_weight: float = 5.0,
    label_thresholds: Optional[Dict[str, float]] = None,
    lexicon_weight: float = 0.0,
    lexicon_min_count: int = 1,
    propagate_min_score: Optional[float] = None,
) -> "SpanEntityRecognizer":
    """Span-based NER.

    threshold: a candidate becomes an entity when its best label's
        probability reaches it: lower for recall, higher for precision.
    ents_policy: what happens to entities already in ``doc.ents``:
        "keep_existing" (default), "prefer_longest" or "replace".
    positive_weight: in training, a candidate that is a gold entity weighs
        this many times a candidate that is not. Under 1% of candidates are
        entities; without the weight the head learns to say "no entity"
        first and finds entities only after many more updates.
    label_thresholds: a threshold per label, in place of ``threshold`` for
        that label (the candidate's best label decides which applies); labels
        not named keep ``threshold``. scripts/evaluate_entities.py fits them
        on held-out scores (``spacy_scicls.entities.thresholds``).
    lexicon_weight, lexicon_min_count, propagate_min_score: retired
        decoding aids (a lexicon prior and document-level propagation,
        measured and not adopted: docs/research-log.md). Pipelines saved
        before their removal name them with their off values (0.0, any count,
        None), which are accepted and change nothing; any other value is an
        error rather than a setting that would be silently ignored.
    """
    check_retired_settings(name, lexicon_weight, propagate_min_score)
    return SpanEntityRecognizer(
        nlp.vocab, model, name, threshold=threshold, ents_policy=ents_policy, scorer=scorer,
        positive_weight=positive_weight, label_thresholds=label_thresholds,
    )


def check_retired_settings(name: str, lexicon_weight: Optional[float], propagate_min_score: Optional[float]) -> None:
    """Refuse the retired decoding aids unless they are off (see ``make_span_entity_recognizer``)."""
    if lexicon_weight:
        raise ValueError(
            f"[{name}] lexicon_weight={lexicon_weight}: the lexicon prior was removed (measured, not adopted); "
            "only lexicon_weight = 0 is accepted"
        )
    if propagate_min_score is not None:
        raise ValueError(
            f"[{name}] propagate_min_score={propagate_min_score}: document-level propagation was removed "
            "(measured, not adopted); only propagate_min_score = null is accepted"
        )


class SpanEntityRecognizer(SharedEncoderHead):
    def __init__(
        self,
        vocab: Vocab,
        model: Model,
        name: str = "scicls_entities",
        *,
        threshold: float = 0.5,
        ents_policy: str = "keep_existing",
        scorer: Optional[Callable] = None,
        positive_weight: float = 5.0,
        label_thresholds: Optional[Dict[str, float]] = None,
    ) -> None:
        if not positive_weight > 0:
            raise ValueError(f"[{name}] positive_weight must be positive, got {positive_weight}")
        if ents_policy not in ENTS_POLICIES:
            raise ValueError(f"[{name}] ents_policy must be one of {', '.join(ENTS_POLICIES)}, got {ents_policy!r}")
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"[{name}] threshold must be within (0, 1], got {threshold}")
        label_thresholds = {str(k): float(v) for k, v in (label_thresholds or {}).items()}
        for label, value in label_thresholds.items():
            if not 0.0 < value <= 1.0:
                raise ValueError(f"[{name}] threshold of label {label!r} must be within (0, 1], got {value}")
        self.vocab = vocab
        self.model = model
        self.name = name
        self.scorer = scorer
        self.cfg: Dict = {
            "labels": [],
            "threshold": threshold,
            "ents_policy": ents_policy,
            "positive_weight": positive_weight,
            # Saved with the component (cfg), so fitted thresholds survive to_disk/from_disk.
            "label_thresholds": label_thresholds,
        }
        # Gold entities that no candidate can represent, by reason: counted
        # and logged, never dropped silently.
        self.unreachable_gold: Counter = Counter()

    @property
    def labels(self) -> Tuple[str, ...]:
        return tuple(self.cfg["labels"])

    @property
    def max_width(self) -> int:
        return int(self.model.attrs["max_width"])

    def add_label(self, label: str) -> int:
        if not isinstance(label, str) or not label or label == NO_ENTITY:
            raise ValueError(f"[{self.name}] invalid entity label {label!r}")
        if label in self.labels:
            return 0
        if self.model.get_ref("output_layer").has_dim("nO"):
            raise ValueError(f"[{self.name}] cannot add label {label!r} after the model is initialized")
        self.cfg["labels"] = sorted(set(self.labels) | {label})
        self.vocab.strings.add(label)
        return 1

    def from_disk(self, path, *, exclude=tuple()) -> "SpanEntityRecognizer":
        super().from_disk(path, exclude=exclude)
        self._drop_retired_cfg()
        return self

    def from_bytes(self, bytes_data: bytes, *, exclude=tuple()) -> "SpanEntityRecognizer":
        super().from_bytes(bytes_data, exclude=exclude)
        self._drop_retired_cfg()
        return self

    def _drop_retired_cfg(self) -> None:
        """A cfg saved before the decoding aids were removed holds them (off) and
        an empty lexicon: checked to be off, then dropped."""
        check_retired_settings(self.name, self.cfg.pop("lexicon_weight", 0.0), self.cfg.pop("propagate_min_score", None))
        self.cfg.pop("lexicon_min_count", None)
        self.cfg.pop("lexicon", None)

    def decision_thresholds(self) -> numpy.ndarray:
        """One threshold per output column: a label's own where it has one, else the global one."""
        return column_thresholds(self.labels, self.cfg["threshold"], self.cfg.get("label_thresholds") or {})

    def _candidates(self, docs: List[Doc]) -> Tuple[List[numpy.ndarray], Ragged]:
        per_doc = [candidate_spans(doc, self.max_width) for doc in docs]
        data = numpy.concatenate(per_doc) if per_doc else numpy.zeros((0, 2), dtype="int32")
        lengths = numpy.asarray([len(c) for c in per_doc], dtype="int32")
        ops = self.model.ops
        return per_doc, Ragged(ops.asarray2i(data.reshape(-1, 2)), ops.asarray1i(lengths))

    # -- prediction -------------------------------------------------------
    def predict(self, docs: Iterable[Doc]) -> Tuple[List[numpy.ndarray], Floats2d]:
        docs = list(docs)
        per_doc, candidates = self._candidates(docs)
        if candidates.data.shape[0] == 0:
            return per_doc, self.model.ops.alloc2f(0, len(self.labels) + 1)
        return per_doc, self.model.predict((docs, candidates))

    def _split_first_stage(self, probs: Floats2d) -> Tuple[Floats2d, Optional[Floats2d]]:
        """Label probabilities, and the first stage's entity probability where
        the model has one (an extra last column, SpanEntityScorer.v2)."""
        if self.model.attrs.get("first_stage_column") and probs.shape[1] == len(self.labels) + 2:
            return probs[:, :-1], probs[:, -1]
        return probs, None

    def set_annotations(self, docs: Iterable[Doc], predictions: Tuple[List[numpy.ndarray], Floats2d]) -> None:
        per_doc, probs = predictions
        probs = self.model.ops.to_numpy(self._split_first_stage(probs)[0])
        thresholds = self.decision_thresholds()
        offset = 0
        for doc, candidates in zip(docs, per_doc):
            doc_probs = probs[offset : offset + len(candidates)]
            offset += len(candidates)
            chosen = greedy_decode(candidates, doc_probs, thresholds)
            new = []
            for start, end, column, score in chosen:
                span = Span(doc, start, end, label=self.labels[column - 1])
                span._.entity_score = score
                new.append(span)
            merge_entities(doc, new, self.cfg["ents_policy"])

    # -- training ---------------------------------------------------------
    def _truths(self, examples: List[Example], per_doc: List[numpy.ndarray]) -> Tuple[numpy.ndarray, numpy.ndarray]:
        """Gold column per candidate (0 = no entity), and a per-candidate mask
        that is 0 for docs whose gold has no entity annotation at all."""
        columns, mask = [], []
        index = {label: i + 1 for i, label in enumerate(self.labels)}
        for eg, candidates in zip(examples, per_doc):
            annotated = eg.reference.has_annotation("ENT_IOB")
            gold = {}
            if annotated:
                for span in eg.get_aligned_spans_y2x(eg.reference.ents, allow_overlap=True):
                    if span.label_ not in index:
                        raise ValueError(
                            f"[{self.name}] entity label {span.label_!r} was not seen at initialization"
                        )
                    gold[(span.start, span.end)] = index[span.label_]
            doc_columns = numpy.zeros(len(candidates), dtype="int32")
            for row, (start, end) in enumerate(candidates.tolist()):
                doc_columns[row] = gold.pop((start, end), 0)
            for start, end in gold:
                reason = "too_wide" if end - start > self.max_width else "crosses_line_or_sentence"
                self.unreachable_gold[reason] += 1
            columns.append(doc_columns)
            mask.append(numpy.full(len(candidates), 1.0 if annotated else 0.0, dtype="float32"))
        if not columns:
            return numpy.zeros(0, dtype="int32"), numpy.zeros(0, dtype="float32")
        return numpy.concatenate(columns), numpy.concatenate(mask)

    def training_batch(self, examples: List[Example]) -> Tuple[Tuple[List[Doc], Ragged], Tuple[numpy.ndarray, numpy.ndarray]]:
        docs = [eg.predicted for eg in examples]
        per_doc, candidates = self._candidates(docs)
        before = sum(self.unreachable_gold.values())
        targets = self._truths(examples, per_doc)
        if sum(self.unreachable_gold.values()) > before:
            # Warn once, then keep counting quietly: the counter is the record.
            log = logger.debug if before else logger.warning
            log(
                "[%s] gold entities that no candidate span can represent (wider than max_width=%d, "
                "or across a line break or sentence boundary), so far: %s",
                self.name, self.max_width, dict(self.unreachable_gold),
            )
        return (docs, candidates), targets

    def loss(self, targets: Tuple[numpy.ndarray, numpy.ndarray], probs: Floats2d) -> Tuple[float, Floats2d]:
        """Cross-entropy over labels plus "no entity", a weighted average over
        annotated candidates (gold entities weigh ``positive_weight``)."""
        columns, mask = targets
        probs, first_stage = self._split_first_stage(probs)
        rows = numpy.arange(len(columns))
        target = numpy.zeros((len(columns), len(self.labels) + 1), dtype="float32")
        target[rows, columns] = 1.0
        weight = mask * numpy.where(columns > 0, float(self.cfg.get("positive_weight", 1.0)), 1.0).astype("float32")
        n = max(float(weight.sum()), 1.0)
        ops = self.model.ops
        d_probs = (probs - ops.asarray2f(target)) * ops.asarray2f(weight[:, None]) / n
        picked = ops.to_numpy(probs)[rows, columns]
        loss = float(-(numpy.log(numpy.clip(picked, 1e-9, 1.0)) * weight).sum() / n)
        if first_stage is not None:
            # Binary cross-entropy of the first stage (entity or not), same weights.
            is_entity = (columns > 0).astype("float32")
            d_first = (first_stage - ops.asarray1f(is_entity)) * ops.asarray1f(weight) / n
            d_probs = ops.xp.concatenate([d_probs, d_first[:, None]], axis=1)
            p = numpy.clip(ops.to_numpy(first_stage), 1e-9, 1.0 - 1e-7)
            loss += float(-((is_entity * numpy.log(p) + (1 - is_entity) * numpy.log(1 - p)) * weight).sum() / n)
        return loss, d_probs

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        *,
        nlp: Optional[Language] = None,
        labels: Optional[List[str]] = None,
    ) -> None:
        """Labels come from ``labels`` or from the entities of every training
        example: any label set works."""
        validate_get_examples(get_examples, "SpanEntityRecognizer.initialize")
        if labels is None:
            labels = sorted({ent.label_ for eg in get_examples() for ent in eg.reference.ents})
        for label in labels:
            self.add_label(label)
        if not self.labels:
            raise ValueError(f"[{self.name}] no entity labels: no training example has entities and no labels were given")
        set_output_width(self.model, len(self.labels) + 1)
        examples = sample(get_examples())
        docs = [eg.predicted for eg in examples]
        _, candidates = self._candidates(docs)
        n = candidates.data.shape[0]
        self.model.initialize(X=(docs, candidates), Y=self.model.ops.alloc2f(n, len(self.labels) + 1))
        self.unreachable_gold.clear()
