"""Training entity heads on a frozen shared transformer, with its output computed once.

The shared transformer's listeners read ``doc._.trf_data`` when the
transformer itself is not updated. Keeping a transformer's full output for a
whole corpus is costly, and it cannot be cut into pieces with the doc, so here
the output is pooled once into one vector per token (the mean over a token's
wordpieces, as the listeners' ``reduce_mean`` pooling does) and stored as
``TransformerData`` whose "wordpieces" are the tokens themselves: a listener
with ``reduce_mean`` pooling reads exactly the same token vectors from it, and
a doc can be cut into chunks with its vectors.
"""
from typing import Iterable, List, Optional

import numpy
from spacy.tokens import Doc, Span
from spacy_transformers.data_classes import TransformerData


def pooled_token_vectors(trf_data: TransformerData, n_tokens: int) -> numpy.ndarray:
    """``(n_tokens, width)`` float32: the mean of each token's wordpiece vectors
    (zeros for a token aligned to no wordpiece, e.g. whitespace)."""
    output = trf_data.model_output.last_hidden_state
    width = trf_data.width
    if n_tokens == 0:
        return numpy.zeros((0, width), dtype="float32")
    hidden = numpy.asarray(output).reshape(-1, width)
    index = numpy.asarray(trf_data.align.dataXd, dtype="int64")
    lengths = numpy.asarray(trf_data.align.lengths, dtype="int64")
    if len(lengths) != n_tokens:
        raise ValueError(f"transformer output aligned to {len(lengths)} tokens, doc has {n_tokens}")
    sums = numpy.zeros((n_tokens, width), dtype="float32")
    numpy.add.at(sums, numpy.repeat(numpy.arange(n_tokens), lengths), hidden[index])
    return sums / numpy.maximum(lengths, 1)[:, None].astype("float32")


def token_level_trf_data(vectors: numpy.ndarray) -> TransformerData:
    """``TransformerData`` whose wordpieces are the doc's tokens, one to one."""
    vectors = numpy.ascontiguousarray(vectors, dtype="float32")
    data = TransformerData.zeros(vectors.shape[0], vectors.shape[1])
    data.model_output.last_hidden_state[0] = vectors
    return data


def with_token_vectors(doc: Doc, vectors: numpy.ndarray) -> Doc:
    """A copy of ``doc``'s words (no annotation) carrying ``vectors`` as its transformer output."""
    if vectors.shape[0] != len(doc):
        raise ValueError(f"{vectors.shape[0]} vectors for a doc of {len(doc)} tokens")
    words = [token.text for token in doc]
    spaces = [bool(token.whitespace_) for token in doc]
    copy = Doc(doc.vocab, words=words, spaces=spaces)
    copy._.trf_data = token_level_trf_data(vectors)
    return copy


def chunk_bounds(doc: Doc, max_tokens: int) -> List[tuple]:
    """Cut ``doc`` into pieces of at most about ``max_tokens`` tokens, each cut
    just after a token holding a line break (or a sentence end) and never
    inside a gold entity; a piece with no such place is cut inside an entity-free gap,
    or at ``max_tokens`` as a last resort."""
    n = len(doc)
    if n <= max_tokens:
        return [(0, n)] if n else []
    in_entity = numpy.zeros(n + 1, dtype=bool)
    for ent in doc.ents:
        in_entity[ent.start + 1 : ent.end] = True  # a cut at i separates tokens i-1 and i
    good = numpy.zeros(n + 1, dtype=bool)
    for token in doc:
        if "\n" in token.text or "\n" in token.whitespace_ or token.text in (".", "?", "!"):
            good[token.i + 1] = True
    bounds, start = [], 0
    while n - start > max_tokens:
        window = numpy.arange(start + max_tokens // 2, start + max_tokens + 1)
        preferred = window[good[window] & ~in_entity[window]]
        allowed = window[~in_entity[window]]
        cut = int(preferred[-1]) if len(preferred) else int(allowed[-1]) if len(allowed) else start + max_tokens
        bounds.append((start, cut))
        start = cut
    bounds.append((start, n))
    return bounds


def chunk_doc(doc: Doc, vectors: Optional[numpy.ndarray], max_tokens: int, spans_keys: Iterable[str] = ()) -> List[tuple]:
    """``(gold_piece, vectors_piece)`` pairs: the pieces keep ``doc.ents`` and
    the spans of ``spans_keys`` that lie inside them."""
    pieces = []
    for start, end in chunk_bounds(doc, max_tokens):
        piece = doc[start:end].as_doc()
        for key in spans_keys:
            if key in doc.spans:
                piece.spans[key] = [
                    Span(piece, s.start - start, s.end - start, label=s.label_)
                    for s in doc.spans[key]
                    if s.start >= start and s.end <= end
                ]
        pieces.append((piece, None if vectors is None else vectors[start:end]))
    return pieces
