"""``scicls_span_marker_entities``: any SpanMarker model (the CliReNER seed) as an
entity component writing ``doc.ents``, like ``scicls_entities``.

What it does that span-marker's own spaCy wrapper does not:

- it serializes: ``nlp.to_disk`` saves the weights (safetensors) and tokenizer
  with the pipeline, and the saved pipeline loads them without the hub;
- it reads docs with or without sentence boundaries (sentences, and always
  lines, in chunks of at most ``max_words`` words), so that no entity runs
  across a heading or a paragraph break, and skips empty sentences instead of
  failing;
- whitespace tokens are not given to the model as empty words: entities are
  found over the real words and mapped back onto spaCy tokens by index, so
  none is lost or shifted;
- ``ents_policy`` (``keep_existing``, ``prefer_longest``, ``replace``) says what
  happens to entities already in ``doc.ents``, as for ``scicls_entities``;
- it batches the sentences of all docs of an ``nlp.pipe`` batch together;
- each entity's probability is kept in ``span._.entity_score``.

Entities are what ``SpanMarkerModel.predict`` finds on the same words.
"""
import unicodedata
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from spacy.language import Language
from spacy.tokens import Doc, Span

from ..entities import ENTS_POLICIES, merge_entities
from ..extensions import install_extensions
from ._base import LOADING_DEFAULTS, SeedModelPipe
from .loading import load_span_marker

install_extensions()

# A chunk of a doc given to the model: its words and the doc token index of each.
Chunk = Tuple[int, List[str], List[int]]


@Language.factory(
    "scicls_span_marker_entities",
    assigns=["doc.ents", "token.ent_iob", "token.ent_type", "span._.entity_score"],
    default_config={
        "model": "P0L3/CliReNER-scibert_scivocab_uncased",
        "ents_policy": "keep_existing",
        "label_map": {},
        "max_words": 256,
        "scorer": {"@scorers": "spacy.ner_scorer.v1"},
        **{**LOADING_DEFAULTS, "batch_size": 8},
    },
    default_score_weights={"ents_f": 1.0, "ents_p": 0.0, "ents_r": 0.0, "ents_per_type": None},
)
def make_span_marker_entities(
    nlp: Language,
    name: str,
    model: str,
    ents_policy: str,
    label_map: Dict[str, str],
    max_words: int,
    scorer: Optional[Any],
    batch_size: int,
    allow_pickle: bool,
    local_files_only: bool,
    revision: Optional[str],
    half_precision: bool,
    inference_mode: bool,
    save_weights: bool,
) -> "SpanMarkerEntities":
    """Named entities from a published SpanMarker model.

    model: hub name or folder of a SpanMarker model.
    ents_policy: what happens to entities already in ``doc.ents``:
        "keep_existing" (default), "prefer_longest" or "replace".
    label_map: model label -> label written to ``doc.ents`` (others unchanged).
    max_words: longest chunk of words given to the model at once; sentences
        (or lines, in docs without sentence boundaries) are cut at this length.
    batch_size: sentences per forward pass.
    The loading and running settings are those of ``scicls_hf_doc_categories``.
    """
    return SpanMarkerEntities(
        name,
        model,
        ents_policy=ents_policy,
        label_map=label_map,
        max_words=max_words,
        scorer=scorer,
        batch_size=batch_size,
        allow_pickle=allow_pickle,
        local_files_only=local_files_only,
        revision=revision,
        half_precision=half_precision,
        inference_mode=inference_mode,
        save_weights=save_weights,
    )


class SpanMarkerEntities(SeedModelPipe):
    def __init__(
        self,
        name: str,
        model: str,
        *,
        ents_policy: str = "keep_existing",
        label_map: Optional[Dict[str, str]] = None,
        max_words: int = 256,
        scorer: Optional[Any] = None,
        **settings: Any,
    ) -> None:
        super().__init__(name, model, **settings)
        if ents_policy not in ENTS_POLICIES:
            raise ValueError(f"[{name}] ents_policy must be one of {', '.join(ENTS_POLICIES)}, got {ents_policy!r}")
        if int(max_words) < 1:
            raise ValueError(f"[{name}] max_words must be at least 1, got {max_words}")
        self.scorer = scorer
        self.cfg.update(ents_policy=ents_policy, label_map=dict(label_map or {}), max_words=int(max_words))
        self._labels: Tuple[str, ...] = ()

    @property
    def labels(self) -> Tuple[str, ...]:
        """Entity labels the model writes (after ``label_map``; known once loaded)."""
        return self._labels

    # ------------------------------------------------------------ loading
    def _load(self, source: str) -> None:
        model = load_span_marker(source, **self.loading_kwargs())
        raw = [model.config.id2label[i] for i in sorted(model.config.id2label) if i != model.config.outside_id]
        for label in self.cfg["label_map"].values():
            if not isinstance(label, str) or not label.strip():
                raise ValueError(f"[{self.name}] label_map maps to an empty label: {self.cfg['label_map']}")
        self.model = model
        self._labels = tuple(self.cfg["label_map"].get(label, label) for label in raw)

    def _save(self, path: Path) -> None:
        self.model.save_pretrained(str(path), safe_serialization=True)

    def _torch_module(self):
        return self.model

    def score(self, examples, **kwargs) -> Dict[str, Any]:
        """``ents_*`` scores, as for ``scicls_entities``."""
        return self.scorer(examples, **kwargs) if self.scorer is not None else {}

    # ------------------------------------------------------------ running
    def chunks(self, doc: Doc, doc_index: int = 0) -> List[Chunk]:
        """The pieces of ``doc`` the model reads: its lines, cut at sentence boundaries
        when the doc has them, and at most ``max_words`` words each; no whitespace
        tokens and no empty pieces."""
        # Line breaks always end a piece (headings, paragraphs, table rows);
        # sentence boundaries too, where the doc has them.
        sentence_starts = doc.has_annotation("SENT_START")
        pieces, start = [], 0
        for token in doc:
            if sentence_starts and token.is_sent_start and token.i > start:
                pieces.append((start, token.i))
                start = token.i
            if (token.is_space and "\n" in token.text) or "\n" in token.whitespace_:
                pieces.append((start, token.i + 1))
                start = token.i + 1
        pieces.append((start, len(doc)))
        unk = self.model.tokenizer.tokenizer.unk_token or "[UNK]"
        limit = self.cfg["max_words"]
        chunks: List[Chunk] = []
        for start, end in pieces:
            indices = [i for i in range(start, end) if not doc[i].is_space]
            for cut in range(0, len(indices), limit):
                part = indices[cut : cut + limit]
                words = [_word(doc[i].text, unk) for i in part]
                chunks.append((doc_index, words, part))
        return chunks

    def _annotate(self, docs: List[Doc]) -> None:
        chunks = [chunk for d, doc in enumerate(docs) for chunk in self.chunks(doc, d)]
        found: List[List[Span]] = [[] for _ in docs]
        if chunks:
            inputs: Any = [words for _, words, _ in chunks]
            if self.model.config.trained_with_document_context:
                from datasets import Dataset

                sentence_ids, counts = [], {}
                for d, _, _ in chunks:
                    sentence_ids.append(counts.get(d, 0))
                    counts[d] = counts.get(d, 0) + 1
                inputs = Dataset.from_dict(
                    {"tokens": inputs, "document_id": [d for d, _, _ in chunks], "sentence_id": sentence_ids}
                )
            predictions = self.model.predict(inputs, batch_size=int(self.cfg["batch_size"]))
            if len(chunks) == 1 and predictions and isinstance(predictions[0], dict):
                predictions = [predictions]
            label_map = self.cfg["label_map"]
            for (d, _, indices), entities in zip(chunks, predictions):
                doc = docs[d]
                for entity in entities:
                    start = indices[entity["word_start_index"]]
                    end = indices[entity["word_end_index"] - 1] + 1
                    label = label_map.get(entity["label"], entity["label"])
                    span = Span(doc, start, end, label=label)
                    span._.entity_score = float(entity["score"])
                    found[d].append(span)
        for doc, spans in zip(docs, found):
            merge_entities(doc, spans, self.cfg["ents_policy"])


def _word(text: str, unk: str) -> str:
    """A token as a word for the model: one that would vanish in the model's tokenizer
    (control or format characters only) becomes the unknown token, so that word
    indices stay aligned."""
    if any(unicodedata.category(ch)[0] in "LNPS" for ch in text):
        return text
    return unk
