"""From candidate scores to non-overlapping entities, and into ``doc.ents``."""
from typing import List, Sequence, Tuple, Union

import numpy
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

# What happens to entities that are already in doc.ents when the head adds its own:
#   keep_existing   earlier entities win; new ones fill only the tokens left free
#                   (the default: a component never destroys what an earlier
#                   one annotated, as spaCy's entity_ruler does by default)
#   prefer_longest  union of both, overlaps resolved by spacy.util.filter_spans
#                   (longest span wins, then the earlier one)
#   replace         earlier entities are dropped
ENTS_POLICIES = ("keep_existing", "prefer_longest", "replace")


def greedy_decode(
    candidates: numpy.ndarray, probs: numpy.ndarray, threshold: Union[float, numpy.ndarray]
) -> List[Tuple[int, int, int, float]]:
    """Choose non-overlapping spans, best score first (as SpanMarker decodes).

    ``probs`` has one row per candidate and one column per label, column 0
    being "no entity". A candidate is kept when its best entity label's
    probability is at least ``threshold`` and no better-scoring kept span
    overlaps it. ``threshold`` is one number, or one per column of ``probs``
    (per-label thresholds; the candidate's best label decides which applies).
    Returns ``(start, end, label_column, score)`` sorted by start.
    """
    if len(candidates) == 0:
        return []
    labels = probs[:, 1:].argmax(axis=1) + 1
    scores = probs[numpy.arange(len(probs)), labels]
    if numpy.ndim(threshold):
        keep = numpy.flatnonzero(scores >= numpy.asarray(threshold, dtype=scores.dtype)[labels])
    else:
        keep = numpy.flatnonzero(scores >= threshold)
    # Stable sort: among equal scores, the earlier and then narrower span wins.
    order = keep[numpy.argsort(-scores[keep], kind="stable")]
    # Plain Python lists and a bytearray: no numpy call per candidate.
    taken = bytearray(int(candidates[:, 1].max()))
    chosen = []
    for start, end, label, score in zip(
        candidates[order, 0].tolist(), candidates[order, 1].tolist(), labels[order].tolist(), scores[order].tolist()
    ):
        if not any(taken[start:end]):
            taken[start:end] = b"\x01" * (end - start)
            chosen.append((start, end, label, score))
    chosen.sort()
    return chosen


def merge_entities(doc: Doc, new: Sequence[Span], policy: str) -> None:
    """Write ``new`` entities to ``doc.ents`` under ``policy`` (see ENTS_POLICIES)."""
    if policy == "replace":
        doc.set_ents(list(new), default="outside")
    elif policy == "keep_existing":
        taken = numpy.zeros(len(doc), dtype=bool)
        for ent in doc.ents:
            taken[ent.start : ent.end] = True
        free = [span for span in new if not taken[span.start : span.end].any()]
        for span in free:
            taken[span.start : span.end] = True
        # Tokens nobody had annotated are now known to be outside an entity;
        # marked as runs, not token by token.
        unannotated = ~taken & (doc.to_array("ENT_IOB").reshape(-1) == 0)
        doc.set_ents(free, outside=_runs(doc, unannotated), default="unmodified")
    elif policy == "prefer_longest":
        doc.set_ents(filter_spans(list(doc.ents) + list(new)), default="outside")
    else:
        raise ValueError(f"Unknown entity policy {policy!r}; choose one of {', '.join(ENTS_POLICIES)}")


def _runs(doc: Doc, flags: numpy.ndarray) -> List[Span]:
    """Spans over the maximal runs of consecutive flagged tokens."""
    edges = numpy.diff(numpy.concatenate([[0], flags.astype("int8"), [0]]))
    starts, ends = numpy.flatnonzero(edges == 1), numpy.flatnonzero(edges == -1)
    return [doc[int(s) : int(e)] for s, e in zip(starts, ends)]
