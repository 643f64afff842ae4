"""The lexical part of a category head: tf-idf of word n-grams, then a linear layer.

A paper's field is often named by its words (``quasar``, ``stroke``,
``schizophrenia``), which a small frozen sentence encoder blurs into its
neighbours. This part reads the same tokens as the dense head (title,
abstract, introduction; see :func:`~spacy_scicls.ml.doc_classifier.reading_indices`),
from the doc itself, so it costs no encoder pass:

- :func:`lexical_features`: docs -> sparse rows, one column per n-gram of a
  fitted lexicon (lowercased unigrams and bigrams, punctuation and spaces
  dropped), valued ``(1 + log count) * idf`` and L2-normalised per doc;
- :func:`sparse_linear`: those rows -> one logit per label.

The lexicon (the n-grams' 64-bit hashes, sorted, and their idf) is fitted on
training docs by :func:`fit_lexicon`, not by the optimizer, and saved with the
model. N-grams outside it are ignored, so the layer's size is set by the
training text (``max_features`` at most), not by a hashing table.

A sparse row is a pair ``(columns, values)`` per doc (int64 and float32
arrays, columns unique), so that rows can be computed once and reused.
"""
from typing import List, Sequence, Tuple

import numpy
from spacy.attrs import IS_PUNCT, IS_SPACE, LOWER
from spacy.tokens import Doc
from thinc.api import Model
from thinc.types import Floats2d

from .doc_classifier import reading_indices

SparseRow = Tuple[numpy.ndarray, numpy.ndarray]


def ngram_keys(doc: Doc, indices: numpy.ndarray, ngram_size: int, ops) -> numpy.ndarray:
    """64-bit keys of the n-grams (1..``ngram_size``) of the tokens ``indices`` of ``doc``.

    Words are lowercased (their hash in spaCy's string store, the same in every
    vocab); punctuation and whitespace tokens are dropped before n-grams are
    formed, so that "heart, failure" and "heart failure" share their bigram.
    """
    if len(indices) == 0:
        return numpy.zeros((0,), dtype="uint64")
    attrs = doc.to_array([LOWER, IS_PUNCT, IS_SPACE])[indices]
    words = numpy.ascontiguousarray(attrs[(attrs[:, 1] == 0) & (attrs[:, 2] == 0), 0], dtype="uint64")
    keys = [words]
    for n in range(2, ngram_size + 1):
        if len(words) >= n:
            keys.append(numpy.asarray(ops.ngrams(n, words), dtype="uint64"))
    return numpy.concatenate(keys)


def lexical_features(
    max_tokens: int, max_title_tokens: int = 64, ngram_size: int = 2, spans_key: str = "sections",
) -> Model[List[Doc], List[SparseRow]]:
    """Docs -> tf-idf rows over the fitted lexicon (see the module docstring).

    The tokens read are the dense head's (:func:`reading_indices`), up to
    ``max_tokens``. Before :func:`fit_lexicon` the lexicon is empty and every
    row is empty.
    """
    if max_tokens < 1:
        raise ValueError(f"lexical max_tokens must be at least 1, got {max_tokens}")
    if ngram_size < 1:
        raise ValueError(f"ngram_size must be at least 1, got {ngram_size}")
    return Model(
        "lexical_features", _features_forward, init=_features_init,
        params={"keys": None, "idf": None},
        attrs={"max_tokens": max_tokens, "max_title_tokens": max_title_tokens, "ngram_size": ngram_size,
               "spans_key": spans_key},
    )


def _features_init(model: Model, X=None, Y=None) -> None:
    if not model.has_param("keys") or model.get_param("keys") is None:
        model.set_param("keys", numpy.zeros((0,), dtype="uint64"))
        model.set_param("idf", numpy.zeros((0,), dtype="float32"))


def lexicon_size(model: Model) -> int:
    """How many n-grams a :func:`lexical_features` layer knows (0 before :func:`fit_lexicon`)."""
    if not model.has_param("keys") or model.get_param("keys") is None:
        return 0
    return int(model.get_param("keys").shape[0])


def doc_keys(model: Model, doc: Doc) -> numpy.ndarray:
    attrs = model.attrs
    read = reading_indices(doc, attrs["max_tokens"], attrs["spans_key"], attrs["max_title_tokens"])
    return ngram_keys(doc, read, model.attrs["ngram_size"], model.ops)


def _features_forward(model: Model, docs: List[Doc], is_train: bool):
    # Lookups run on the CPU (the docs are there); only the linear layer may run elsewhere.
    keys = numpy.asarray(model.ops.to_numpy(model.get_param("keys")), dtype="uint64") if lexicon_size(model) else None
    idf = model.ops.to_numpy(model.get_param("idf")) if keys is not None else None
    rows: List[SparseRow] = []
    for doc in docs:
        if keys is None:
            rows.append((numpy.zeros((0,), "int64"), numpy.zeros((0,), "float32")))
            continue
        found = doc_keys(model, doc)
        pos = numpy.searchsorted(keys, found)
        pos = pos[(pos < len(keys)) & (keys[numpy.minimum(pos, len(keys) - 1)] == found)]
        columns, counts = numpy.unique(pos, return_counts=True)
        values = ((1.0 + numpy.log(counts)) * idf[columns]).astype("float32")
        norm = float(numpy.sqrt((values * values).sum()))
        rows.append((columns.astype("int64"), values / norm if norm > 0 else values))

    def backprop(d_rows):
        # The lexicon is fitted, not trained, and docs take no gradient.
        return []

    return rows, backprop


def fit_lexicon(model: Model, docs: Sequence[Doc], min_df: int = 2, max_features: int = 20000) -> int:
    """Fit a :func:`lexical_features` layer's lexicon on training ``docs``; returns its size.

    Keeps the n-grams found in at least ``min_df`` docs, at most the
    ``max_features`` most frequent ones (ties broken by key, so the result is
    the same on every run), with the smoothed idf ``log((1 + n) / (1 + df)) + 1``.
    An n-gram seen in a single training doc can only teach the head that doc's
    labels, so ``min_df = 2`` keeps the layer small at little cost.
    """
    if min_df < 1 or max_features < 1:
        raise ValueError(f"min_df and max_features must be at least 1, got {min_df} and {max_features}")
    per_doc = [numpy.unique(doc_keys(model, doc)) for doc in docs]
    found = numpy.concatenate(per_doc) if per_doc else numpy.zeros((0,), "uint64")
    keys, df = numpy.unique(found, return_counts=True)
    keep = df >= min_df
    keys, df = keys[keep], df[keep]
    if len(keys) > max_features:
        order = numpy.lexsort((keys, -df))[:max_features]
        keys, df = keys[order], df[order]
        order = numpy.argsort(keys)
        keys, df = keys[order], df[order]
    idf = numpy.log((1.0 + len(docs)) / (1.0 + df)) + 1.0
    model.set_param("keys", keys.astype("uint64"))
    model.set_param("idf", idf.astype("float32"))
    return len(keys)


def sparse_linear(nO=None) -> Model[List[SparseRow], Floats2d]:
    """Sparse rows -> ``rows @ W + b``, with ``W`` (n-grams x labels) starting at zero.

    Zero weights, as logistic regression starts: the label priors go to the
    bias (``spacy_scicls.training.frozen.set_prior_bias``). ``W`` has one row
    per n-gram of the lexicon, so it is sized when the lexicon is fitted
    (:func:`resize_sparse_linear`); its input width is no dimension of the
    layer, as a refitted lexicon changes it.
    """
    return Model("sparse_linear", _sparse_linear_forward, init=_sparse_linear_init,
                 dims={"nO": nO}, params={"W": None, "b": None})


def resize_sparse_linear(model: Model, n_inputs: int) -> None:
    """Give a :func:`sparse_linear` layer ``n_inputs`` rows of zero weights and a zero bias."""
    model.set_param("W", model.ops.alloc2f(n_inputs, model.get_dim("nO")))
    model.set_param("b", model.ops.alloc1f(model.get_dim("nO")))


def _sparse_linear_init(model: Model, X=None, Y=None) -> None:
    if Y is not None and (not model.has_dim("nO") or model.get_dim("nO") is None):
        model.set_dim("nO", Y.shape[1])
    if not model.has_param("W") or model.get_param("W") is None:
        resize_sparse_linear(model, 0)


def _sparse_linear_forward(model: Model, rows: List[SparseRow], is_train: bool):
    xp = model.ops.xp
    W = model.get_param("W")
    b = model.get_param("b")
    Y = model.ops.alloc2f(len(rows), W.shape[1])
    rows = [(xp.asarray(columns), xp.asarray(values)) for columns, values in rows]
    for i, (columns, values) in enumerate(rows):
        if len(columns):
            Y[i] = values @ W[columns]
    Y += b

    def backprop(dY: Floats2d):
        dW = model.ops.alloc2f(*W.shape)
        for i, (columns, values) in enumerate(rows):
            if len(columns):
                # columns are unique within a row, so plain indexing accumulates correctly
                dW[columns] += xp.outer(values, dY[i])
        model.inc_grad("W", dW)
        model.inc_grad("b", dY.sum(axis=0))
        return []

    return Y, backprop
