"""Document classifier: pooled token vectors of the front of a document."""
from typing import Callable, List, Optional, Tuple

from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Linear, Logistic, Maxout, Model, Softmax, chain
from thinc.types import Floats2d

from .tok2vec import token_vectors


@registry.architectures("spacy_scicls.DocClassifier.v1")
def build_doc_classifier_v1(
    tok2vec: Model[List[Doc], List[Floats2d]],
    max_tokens: int = 256,
    hidden_width: int = 256,
    dropout: float = 0.1,
    exclusive_classes: bool = False,
    nO: Optional[int] = None,
) -> Model[List[Doc], Floats2d]:
    """Mean- and max-pool the first ``max_tokens`` token vectors, then classify.

    A paper's field is stated in its title and abstract, which open the text,
    so the head reads only the front of the document: a 30-page paper costs
    the head no more than an abstract, and the body cannot drown the title.
    ``exclusive_classes`` picks softmax (one label per doc) over independent
    sigmoids (multi-label).
    """
    if exclusive_classes:
        output_layer = Softmax(nO=nO)
    else:
        output_layer = chain(Linear(nO=nO), Logistic())
    model = chain(
        with_safe_empty_docs(tok2vec),
        front_pooling(max_tokens),
        Maxout(nO=hidden_width, nP=2, dropout=dropout, normalize=True),
        output_layer,
    )
    model.set_ref("tok2vec", tok2vec)
    model.set_ref("output_layer", output_layer if exclusive_classes else output_layer.layers[0])
    model.attrs["multi_label"] = not exclusive_classes
    return model


def with_safe_empty_docs(tok2vec: Model[List[Doc], List[Floats2d]]) -> Model[List[Doc], List[Floats2d]]:
    """Wrap ``tok2vec`` so that zero-length docs get full-width empty arrays."""

    def forward(model: Model, docs: List[Doc], is_train: bool):
        return token_vectors(model.layers[0], docs, is_train)

    def init(model: Model, X=None, Y=None) -> None:
        model.layers[0].initialize(X=X)

    return Model("safe_tok2vec", forward, init=init, layers=[tok2vec])


def front_pooling(max_tokens: int) -> Model[List[Floats2d], Floats2d]:
    """Concatenated mean and max of each doc's first ``max_tokens`` rows.

    A doc without tokens gets a row of zeros rather than a division by zero,
    so that empty texts flow through the pipeline like any other.
    """
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
    return Model("front_pooling", _front_pooling_forward, attrs={"max_tokens": max_tokens})


def _front_pooling_forward(
    model: Model, Xs: List[Floats2d], is_train: bool
) -> Tuple[Floats2d, Callable]:
    ops = model.ops
    xp = ops.xp
    max_tokens = model.attrs["max_tokens"]
    width = max((X.shape[1] for X in Xs), default=0)
    Y = ops.alloc2f(len(Xs), 2 * width)
    kept = []  # (n_rows_used, argmax per column) for backprop
    for i, X in enumerate(Xs):
        k = min(X.shape[0], max_tokens)
        if k == 0:
            kept.append((0, None))
            continue
        front = X[:k]
        which = front.argmax(axis=0)
        Y[i, :width] = front.mean(axis=0)
        Y[i, width:] = front[which, xp.arange(width)]
        kept.append((k, which))

    def backprop(dY: Floats2d) -> List[Floats2d]:
        dXs = []
        for i, X in enumerate(Xs):
            dX = ops.alloc2f(*X.shape)
            k, which = kept[i]
            if k:
                dX[:k] += dY[i, :width] / k
                dX[which, xp.arange(width)] += dY[i, width:]
            dXs.append(dX)
        return dXs

    return Y, backprop
