"""Section classifier: a section's IMRaD role from its heading and its content."""
from typing import Callable, List, Optional, Tuple

from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Maxout, Model, Softmax, chain
from thinc.types import Floats2d, Ints2d, Ragged

from .tok2vec import no_rows_output, token_vectors

# Columns of the span index array given to the model, one row per section.
START, END, HEADING_END = 0, 1, 2


@registry.architectures("spacy_scicls.SectionClassifier.v1")
def build_section_classifier_v1(
    tok2vec: Model[List[Doc], List[Floats2d]],
    hidden_width: int = 128,
    dropout: float = 0.1,
    nO: Optional[int] = None,
) -> Model[Tuple[List[Doc], Ragged], Floats2d]:
    """Classify section spans into IMRaD roles.

    The input is ``(docs, spans)``: ``spans.data`` holds one row per section
    with its token ``start``, ``end`` and ``heading_end`` (the heading is
    ``[start, heading_end)``, empty when the section has none) and
    ``spans.lengths`` the number of sections of each doc. A section is
    represented by the mean of its heading's vectors (what the author calls
    it), the mean of all its vectors (what it says), and where it sits in
    the paper (relative start and end), so that a section whose heading says
    nothing ("4 Our Approach", or no heading at all) is still labelled from
    its content and position.
    """
    output_layer = Softmax(nO=nO)
    model = Model(
        "section_classifier",
        _section_classifier_forward,
        layers=[tok2vec, chain(Maxout(nO=hidden_width, nP=2, dropout=dropout, normalize=True), output_layer)],
        refs={"tok2vec": tok2vec, "output_layer": output_layer},
        init=_section_classifier_init,
    )
    return model


def _section_features(model: Model, Xs: List[Floats2d], spans: Ragged) -> Tuple[Floats2d, Callable]:
    ops = model.ops
    width = max((X.shape[1] for X in Xs), default=0)
    rows: Ints2d = ops.to_numpy(spans.data)
    lengths = ops.to_numpy(spans.lengths)
    n_rows = rows.shape[0]
    F = ops.alloc2f(n_rows, 2 * width + 2)
    owners = []
    row = 0
    for doc_i, n_spans in enumerate(lengths):
        X = Xs[doc_i]
        n_tokens = max(X.shape[0], 1)
        for _ in range(int(n_spans)):
            start, end, heading_end = (int(v) for v in rows[row])
            if heading_end > start:
                F[row, :width] = X[start:heading_end].mean(axis=0)
            if end > start:
                F[row, width : 2 * width] = X[start:end].mean(axis=0)
            F[row, 2 * width] = start / n_tokens
            F[row, 2 * width + 1] = end / n_tokens
            owners.append(doc_i)
            row += 1

    def backprop(dF: Floats2d) -> List[Floats2d]:
        dXs = [ops.alloc2f(*X.shape) for X in Xs]
        for i in range(n_rows):
            start, end, heading_end = (int(v) for v in rows[i])
            dX = dXs[owners[i]]
            if heading_end > start:
                dX[start:heading_end] += dF[i, :width] / (heading_end - start)
            if end > start:
                dX[start:end] += dF[i, width : 2 * width] / (end - start)
        return dXs

    return F, backprop


def _section_classifier_forward(
    model: Model, inputs: Tuple[List[Doc], Ragged], is_train: bool
) -> Tuple[Floats2d, Callable]:
    docs, spans = inputs
    tok2vec, classifier = model.layers
    Xs, backprop_tok2vec = token_vectors(tok2vec, docs, is_train)
    F, backprop_features = _section_features(model, Xs, spans)
    if F.shape[0] == 0:
        return no_rows_output(model, Xs, backprop_tok2vec)
    Y, backprop_classifier = classifier(F, is_train)

    def backprop(dY: Floats2d) -> List[Doc]:
        return backprop_tok2vec(backprop_features(backprop_classifier(dY)))

    return Y, backprop


def _section_classifier_init(model: Model, X=None, Y=None) -> None:
    tok2vec, classifier = model.layers
    if X is None:
        classifier.initialize(Y=Y)
        return
    docs, spans = X
    tok2vec.initialize(X=docs)
    Xs, _ = token_vectors(tok2vec, docs, is_train=False)
    F, _ = _section_features(model, Xs, spans)
    classifier.initialize(X=F, Y=Y)
