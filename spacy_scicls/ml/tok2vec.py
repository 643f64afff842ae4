"""Calling a head's tok2vec so that empty documents cannot break a batch."""
from typing import Callable, List, Tuple

from spacy.tokens import Doc
from thinc.api import Model
from thinc.types import Floats2d


def tok2vec_width(tok2vec: Model) -> int:
    if tok2vec.has_dim("nO"):
        return tok2vec.get_dim("nO")
    if tok2vec.has_ref("listener") and tok2vec.get_ref("listener").has_dim("nO"):
        return tok2vec.get_ref("listener").get_dim("nO")
    raise ValueError("Cannot tell the width of the token vectors: is the transformer initialized?")


def token_vectors(tok2vec: Model, docs: List[Doc], is_train: bool) -> Tuple[List[Floats2d], Callable]:
    """``tok2vec(docs)``, with every doc's array as wide as the others.

    spacy-transformers gives zero-length docs arrays of width 0, and fails on
    a prediction batch made only of zero-length docs; both would break the
    heads' pooling, so those docs get ``(0, width)`` arrays here.
    """
    ops = tok2vec.ops
    if not is_train and all(len(doc) == 0 for doc in docs):
        width = tok2vec_width(tok2vec)
        return [ops.alloc2f(0, width) for _ in docs], lambda dXs: []
    Xs, backprop = tok2vec(docs, is_train)
    if any(X.shape[0] == 0 for X in Xs):
        width = tok2vec_width(tok2vec)
        Xs = [X if X.shape[0] else ops.alloc2f(0, width) for X in Xs]
    return Xs, backprop


def no_rows_output(model: Model, Xs: List[Floats2d], backprop_tok2vec: Callable):
    """Output and backprop of a head given nothing to score (no sections,
    no candidate spans): an empty output, and a zero gradient handed back to
    the listener anyway, since the shared transformer finishes its update
    only once every listener has reported."""
    Y = model.ops.alloc2f(0, model.get_ref("output_layer").get_dim("nO"))

    def backprop(dY: Floats2d) -> list:
        return backprop_tok2vec([model.ops.alloc2f(*X.shape) for X in Xs])

    return Y, backprop
