"""From probabilities to decisions: thresholds, roll-ups to groups and certainty.

One place for the rules, shared by the trained category heads and the seed-model
adapters, so that both write the same ``doc._.scicls_labels`` and
``doc._.scicls_certainty`` and a user can swap one for the other.

Certainty follows the HRCS activity-code model card: the smallest distance, in
logit space, between any label's score and its decision threshold. A document
whose every label is far from its threshold is one the model is sure about; a
small value marks a borderline document to send to human review. For exclusive
(softmax) heads there is one decision, so certainty is the log-odds margin
between the best and the second-best label.
"""
from typing import List, Optional, Sequence

import numpy
from spacy.tokens import Doc

from .taxonomies import Taxonomy

_EPS = 1e-6


def logit(probs: "numpy.ndarray") -> "numpy.ndarray":
    probs = numpy.clip(numpy.asarray(probs, dtype="float64"), _EPS, 1.0 - _EPS)
    return numpy.log(probs) - numpy.log1p(-probs)


def decide(
    probs: Sequence[float],
    thresholds: Sequence[float],
    *,
    multi_label: bool,
    at_least_one: bool = False,
    at_least_one_min: float = 0.0,
) -> List[int]:
    """Indices of the decided labels, most probable first.

    Multi-label: every label at or above its own threshold; with
    ``at_least_one``, the most probable label when none reaches its threshold
    (for taxonomies where every document has a label, e.g. an arXiv paper's
    primary category), provided its probability is at least
    ``at_least_one_min``: a document from outside the taxonomy's field (a
    clinical trial for the arXiv head) scores low everywhere and gets no label.
    Exclusive: the single most probable label (ties go to the first in label
    order).
    """
    probs = numpy.asarray(probs, dtype="float64")
    if probs.size == 0:
        return []
    order = numpy.argsort(-probs, kind="stable")
    if not multi_label:
        return [int(order[0])]
    thresholds = numpy.broadcast_to(numpy.asarray(thresholds, dtype="float64"), probs.shape)
    decided = [int(i) for i in order if probs[i] >= thresholds[i]]
    if not decided and at_least_one and probs[order[0]] >= at_least_one_min:
        decided = [int(order[0])]
    return decided


def certainty(
    probs: Sequence[float], thresholds: Sequence[float], *, multi_label: bool
) -> Optional[float]:
    """How far the document is from changing any decision (larger is surer); None without labels."""
    probs = numpy.asarray(probs, dtype="float64")
    if probs.size == 0:
        return None
    if not multi_label:
        if probs.size == 1:
            return None
        top, second = numpy.sort(probs)[::-1][:2]
        return float(numpy.log(max(top, _EPS)) - numpy.log(max(second, _EPS)))
    thresholds = numpy.broadcast_to(numpy.asarray(thresholds, dtype="float64"), probs.shape)
    return float(numpy.min(numpy.abs(logit(probs) - logit(thresholds))))


def roll_up(taxonomy: Taxonomy, codes: Sequence[str]) -> List[str]:
    """The groups of the decided codes (``6.1`` -> ``6``, ``PE6`` -> ``PE``), in order of first appearance."""
    groups: List[str] = []
    for code in codes:
        group = taxonomy.group_of(code)
        if group is not None and group not in groups:
            groups.append(group)
    return groups


def too_little_text(doc: Doc, min_words: int) -> bool:
    """Whether ``doc`` holds fewer than ``min_words`` words that carry meaning
    (tokens with a letter that are not stop words). "N/A", "Advertisement"
    or "Abstract not available." give a head nothing to decide on: its
    probabilities there say more about its training data than about the text."""
    if min_words <= 0:
        return False
    words = 0
    for token in doc:
        if not token.is_stop and any(char.isalpha() for char in token.text) and len(token.text) > 1:
            words += 1
            if words >= min_words:
                return False
    return True


def write_decisions(
    doc: Doc,
    taxonomy: Taxonomy,
    codes: Sequence[str],
    probs: Sequence[float],
    thresholds: Sequence[float],
    *,
    multi_label: bool,
    at_least_one: bool = False,
    at_least_one_min: float = 0.0,
    abstain: bool = False,
) -> List[str]:
    """Write one taxonomy's decided labels, their groups and the certainty onto ``doc``.

    ``doc._.scicls_labels[taxonomy.name]`` gets the decided codes, most probable
    first, and ``doc._.scicls_labels[taxonomy.group_taxonomy]`` their groups
    (e.g. ``hrcs_rag``); ``doc._.scicls_certainty[taxonomy.name]`` the certainty.
    ``abstain`` (e.g. for a doc with no text) decides no label and leaves the
    certainty ``None``. New dicts are assigned each time, so no value is shared
    between documents.
    """
    if abstain:
        decided: List[str] = []
    else:
        decided = [
            codes[i]
            for i in decide(
                probs, thresholds, multi_label=multi_label, at_least_one=at_least_one,
                at_least_one_min=at_least_one_min,
            )
        ]
    labels = {**(doc._.scicls_labels or {}), taxonomy.name: decided}
    if taxonomy.group_taxonomy:
        labels[taxonomy.group_taxonomy] = roll_up(taxonomy, decided)
    doc._.scicls_labels = labels
    doc._.scicls_certainty = {
        **(doc._.scicls_certainty or {}),
        taxonomy.name: None if abstain else certainty(probs, thresholds, multi_label=multi_label),
    }
    return decided
