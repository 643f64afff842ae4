"""The order of a paper's sections: a first-order transition model over IMRaD labels.

Introduction comes before methods, methods before results, results before
discussion and conclusion; PLOS Biology puts its methods last; sub-sections
mostly share their parent's role. Labelling each section on its own does not
know this. :func:`learn_transitions` counts, over the label sequences of
training papers, how often each label follows each other one (and which
label opens a paper), and :func:`decode` finds the sequence of labels that
best fits both the per-section probabilities and these transitions
(Viterbi), with sections whose label is already decided held fixed.
"""
from typing import Iterable, List, Optional, Sequence

import numpy


def learn_transitions(sequences: Iterable[Sequence[Optional[int]]], n_labels: int,
                      smoothing: float = 1.0) -> numpy.ndarray:
    """Log-probabilities of the next label, ``(n_labels + 1, n_labels)``: row
    ``i < n_labels`` after label ``i``, the last row for a paper's first section.

    ``sequences`` hold each training paper's labels in reading order
    (``None`` for a section without a label: it is skipped, its neighbours
    counted as adjacent). ``smoothing`` is added to every count.
    """
    if smoothing <= 0:
        raise ValueError(f"smoothing must be positive, not {smoothing}")
    counts = numpy.full((n_labels + 1, n_labels), float(smoothing))
    for sequence in sequences:
        previous = n_labels
        for label in sequence:
            if label is None or label < 0:
                continue
            if label >= n_labels:
                raise ValueError(f"label index {label} is not below {n_labels}")
            counts[previous, label] += 1.0
            previous = int(label)
    return numpy.log(counts / counts.sum(axis=1, keepdims=True))


def decode(probs: numpy.ndarray, transitions: numpy.ndarray, weight: float = 1.0,
           fixed: Optional[Sequence[Optional[int]]] = None) -> List[int]:
    """The most probable label sequence of one paper's sections.

    ``probs`` (sections x labels) are the per-section probabilities, the
    transitions those of :func:`learn_transitions`, weighted by ``weight``
    (0: each section's most probable label). A section with a label in
    ``fixed`` gets that label.
    """
    probs = numpy.asarray(probs, dtype="float64")
    n, n_labels = probs.shape if probs.ndim == 2 else (0, 0)
    if n == 0:
        return []
    if transitions.shape != (n_labels + 1, n_labels):
        raise ValueError(f"transitions of shape {transitions.shape} do not fit {n_labels} labels")
    emissions = numpy.log(numpy.clip(probs, 1e-9, 1.0))
    if fixed is not None:
        for i, label in enumerate(fixed):
            if label is not None:
                emissions[i] = -numpy.inf
                emissions[i, label] = 0.0
    if weight == 0:
        return [int(k) for k in emissions.argmax(axis=1)]
    step = weight * transitions[:n_labels]
    score = emissions[0] + weight * transitions[n_labels]
    back = numpy.zeros((n, n_labels), dtype="int64")
    for t in range(1, n):
        candidates = score[:, None] + step
        back[t] = candidates.argmax(axis=0)
        score = candidates.max(axis=0) + emissions[t]
    path = [int(score.argmax())]
    for t in range(n - 1, 0, -1):
        path.append(int(back[t, path[-1]]))
    return path[::-1]
