"""The words of a section as a hashed bag of words, and its length and place in tokens.

The pooled token vectors of a frozen sentence encoder say what a section is
about more than what kind of section it is: a methods section "measured",
"were incubated", "samples", "using"; a results section "showed",
"significantly", "Fig". A linear layer over the section's words (as spaCy's
``TextCatBOW`` beside its neural text classifier) reads those words
directly. Words and word pairs are hashed into ``buckets`` columns (the
lower-cased form's hash from spaCy's string store, numbers as one word), so
the layer has a fixed size and needs no vocabulary.
"""
from typing import List, Sequence, Tuple

import numpy
from spacy.strings import hash_string
from spacy.tokens import Doc

#: Cues of a section's length and place counted in tokens (one column each).
LENGTH_FEATURES = ("log_length", "share_of_paper", "token_position")

_NUMBER_KEY = hash_string("<number>")
_PAIR_MIX = 0x9E3779B97F4A7C15
_MASK = (1 << 64) - 1
# A section of this many tokens gets log_length 1.
_LONG_SECTION = 2048


def word_keys(doc: Doc, start: int, end: int, ngram_size: int = 2) -> List[int]:
    """Hash keys of the words of ``doc[start:end]`` and, with ``ngram_size`` 2,
    of each pair of adjacent words (punctuation and white space are not words)."""
    words = [_NUMBER_KEY if token.like_num else token.lower for token in doc[start:end]
             if not (token.is_punct or token.is_space)]
    keys = list(words)
    if ngram_size >= 2:
        keys.extend(((a * _PAIR_MIX) ^ b) & _MASK for a, b in zip(words, words[1:]))
    return keys


def bag_of_words(docs: Sequence[Doc], ranges: Sequence[Tuple[int, int, int]], buckets: int,
                 ngram_size: int = 2) -> numpy.ndarray:
    """One row per ``(doc index, start, end)`` range: log(1 + count) of each
    bucket of its :func:`word_keys`, scaled to unit length (so that a long
    section and a short one weigh the same)."""
    out = numpy.zeros((len(ranges), buckets), dtype="float32")
    for row, (doc_i, start, end) in enumerate(ranges):
        if end <= start:
            continue
        keys = numpy.asarray(word_keys(docs[doc_i], start, end, ngram_size), dtype="uint64")
        if not len(keys):
            continue
        counts = numpy.bincount((keys % numpy.uint64(buckets)).astype("int64"), minlength=buckets)
        values = numpy.log1p(counts.astype("float32"))
        out[row] = values / numpy.linalg.norm(values)
    return out


def length_features(owners: numpy.ndarray, lengths: numpy.ndarray) -> numpy.ndarray:
    """:data:`LENGTH_FEATURES` of each section from its content length in
    tokens, ``owners`` giving each section's paper (sections in reading order):
    the log of the length, the section's share of its paper's content and the
    relative place of its middle in that content."""
    lengths = numpy.asarray(lengths, dtype="float64")
    owners = numpy.asarray(owners)
    out = numpy.zeros((len(lengths), len(LENGTH_FEATURES)), dtype="float32")
    out[:, 0] = numpy.log1p(lengths) / numpy.log1p(_LONG_SECTION)
    for doc_i in numpy.unique(owners):
        idx = numpy.flatnonzero(owners == doc_i)
        total = max(float(lengths[idx].sum()), 1.0)
        before = numpy.concatenate([[0.0], numpy.cumsum(lengths[idx])[:-1]])
        out[idx, 1] = lengths[idx] / total
        out[idx, 2] = (before + lengths[idx] / 2) / total
    return out
