"""Two decoding aids of the span entity head that use the words of the candidates.

Papers name the same things again and again (a model, a region, a project),
within a paper and across papers of one field. The head scores each mention
from its context alone; two cheap additions at decoding use the repetition:

- A **lexicon** learnt from training papers: every gold entity string
  (lower-cased tokens), its majority label, how often it was annotated and
  how often the same tokens occur at all as a candidate span, so
  ``rate = annotated with that label / occurrences``. At decoding, a
  candidate whose text is in the lexicon (annotated at least ``min_count``
  times) has its probabilities mixed with the lexicon's:
  ``(1 - weight) * probs + weight * prior``, the prior putting ``rate`` on
  the lexicon label and ``1 - rate`` on "no entity". Strings that are often
  entities are pushed up, strings that are seldom entities down.
- **Propagation** within a document: after decoding, every further
  occurrence of a predicted entity's text (lower-cased tokens) whose score
  reached ``min_score`` gets the same label, where it is a candidate span (so
  it crosses no line break, sentence or section start) and overlaps no
  entity already chosen.

Both are off by default; their settings and the lexicon are stored in the
component's cfg (``scicls_entities``: ``lexicon_weight``,
``lexicon_min_count``, ``propagate_min_score``). ``scripts/cv_entity_decoding.py``
chooses them by cross-fitting over training papers.
"""
from collections import Counter, defaultdict
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

import numpy
from spacy.tokens import Doc

from .candidates import candidate_spans

Chosen = Tuple[int, int, int, float]  # (start, end, label column, score)


def span_key(lowers: Sequence[str], start: int, end: int) -> str:
    """A span's text as the lexicon keys it: its tokens lower-cased, joined by one space."""
    return " ".join(lowers[start:end])


def token_lowers(doc: Doc) -> List[str]:
    return [token.lower_ for token in doc]


def build_lexicon(
    docs: Iterable[Doc], spans_key: Optional[str] = "entities", max_width: int = 8
) -> Dict[str, List]:
    """``{key: [label, annotated, occurrences]}`` from gold docs.

    ``annotated``: times the string was a gold entity with its majority label
    (ties: the alphabetically first label); ``occurrences``: times its tokens
    occur as a candidate span of the docs (a gold entity always does, unless
    no candidate can represent it). Entities come from ``doc.spans[spans_key]``
    where the doc has it (every entity, overlapping ones too), else ``doc.ents``.
    """
    docs = list(docs)
    labels: Dict[str, Counter] = defaultdict(Counter)
    for doc in docs:
        lowers = token_lowers(doc)
        spans = doc.spans[spans_key] if spans_key and spans_key in doc.spans else doc.ents
        for span in spans:
            if span.end - span.start <= max_width:
                labels[span_key(lowers, span.start, span.end)][span.label_] += 1
    occurrences = Counter()
    for doc in docs:
        lowers = token_lowers(doc)
        for start, end in candidate_spans(doc, max_width).tolist():
            key = span_key(lowers, start, end)
            if key in labels:
                occurrences[key] += 1
    lexicon = {}
    for key, counts in labels.items():
        label, annotated = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[0]
        lexicon[key] = [label, int(annotated), int(max(occurrences[key], sum(counts.values())))]
    return dict(sorted(lexicon.items()))


def apply_lexicon(
    lowers: Sequence[str],
    candidates: numpy.ndarray,
    probs: numpy.ndarray,
    lexicon: Dict[str, Sequence],
    labels: Sequence[str],
    weight: float,
    min_count: int = 1,
) -> numpy.ndarray:
    """``probs`` (column 0 "no entity", then one per label) with the rows of
    candidates found in ``lexicon`` mixed with its prior (see the module doc).
    Returns a new array; entries with labels the head does not know are ignored."""
    if weight <= 0 or not lexicon or len(candidates) == 0:
        return probs
    column = {label: i + 1 for i, label in enumerate(labels)}
    firsts = {key.split(" ", 1)[0] for key in lexicon}
    out = numpy.array(probs, dtype="float32", copy=True)
    for row, (start, end) in enumerate(candidates.tolist()):
        if lowers[start] not in firsts:
            continue
        entry = lexicon.get(span_key(lowers, start, end))
        if entry is None or entry[0] not in column or entry[1] < min_count:
            continue
        rate = min(1.0, float(entry[1]) / max(float(entry[2]), 1.0))
        prior = numpy.zeros(out.shape[1], dtype="float32")
        prior[0] = 1.0 - rate
        prior[column[entry[0]]] = rate
        out[row] = (1.0 - weight) * out[row] + weight * prior
    return out


def propagate(
    lowers: Sequence[str],
    candidates: numpy.ndarray,
    chosen: Sequence[Chosen],
    min_score: float,
    candidate_set: Optional[Set[Tuple[int, int]]] = None,
) -> List[Chosen]:
    """``chosen`` plus every further occurrence of a confident entity's text
    (score at least ``min_score``) that is a candidate span and overlaps no
    chosen entity, with that entity's label and score. Where one text was
    chosen with several labels, the label of its highest-scoring entity wins.
    ``candidate_set``: ``candidates`` as a set of ``(start, end)``, where the
    caller decodes one doc many times. Returns every entity, sorted by start."""
    chosen = list(chosen)
    if not chosen or len(candidates) == 0:
        return sorted(chosen)
    sources: Dict[str, Tuple[float, int]] = {}
    for start, end, label, score in chosen:
        if score >= min_score:
            key = span_key(lowers, start, end)
            if key not in sources or score > sources[key][0]:
                sources[key] = (score, label)
    if not sources:
        return sorted(chosen)
    if candidate_set is None:
        candidate_set = set(map(tuple, candidates.tolist()))
    taken = bytearray(len(lowers))
    for start, end, _, _ in chosen:
        taken[start:end] = b"\x01" * (end - start)
    firsts = {key.split(" ", 1)[0] for key in sources}
    by_first: Dict[str, List[int]] = defaultdict(list)
    for i, word in enumerate(lowers):
        if word in firsts:
            by_first[word].append(i)
    # Best sources first, longer texts first among equals, so that a long
    # entity claims its tokens before a shorter one inside it.
    added = []
    for key, (score, label) in sorted(sources.items(), key=lambda item: (-item[1][0], -len(item[0]), item[0])):
        width = key.count(" ") + 1
        for start in by_first[key.split(" ", 1)[0]]:
            end = start + width
            if (start, end) not in candidate_set or any(taken[start:end]) or span_key(lowers, start, end) != key:
                continue
            taken[start:end] = b"\x01" * (end - start)
            added.append((start, end, label, score))
    return sorted(chosen + added)
