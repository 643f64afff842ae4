"""Candidate entity spans, in time and memory linear in the length of a doc."""
import numpy
from spacy.tokens import Doc


def candidate_spans(doc: Doc, max_width: int) -> numpy.ndarray:
    """Every span of 1 to ``max_width`` tokens that may hold an entity.

    Returns an ``(n, 2)`` int array of token ``(start, end)`` pairs, end
    exclusive, ordered by start then width: at most ``len(doc) * max_width``
    rows. A candidate never contains a token that holds a line break (so no
    entity crosses a heading, a paragraph or a table row), never crosses a
    sentence boundary when the doc has sentences, and never starts or ends
    on a whitespace token.
    """
    n = len(doc)
    if n == 0 or max_width < 1:
        return numpy.zeros((0, 2), dtype="int32")
    is_space = numpy.fromiter((t.is_space for t in doc), dtype=bool, count=n)
    is_break = numpy.fromiter(("\n" in t.text for t in doc), dtype=bool, count=n)
    # Count of line-break tokens before each position: a span is free of
    # them when the counts at its two ends agree.
    breaks_before = numpy.concatenate([[0], numpy.cumsum(is_break)])
    if doc.has_annotation("SENT_START"):
        starts_sentence = numpy.fromiter((t.is_sent_start for t in doc), dtype=bool, count=n)
        starts_sentence[0] = False
        sentence_id = numpy.cumsum(starts_sentence)
    else:
        sentence_id = numpy.zeros(n, dtype="int64")
    starts = numpy.repeat(numpy.arange(n), max_width)
    ends = starts + numpy.tile(numpy.arange(1, max_width + 1), n)
    ok = ends <= n
    starts, ends = starts[ok], ends[ok]
    last = ends - 1
    ok = (
        (breaks_before[ends] == breaks_before[starts])
        & ~is_space[starts]
        & ~is_space[last]
        & (sentence_id[starts] == sentence_id[last])
    )
    return numpy.stack([starts[ok], ends[ok]], axis=1).astype("int32")
