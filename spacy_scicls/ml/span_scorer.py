"""Span entity scorer: every candidate span scored from the shared token vectors.

SpanMarker scores each candidate span with marker tokens and an encoder pass
of its own. Here a candidate is represented from token vectors that the shared
transformer has already computed, in time and memory linear in the number of
candidates: each token vector is projected once into a start, an end and a
content part; a span is the sum of its start token's start part, its last
token's end part, the mean of its tokens' content parts (from prefix sums, so
a wide span costs no more than a narrow one) and a learned width embedding.
"""
from typing import Callable, List, Optional, Tuple

from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Linear, Maxout, Model, Softmax, chain, with_array
from thinc.types import Floats2d, Ints1d, Ragged

from .tok2vec import no_rows_output, token_vectors

# Candidates scored at once at prediction time.
PREDICT_BLOCK = 16384


@registry.architectures("spacy_scicls.SpanEntityScorer.v1")
def build_span_entity_scorer_v1(
    tok2vec: Model[List[Doc], List[Floats2d]],
    max_width: int = 8,
    span_width: int = 128,
    hidden_width: int = 128,
    dropout: float = 0.1,
    nO: Optional[int] = None,
) -> Model[Tuple[List[Doc], Ragged], Floats2d]:
    """Score candidate spans; output column 0 is "not an entity".

    The input is ``(docs, candidates)``: ``candidates.data`` holds one
    ``(start, end)`` token row per candidate span (end exclusive) and
    ``candidates.lengths`` the number of candidates of each doc.
    ``max_width`` is the widest span, in tokens, that can be represented.
    """
    if max_width < 1:
        raise ValueError(f"max_width must be at least 1, got {max_width}")
    projection = with_array(Linear(nO=3 * span_width))
    output_layer = Softmax(nO=nO)
    scorer = chain(Maxout(nO=hidden_width, nP=2, dropout=dropout, normalize=True), output_layer)
    return Model(
        "span_entity_scorer",
        _span_scorer_forward,
        init=_span_scorer_init,
        layers=[tok2vec, projection, scorer],
        refs={"tok2vec": tok2vec, "output_layer": output_layer},
        dims={"span_width": span_width},
        attrs={"max_width": max_width},
        params={"W_width": None},
    )


def _span_scorer_init(model: Model, X=None, Y=None) -> None:
    tok2vec, projection, scorer = model.layers
    span_width = model.get_dim("span_width")
    if not model.has_param("W_width") or model.get_param("W_width") is None:
        W = model.ops.asarray2f(
            model.ops.xp.random.normal(0.0, 0.1, (model.attrs["max_width"], span_width))
        )
        model.set_param("W_width", W)
    if X is None:
        scorer.initialize(Y=Y)
        return
    docs, candidates = X
    tok2vec.initialize(X=docs)
    Xs, _ = token_vectors(tok2vec, docs, is_train=False)
    projection.initialize(X=Xs)
    Ps = projection.predict(Xs)
    H, _ = _span_hidden(model, Ps, candidates)
    scorer.initialize(X=H, Y=Y)


def _global_indices(model: Model, Ps: List[Floats2d], candidates: Ragged) -> Tuple[Ints1d, Ints1d]:
    """Candidate starts and (exclusive) ends as rows of the stacked batch."""
    ops = model.ops
    xp = ops.xp
    doc_lengths = xp.asarray([P.shape[0] for P in Ps], dtype="int64")
    doc_offsets = xp.concatenate([xp.zeros(1, dtype="int64"), xp.cumsum(doc_lengths)[:-1]])
    per_candidate = xp.repeat(doc_offsets, xp.asarray(candidates.lengths, dtype="int64"))
    data = xp.asarray(candidates.data, dtype="int64").reshape(-1, 2)
    return data[:, 0] + per_candidate, data[:, 1] + per_candidate


def _span_parts(model: Model, Ps: List[Floats2d], candidates: Ragged):
    """The batch's start, end and content parts, prefix sums of the content
    part, and the candidates' global start and end rows and widths."""
    ops = model.ops
    xp = ops.xp
    h = model.get_dim("span_width")
    max_width = model.attrs["max_width"]
    P = ops.flatten(Ps) if Ps else ops.alloc2f(0, 3 * h)
    starts, ends = _global_indices(model, Ps, candidates)
    widths = ends - starts
    if widths.size and (int(widths.min()) < 1 or int(widths.max()) > max_width):
        raise ValueError(
            f"candidate spans must be 1 to {max_width} tokens wide; "
            f"got widths {int(widths.min())}..{int(widths.max())}"
        )
    S, E, M = P[:, :h], P[:, h : 2 * h], P[:, 2 * h :]
    prefix = xp.concatenate([ops.alloc2f(1, h), xp.cumsum(M, axis=0)], axis=0)
    return S, E, prefix, starts, ends, widths


def _hidden_rows(model: Model, S, E, prefix, starts, ends, widths) -> Floats2d:
    inv_width = (1.0 / widths.astype("float32"))[:, None]
    return S[starts] + E[ends - 1] + (prefix[ends] - prefix[starts]) * inv_width + model.get_param("W_width")[widths - 1]


def _predict_in_blocks(model: Model, Ps: List[Floats2d], candidates: Ragged, scorer: Model) -> Floats2d:
    """Scores of every candidate, PREDICT_BLOCK candidates at a time: peak
    memory is the token-level parts plus one block, however long the paper."""
    S, E, prefix, starts, ends, widths = _span_parts(model, Ps, candidates)
    blocks = []
    for i in range(0, len(starts), PREDICT_BLOCK):
        rows = slice(i, i + PREDICT_BLOCK)
        blocks.append(scorer.predict(_hidden_rows(model, S, E, prefix, starts[rows], ends[rows], widths[rows])))
    return model.ops.xp.concatenate(blocks)


def _span_hidden(model: Model, Ps: List[Floats2d], candidates: Ragged) -> Tuple[Floats2d, Callable]:
    ops = model.ops
    xp = ops.xp
    h = model.get_dim("span_width")
    max_width = model.attrs["max_width"]
    lengths = [P.shape[0] for P in Ps]
    n_rows = sum(lengths)
    S, E, prefix, starts, ends, widths = _span_parts(model, Ps, candidates)
    inv_width = (1.0 / widths.astype("float32"))[:, None]
    H = _hidden_rows(model, S, E, prefix, starts, ends, widths)

    def backprop(dH: Floats2d) -> List[Floats2d]:
        dW = ops.alloc2f(max_width, h)
        ops.scatter_add(dW, widths - 1, dH)
        model.inc_grad("W_width", dW)
        dS = ops.alloc2f(n_rows, h)
        dE = ops.alloc2f(n_rows, h)
        ops.scatter_add(dS, starts, dH)
        ops.scatter_add(dE, ends - 1, dH)
        # d(prefix[j]) flows to every M[m] with m < j: a reversed cumulative sum.
        d_prefix = ops.alloc2f(n_rows + 1, h)
        scaled = dH * inv_width
        ops.scatter_add(d_prefix, ends, scaled)
        ops.scatter_add(d_prefix, starts, -scaled)
        dM = xp.flip(xp.cumsum(xp.flip(d_prefix[1:], axis=0), axis=0), axis=0)
        dP = xp.concatenate([dS, dE, xp.ascontiguousarray(dM)], axis=1)
        return ops.unflatten(dP, lengths) if lengths else []

    return H, backprop


def _span_scorer_forward(
    model: Model, inputs: Tuple[List[Doc], Ragged], is_train: bool
) -> Tuple[Floats2d, Callable]:
    docs, candidates = inputs
    tok2vec, projection, scorer = model.layers
    Xs, backprop_tok2vec = token_vectors(tok2vec, docs, is_train)
    Ps, backprop_projection = projection(Xs, is_train)
    if candidates.data.shape[0] == 0:
        return no_rows_output(model, Xs, backprop_tok2vec)
    if not is_train:
        return _predict_in_blocks(model, Ps, candidates, scorer), lambda dY: []
    H, backprop_hidden = _span_hidden(model, Ps, candidates)
    Y, backprop_scorer = scorer(H, is_train)

    def backprop(dY: Floats2d) -> List[Doc]:
        return backprop_tok2vec(backprop_projection(backprop_hidden(backprop_scorer(dY))))

    return Y, backprop
