"""Fitting decisions on dev data: temperature scaling and per-label thresholds.

A category head's probabilities are rescaled by one temperature ``T`` per head
(``sigmoid(logit(p) / T)``, or ``softmax(log(p) / T)`` for exclusive heads),
fitted on dev data by minimising the negative log-likelihood (Guo et al.,
2017). Thresholds are then tuned per label on the calibrated probabilities to
maximise that label's F1 on dev (the approach of the HRCS activity-code model
card's ``metadata.json``); a label with too few dev positives to tune gets the
single threshold that maximises micro-F1 over all labels.

:func:`expected_calibration_error` measures the result (equal-width bins over
every document x label probability of multi-label heads).
"""
from typing import Dict, Optional, Sequence, Tuple

import numpy

from .decisions import logit

_EPS = 1e-6
TEMPERATURE_GRID = numpy.exp(numpy.linspace(numpy.log(0.05), numpy.log(20.0), 241))
THRESHOLD_GRID = numpy.round(numpy.arange(0.02, 0.981, 0.01), 2)


def apply_temperature(probs, temperature: float, *, multi_label: bool) -> numpy.ndarray:
    """Probabilities rescaled by ``temperature`` (1.0 leaves them as they are)."""
    probs = numpy.asarray(probs, dtype="float64")
    if temperature <= 0 or not numpy.isfinite(temperature):
        raise ValueError(f"temperature must be a positive number, got {temperature}")
    if temperature == 1.0 or probs.size == 0:
        return probs
    if multi_label:
        return 1.0 / (1.0 + numpy.exp(-logit(probs) / temperature))
    logp = numpy.log(numpy.clip(probs, _EPS, 1.0)) / temperature
    logp -= logp.max(axis=-1, keepdims=True)
    e = numpy.exp(logp)
    return e / e.sum(axis=-1, keepdims=True)


def negative_log_likelihood(probs, truths, *, multi_label: bool) -> float:
    probs = numpy.clip(numpy.asarray(probs, dtype="float64"), _EPS, 1.0 - _EPS)
    truths = numpy.asarray(truths, dtype="float64")
    if multi_label:
        return float(-(truths * numpy.log(probs) + (1 - truths) * numpy.log1p(-probs)).mean())
    return float(-(truths * numpy.log(probs)).sum(axis=-1).mean())


def fit_temperature(probs, truths, *, multi_label: bool, grid: Sequence[float] = TEMPERATURE_GRID) -> float:
    """The temperature (from a log-spaced grid, 0.05-20) with the lowest dev NLL."""
    probs = numpy.asarray(probs, dtype="float64")
    if probs.size == 0:
        return 1.0
    losses = [negative_log_likelihood(apply_temperature(probs, t, multi_label=multi_label), truths,
                                      multi_label=multi_label) for t in grid]
    return float(grid[int(numpy.argmin(losses))])


def _f1(tp: float, fp: float, fn: float) -> float:
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


def tune_thresholds(
    probs, truths, *, min_positives: int = 3, grid: Sequence[float] = THRESHOLD_GRID,
    default: Optional[float] = None,
) -> Tuple[numpy.ndarray, float]:
    """Per-label thresholds maximising each label's dev F1, and the global micro-F1 threshold.

    Labels with fewer than ``min_positives`` dev positives get the global one
    (or ``default`` when given). Ties go to the threshold nearest 0.5.
    """
    probs = numpy.asarray(probs, dtype="float64")
    truths = numpy.asarray(truths) > 0.5
    grid = numpy.asarray(grid, dtype="float64")
    n_labels = probs.shape[1] if probs.ndim == 2 else 0
    tie_break = -numpy.abs(grid - 0.5) * 1e-9
    micro = []
    for t in grid:
        pred = probs >= t
        micro.append(_f1((pred & truths).sum(), (pred & ~truths).sum(), (~pred & truths).sum()))
    global_t = float(grid[int(numpy.argmax(numpy.asarray(micro) + tie_break))]) if n_labels else 0.5
    fallback = global_t if default is None else float(default)
    thresholds = numpy.full(n_labels, fallback)
    for j in range(n_labels):
        if truths[:, j].sum() < min_positives:
            continue
        col, gold = probs[:, j], truths[:, j]
        f1s = [_f1((pred & gold).sum(), (pred & ~gold).sum(), (~pred & gold).sum())
               for pred in (col[None, :] >= grid[:, None])]
        thresholds[j] = float(grid[int(numpy.argmax(numpy.asarray(f1s) + tie_break))])
    return thresholds, global_t


def expected_calibration_error(probs, truths, *, n_bins: int = 15) -> float:
    """ECE over all probabilities (each doc x label a binary prediction), equal-width bins."""
    probs = numpy.asarray(probs, dtype="float64").ravel()
    truths = (numpy.asarray(truths) > 0.5).astype("float64").ravel()
    if probs.size == 0:
        return 0.0
    bins = numpy.minimum((probs * n_bins).astype(int), n_bins - 1)
    total = 0.0
    for b in range(n_bins):
        in_bin = bins == b
        if in_bin.any():
            total += in_bin.sum() * abs(probs[in_bin].mean() - truths[in_bin].mean())
    return float(total / probs.size)


def micro_macro_f1(pred, truths) -> Dict[str, float]:
    """Micro and macro F1 of boolean decisions (macro over labels with any gold or predicted doc)."""
    pred = numpy.asarray(pred, dtype=bool)
    gold = numpy.asarray(truths) > 0.5
    tp = (pred & gold).sum(axis=0)
    fp = (pred & ~gold).sum(axis=0)
    fn = (~pred & gold).sum(axis=0)
    active = (tp + fp + fn) > 0
    per_label = [_f1(a, b, c) for a, b, c in zip(tp[active], fp[active], fn[active])]
    return {
        "micro_f": _f1(tp.sum(), fp.sum(), fn.sum()),
        "macro_f": float(numpy.mean(per_label)) if per_label else 0.0,
    }
