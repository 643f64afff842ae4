"""Candidate entity spans, in time and memory linear in the length of a doc."""
import numpy
from spacy.attrs import IDX, IS_SPACE, LENGTH, SENT_START
from spacy.tokens import Doc

SECTIONS_KEY = "sections"


def candidate_spans(doc: Doc, max_width: int) -> numpy.ndarray:
    """Every span of 1 to ``max_width`` tokens that may hold an entity.

    Returns an ``(n, 2)`` int array of token ``(start, end)`` pairs, end
    exclusive, ordered by start then width: at most ``len(doc) * max_width``
    rows. A candidate never contains a token that holds a line break (so no
    entity crosses a heading, a paragraph or a table row), never crosses a
    sentence boundary when the doc has sentences, never crosses the start of
    a section in ``doc.spans["sections"]`` (where a reader set sections whose
    headings are not on lines of their own), and never starts or ends on a
    whitespace token.
    """
    n = len(doc)
    if n == 0 or max_width < 1:
        return numpy.zeros((0, 2), dtype="int32")
    # Token attributes as arrays: no per-token Python on a 30-page paper.
    attrs = doc.to_array([IDX, LENGTH, IS_SPACE, SENT_START]).reshape(n, 4).astype("int64")
    token_start, token_end = attrs[:, 0], attrs[:, 0] + attrs[:, 1]
    is_space = attrs[:, 2].astype(bool)
    newlines = numpy.frombuffer(doc.text.encode("utf-32-le"), dtype="<u4") == ord("\n")
    newline_at = numpy.flatnonzero(newlines)
    is_break = numpy.searchsorted(newline_at, token_end) > numpy.searchsorted(newline_at, token_start)
    # Count of line-break tokens before each position: a span is free of
    # them when the counts at its two ends agree.
    breaks_before = numpy.concatenate([[0], numpy.cumsum(is_break)])
    if doc.has_annotation("SENT_START"):
        starts_sentence = attrs[:, 3] == 1
        starts_sentence[0] = False
        sentence_id = numpy.cumsum(starts_sentence)
    else:
        sentence_id = numpy.zeros(n, dtype="int64")
    if SECTIONS_KEY in doc.spans and len(doc.spans[SECTIONS_KEY]):
        opens = numpy.zeros(n, dtype="int64")
        for span in doc.spans[SECTIONS_KEY]:
            if 0 < span.start < n:
                opens[span.start] = 1
            if 0 < span.end < n:
                opens[span.end] = 1
        sentence_id = sentence_id * (n + 1) + numpy.cumsum(opens)
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
