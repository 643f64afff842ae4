"""Entity corpora as gold docs: character-offset alignment, SciERC, BiodivNER, seeded splits.

Alignment policy for character offsets (``docs_from_char_entities``)
--------------------------------------------------------------------
Entity offsets come from annotators, not from spaCy's tokenizer, so an offset
may fall inside a token ("CO2-driven" annotated as "CO2"). Every entity is
handled in this order, and every case is counted in an ``AlignmentCounts``:

1. ``trimmed_whitespace``: leading/trailing whitespace inside the offsets is
   trimmed off; ``empty`` or ``out_of_range`` entities are dropped (counted).
2. ``exact``: both ends fall on token boundaries.
3. ``split_tokens``: an end falls inside a token; the token is split there,
   so the gold entity keeps its exact characters (the doc gets one more
   token; the text is unchanged).
4. ``duplicate``: the same span with the same label again is dropped.
5. ``overlap_dropped``: ``doc.ents`` cannot overlap, so overlapping entities
   are resolved with ``spacy.util.filter_spans`` (longest first); the
   dropped ones are counted, and every entity, overlapping or not, is kept
   in ``doc.spans["entities"]``.
6. ``crosses_line``: kept, but counted: the entity head never proposes a
   span across a line break, so these cost recall.
"""
import csv
import json
import random
from collections import Counter
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans
from spacy.vocab import Vocab

ALL_ENTITIES_KEY = "entities"
SPLITS = ("train", "dev", "test")


class AlignmentCounts(Counter):
    """How the gold entities of a corpus were aligned to tokens (see module doc)."""

    def summary(self) -> str:
        return ", ".join(f"{key}={value}" for key, value in sorted(self.items()))


def _trim(text: str, begin: int, end: int) -> Tuple[int, int]:
    while begin < end and text[begin].isspace():
        begin += 1
    while end > begin and text[end - 1].isspace():
        end -= 1
    return begin, end


def docs_from_char_entities(
    nlp: Language,
    text: str,
    entities: Iterable[Tuple[int, int, str]],
    counts: Optional[AlignmentCounts] = None,
    extra_boundaries: Iterable[int] = (),
) -> Doc:
    """A gold doc from ``text`` and ``(begin, end, label)`` character offsets.

    Tokens are those of ``nlp.make_doc``, split wherever an entity (or one of
    ``extra_boundaries``, e.g. where a heading marker was) starts or ends
    inside a token. See the module doc for the policy and its counts.
    """
    counts = AlignmentCounts() if counts is None else counts
    clean: List[Tuple[int, int, str]] = []
    for begin, end, label in entities:
        if not isinstance(label, str) or not label:
            raise ValueError(f"entity label must be a non-empty string, got {label!r}")
        begin, end = int(begin), int(end)
        if begin < 0 or end > len(text) or begin >= end:
            counts["out_of_range" if (begin < 0 or end > len(text)) else "empty"] += 1
            continue
        trimmed = _trim(text, begin, end)
        if trimmed != (begin, end):
            counts["trimmed_whitespace"] += 1
        if trimmed[0] >= trimmed[1]:
            counts["empty"] += 1
            continue
        clean.append((trimmed[0], trimmed[1], label))
    base = nlp.make_doc(text)
    cuts = {b for b, _, _ in clean} | {e for _, e, _ in clean} | set(extra_boundaries)
    words: List[str] = []
    spaces: List[bool] = []
    token_starts: Dict[int, int] = {}
    token_ends: Dict[int, int] = {}
    for token in base:
        start, end = token.idx, token.idx + len(token.text)
        inner = sorted(c for c in cuts if start < c < end) if len(token.text) > 1 else []
        pieces = [start] + inner + [end]
        for a, b in zip(pieces, pieces[1:]):
            token_starts[a] = len(words)
            token_ends[b] = len(words) + 1
            words.append(text[a:b])
            spaces.append(False)
        spaces[-1] = bool(token.whitespace_)
    doc = Doc(nlp.vocab, words=words, spaces=spaces)
    if doc.text != text:  # cannot happen with spaCy tokenizers; guard against custom ones
        raise ValueError("re-tokenized text differs from the original text")
    spans: List[Span] = []
    seen = set()
    for begin, end, label in clean:
        if begin in token_starts and end in token_ends and not _was_cut(base, begin, end):
            counts["exact"] += 1
        else:
            counts["split_tokens"] += 1
        key = (begin, end, label)
        if key in seen:
            counts["duplicate"] += 1
            continue
        seen.add(key)
        span = doc.char_span(begin, end, label=label)
        if span is None:  # whitespace-only pieces; cannot happen after trimming
            counts["unaligned"] += 1
            continue
        if "\n" in span.text:
            counts["crosses_line"] += 1
        spans.append(span)
    _set_gold(doc, spans, counts)
    return doc


def _was_cut(base: Doc, begin: int, end: int) -> bool:
    """Whether the original tokenization had to be split at ``begin`` or ``end``."""
    return base.char_span(begin, end) is None


def _set_gold(doc: Doc, spans: List[Span], counts: AlignmentCounts) -> None:
    doc.spans[ALL_ENTITIES_KEY] = spans
    ents = filter_spans(spans)
    counts["overlap_dropped"] += len(spans) - len(ents)
    counts["entities"] += len(ents)
    doc.set_ents(ents, default="outside")


def docs_from_token_entities(
    vocab: Vocab,
    sentences: Sequence[Sequence[str]],
    entities: Iterable[Tuple[int, int, str]],
    counts: Optional[AlignmentCounts] = None,
) -> Doc:
    """A gold doc from tokenized sentences and ``(start, end_exclusive, label)``
    doc-level token offsets; sentence starts are set from the sentences."""
    counts = AlignmentCounts() if counts is None else counts
    words = [word for sentence in sentences for word in sentence]
    sent_starts = [i == 0 for sentence in sentences for i in range(len(sentence))]
    doc = Doc(vocab, words=words, sent_starts=sent_starts if words else None)
    spans: List[Span] = []
    seen = set()
    for start, end, label in entities:
        if not 0 <= start < end <= len(doc):
            counts["out_of_range"] += 1
            continue
        if (start, end, label) in seen:
            counts["duplicate"] += 1
            continue
        seen.add((start, end, label))
        counts["exact"] += 1
        spans.append(Span(doc, start, end, label=label))
    _set_gold(doc, spans, counts)
    return doc


def read_scierc(path: Union[str, Path], vocab: Vocab, counts: Optional[AlignmentCounts] = None) -> List[Doc]:
    """SciERC in DyGIE format (one abstract per line; ``ner`` holds per sentence
    ``[start, end_inclusive, label]`` with doc-level token indices)."""
    docs = []
    with Path(path).open(encoding="utf8") as file:
        for line_no, line in enumerate(file, 1):
            if not line.strip():
                continue
            record = json.loads(line)
            try:
                sentences = record["sentences"]
                ents = [(s, e + 1, label) for sentence in record.get("ner", []) for s, e, label in sentence]
            except (KeyError, TypeError, ValueError) as err:
                raise ValueError(f"{path}:{line_no}: not a DyGIE record ({err})") from err
            doc = docs_from_token_entities(vocab, sentences, ents, counts)
            doc.user_data["doc_key"] = record.get("doc_key", f"line{line_no}")
            docs.append(doc)
    return docs


def _repair_mojibake(word: str, counts: AlignmentCounts) -> str:
    """Undo UTF-8 read as cp1252 (BiodivNER's copy has some), when it round-trips."""
    if "Ã" not in word and "â" not in word:
        return word
    try:
        fixed = word.encode("cp1252").decode("utf8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return word
    counts["mojibake_repaired"] += 1
    return fixed


def bio_spans(tags: Sequence[str], counts: Optional[AlignmentCounts] = None) -> List[Tuple[int, int, str]]:
    """``(start, end_exclusive, label)`` from BIO tags; an ``I-`` tag that does
    not continue an entity of its label starts one (counted ``bio_repaired``)."""
    counts = AlignmentCounts() if counts is None else counts
    spans: List[Tuple[int, int, str]] = []
    start, label = None, None
    for i, tag in enumerate(list(tags) + ["O"]):
        prefix, _, name = tag.partition("-")
        if prefix not in ("B", "I", "O") or (prefix != "O" and not name):
            raise ValueError(f"not a BIO tag: {tag!r}")
        continues = prefix == "I" and label == name
        if label is not None and not continues:
            spans.append((start, i, label))
            start, label = None, None
        if prefix == "B" or (prefix == "I" and not continues):
            if prefix == "I":
                counts["bio_repaired"] += 1
            start, label = i, name
    return spans


def read_biodivner(
    path: Union[str, Path],
    vocab: Vocab,
    counts: Optional[AlignmentCounts] = None,
    sentences_per_doc: int = 10,
) -> List[Doc]:
    """BiodivNER CSV (``Sentence #,Word,Tag``, BIO); consecutive sentences are
    grouped into docs of ``sentences_per_doc`` sentences."""
    counts = AlignmentCounts() if counts is None else counts
    sentences: List[Tuple[List[str], List[str]]] = []
    with Path(path).open(encoding="utf8", newline="") as file:
        reader = csv.reader(file)
        header = next(reader, None)
        if header is None or len(header) < 3:
            raise ValueError(f"{path}: expected a header 'Sentence #,Word,Tag'")
        for row in reader:
            if len(row) < 3:
                continue
            if row[0].strip() or not sentences:
                sentences.append(([], []))
            word = _repair_mojibake(row[1], counts)
            if not word or word.isspace():
                counts["empty_token_skipped"] += 1
                continue
            sentences[-1][0].append(word)
            sentences[-1][1].append(row[2].strip() or "O")
    sentences = [s for s in sentences if s[0]]
    docs = []
    for i in range(0, len(sentences), sentences_per_doc):
        group = sentences[i : i + sentences_per_doc]
        offset, ents = 0, []
        for words, tags in group:
            ents.extend((offset + s, offset + e, label) for s, e, label in bio_spans(tags, counts))
            offset += len(words)
        docs.append(docs_from_token_entities(vocab, [w for w, _ in group], ents, counts))
    return docs


def seeded_split(items: Sequence, fractions: Sequence[float], seed: int = 0) -> List[list]:
    """Shuffle ``items`` with ``seed`` and cut them into parts of the given
    fractions (the last part takes the rest)."""
    if any(f < 0 for f in fractions) or sum(fractions) > 1.0 + 1e-9:
        raise ValueError(f"fractions must be non-negative and sum to at most 1, got {fractions}")
    order = list(range(len(items)))
    random.Random(seed).shuffle(order)
    parts, start = [], 0
    for i, fraction in enumerate(fractions):
        end = len(order) if i == len(fractions) - 1 else start + int(round(fraction * len(order)))
        parts.append([items[j] for j in order[start:end]])
        start = end
    return parts


def load_entity_corpus(
    name: str, data_dir: Union[str, Path], nlp: Language, seed: int = 0
) -> Tuple[Dict[str, List[Doc]], AlignmentCounts]:
    """Train/dev/test gold docs of one corpus under ``data_dir`` (the folder
    holding ``papers/`` and ``entities/``), and its alignment counts.

    climateie: the papers, split 60/15/25 by paper with ``seed``.
    scierc, biodivner: the corpus's own dev file is the test split (never
    trained or tuned on); its train file is split 90/10 into train/dev.
    """
    data_dir = Path(data_dir)
    counts = AlignmentCounts()
    if name == "climateie":
        from .climateie import read_climateie

        docs = read_climateie(data_dir / "papers" / "climateie" / "human_corpus", nlp, counts)
        train, dev, test = seeded_split(docs, (0.6, 0.15, 0.25), seed)
        return {"train": train, "dev": dev, "test": test}, counts
    if name == "scierc":
        read = read_scierc
        folder, train_file, test_file = data_dir / "entities" / "scierc", "train.json", "dev.json"
    elif name == "biodivner":
        read = read_biodivner
        folder, train_file, test_file = data_dir / "entities" / "biodivner", "train.csv", "dev.csv"
    else:
        raise ValueError(f"unknown entity corpus {name!r}; choose climateie, scierc or biodivner")
    pool = read(folder / train_file, nlp.vocab, counts)
    test = read(folder / test_file, nlp.vocab, counts)
    train, dev = seeded_split(pool, (0.9, 0.1), seed)
    return {"train": train, "dev": dev, "test": test}, counts
