"""How much a test set of a few papers can tell: F1 over papers drawn again with replacement.

Scores are counted per paper as ``(tp, fp, fn)`` rows; a draw takes as many
papers as there are, with replacement, and sums their rows before dividing,
as the micro-averaged figure itself does. Papers, not sentences or entities,
are the unit a corpus is split by, so they are the unit that is drawn.
"""
import numpy


def micro_f1(counts) -> float:
    """F1 of the summed ``(tp, fp, fn)`` rows (one row per paper)."""
    tp, fp, fn = numpy.asarray(counts, dtype="float64").reshape(-1, 3).sum(axis=0)
    return float(2 * tp / max(2 * tp + fp + fn, 1.0))


def paper_bootstrap(counts, draws: int, seed: int = 0) -> numpy.ndarray:
    """``draws`` F1 values, each of as many papers as ``counts`` has rows, drawn with replacement."""
    counts = numpy.asarray(counts, dtype="float64").reshape(-1, 3)
    rng = numpy.random.default_rng(seed)
    return numpy.asarray([micro_f1(counts[rng.integers(0, len(counts), len(counts))]) for _ in range(draws)])


def describe(counts, draws: int = 2000, seed: int = 0) -> str:
    """One line: the F1 of all papers, the median and 5th-95th percentile of the
    draws, their standard deviation, and the range when one paper is left out."""
    counts = numpy.asarray(counts, dtype="float64").reshape(-1, 3)
    values = paper_bootstrap(counts, draws, seed)
    low, mid, high = numpy.percentile(values, [5, 50, 95])
    line = (f"F1 {micro_f1(counts):.3f}; over {draws} draws of {len(counts)} papers with replacement: "
            f"median {mid:.3f}, 5th-95th percentile {low:.3f}-{high:.3f}, standard deviation {values.std():.3f}")
    if len(counts) > 1:
        left_out = [micro_f1(numpy.delete(counts, i, axis=0)) for i in range(len(counts))]
        line += f"; leaving one paper out: {min(left_out):.3f} to {max(left_out):.3f}"
    return line
