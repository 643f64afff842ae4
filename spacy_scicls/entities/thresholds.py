"""Per-label decision thresholds of the span entity head, fitted on held-out scores.

One global threshold treats every label alike, but the head's probabilities
are not equally calibrated across labels: a frequent label's entities score
high, a rare label's entities rarely reach the global threshold. A threshold
per label lets each trade precision for recall on its own.

A rare label's best threshold on a few held-out papers is mostly noise, so
each label's fitted threshold is shrunk towards the global one by its share
of evidence, ``n / (n + prior)`` (``n``: the label's gold entities in the
fitting data): with ``prior = 0`` every label keeps its own fit, with a
large prior every label keeps the global threshold. ``prior`` itself is
chosen by cross-fitting over groups of documents (the folds that scored
them): thresholds fitted on all groups but one decode the held-out group.
"""
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, Mapping, Optional, Sequence, Set, Tuple

import numpy

from .decoding import greedy_decode

# Thresholds a single label may take: lower than the global grid, since a
# rare label's entities may never reach the global threshold.
LABEL_GRID = tuple(round(0.05 * i, 2) for i in range(2, 20))  # 0.10 .. 0.95
# Shrinkage strengths tried by cross-fitting; None: no per-label thresholds.
PRIORS = (0.0, 25.0, 100.0, 400.0, None)

Entity = Tuple[int, int, str]


@dataclass
class ScoredDoc:
    """One document's candidates and their label probabilities (column 0 is
    "no entity"), with token character offsets and the gold entities."""

    candidates: numpy.ndarray
    probs: numpy.ndarray
    token_starts: numpy.ndarray
    token_ends: numpy.ndarray
    gold: Set[Entity]
    group: int = 0
    _best: Optional[Tuple[numpy.ndarray, numpy.ndarray]] = field(default=None, repr=False)

    @classmethod
    def from_doc(cls, doc, candidates, probs, gold: Set[Entity], group: int = 0) -> "ScoredDoc":
        starts = numpy.asarray([t.idx for t in doc], dtype="int64")
        ends = numpy.asarray([t.idx + len(t) for t in doc], dtype="int64")
        return cls(numpy.asarray(candidates), numpy.asarray(probs, dtype="float32"), starts, ends, gold, group)

    def entities(self, thresholds: numpy.ndarray, labels: Sequence[str]) -> Set[Entity]:
        """Entities as character offsets, decoded at per-column ``thresholds``."""
        if self._best is None:
            # Fitting decodes the same doc hundreds of times: the best entity
            # probability of each candidate is computed once, and only the
            # candidates that can pass the lowest threshold are decoded.
            best = self.probs[:, 1:].max(axis=1) if len(self.probs) else numpy.zeros(0, dtype="float32")
            order = numpy.argsort(-best, kind="stable")
            self._best = (best[order], order)
        best, order = self._best
        n = int(numpy.searchsorted(-best, -float(numpy.min(thresholds[1:])), side="right"))
        rows = numpy.sort(order[:n])
        chosen = greedy_decode(self.candidates[rows], self.probs[rows], thresholds)
        return {(int(self.token_starts[s]), int(self.token_ends[e - 1]), labels[c - 1]) for s, e, c, _ in chosen}


def column_thresholds(labels: Sequence[str], threshold: float, label_thresholds: Mapping[str, float]) -> numpy.ndarray:
    """One threshold per output column (column 0, "no entity", unused): a
    label's own threshold where it has one, else the global ``threshold``."""
    return numpy.asarray([threshold] + [float(label_thresholds.get(label, threshold)) for label in labels], dtype="float32")


def micro_f1(docs: Sequence[ScoredDoc], thresholds: numpy.ndarray, labels: Sequence[str]) -> float:
    tp = fp = fn = 0
    for doc in docs:
        predicted = doc.entities(thresholds, labels)
        hits = len(predicted & doc.gold)
        tp, fp, fn = tp + hits, fp + len(predicted) - hits, fn + len(doc.gold) - hits
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def fit_global(docs: Sequence[ScoredDoc], labels: Sequence[str], grid: Sequence[float]) -> Tuple[float, float]:
    """``(threshold, F1)``: the one threshold of ``grid`` with the best micro F1 over ``docs``."""
    best = (-1.0, 0.5)
    for threshold in grid:
        f = micro_f1(docs, numpy.full(len(labels) + 1, threshold, dtype="float32"), labels)
        best = max(best, (f, threshold))
    return best[1], best[0]


def fit_per_label(
    docs: Sequence[ScoredDoc], labels: Sequence[str], start: float, grid: Sequence[float] = LABEL_GRID, passes: int = 2
) -> Dict[str, float]:
    """Each label's threshold by coordinate ascent on the micro F1 over ``docs``,
    from ``start`` for every label, the most frequent gold label first (labels
    compete for the same tokens in decoding, so each is fitted with the
    others' current thresholds). A label keeps its current threshold unless
    another value is strictly better."""
    current = numpy.full(len(labels) + 1, start, dtype="float32")
    counts = gold_counts(docs)
    order = sorted(range(len(labels)), key=lambda i: -counts[labels[i]])
    best_f = micro_f1(docs, current, labels)
    for _ in range(passes):
        changed = False
        for i in order:
            for value in grid:
                trial = current.copy()
                trial[i + 1] = value
                f = micro_f1(docs, trial, labels)
                if f > best_f + 1e-9:
                    best_f, current, changed = f, trial, True
        if not changed:
            break
    return {label: float(current[i + 1]) for i, label in enumerate(labels)}


def shrink(fitted: Mapping[str, float], global_threshold: float, counts: Mapping[str, int], prior: Optional[float]) -> Dict[str, float]:
    """Each label's threshold moved from ``global_threshold`` towards its fitted
    value by ``n / (n + prior)``; ``prior=None`` gives no per-label thresholds."""
    if prior is None:
        return {}
    out = {}
    for label, value in fitted.items():
        n = counts.get(label, 0)
        weight = n / (n + prior) if n + prior > 0 else 0.0
        out[label] = round(float(global_threshold + weight * (value - global_threshold)), 4)
    return out


def gold_counts(docs: Sequence[ScoredDoc]) -> Counter:
    return Counter(label for doc in docs for _, _, label in doc.gold)


@dataclass
class LabelThresholdFit:
    global_threshold: float
    label_thresholds: Dict[str, float]
    prior: Optional[float]
    # prior -> micro F1 of the cross-fitted decoding (every group decoded by
    # thresholds fitted on the other groups)
    cross_fitted_f1: Dict[Optional[float], float]
    fitted: Dict[str, float]


def fit_label_thresholds(
    docs: Sequence[ScoredDoc],
    labels: Sequence[str],
    global_grid: Sequence[float],
    priors: Sequence[Optional[float]] = PRIORS,
    label_grid: Sequence[float] = LABEL_GRID,
) -> LabelThresholdFit:
    """Global and per-label thresholds for ``docs``, the shrinkage prior chosen
    by cross-fitting over the docs' groups (at least two groups needed; ties
    go to the stronger shrinkage, ``None`` strongest)."""
    groups = sorted({doc.group for doc in docs})
    if len(groups) < 2:
        raise ValueError("cross-fitting the shrinkage needs docs from at least two groups")
    tallies = {prior: [0, 0, 0] for prior in priors}
    for group in groups:
        fit_docs = [d for d in docs if d.group != group]
        held = [d for d in docs if d.group == group]
        g, _ = fit_global(fit_docs, labels, global_grid)
        fitted = fit_per_label(fit_docs, labels, g, label_grid)
        counts = gold_counts(fit_docs)
        for prior in priors:
            thresholds = column_thresholds(labels, g, shrink(fitted, g, counts, prior))
            for doc in held:
                predicted = doc.entities(thresholds, labels)
                hits = len(predicted & doc.gold)
                tally = tallies[prior]
                tally[0] += hits
                tally[1] += len(predicted) - hits
                tally[2] += len(doc.gold) - hits
    cross_fitted = {prior: (2 * tp / (2 * tp + fp + fn) if tp else 0.0) for prior, (tp, fp, fn) in tallies.items()}
    strength = {prior: (float("inf") if prior is None else prior) for prior in priors}
    prior = max(priors, key=lambda p: (round(cross_fitted[p], 6), strength[p]))
    g, _ = fit_global(docs, labels, global_grid)
    fitted = fit_per_label(docs, labels, g, label_grid)
    return LabelThresholdFit(g, shrink(fitted, g, gold_counts(docs), prior), prior, cross_fitted, fitted)
