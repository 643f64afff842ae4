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
from thinc.api import Linear, Maxout, Model, chain, with_array
from thinc.types import Floats2d, Ints1d, Ragged

from ..encoder_inference import return_free_memory
from . import fast_predict
from .tok2vec import no_rows_output, token_vectors

# Candidates scored at once at prediction time.
PREDICT_BLOCK = 16384
# Tokens that go through the token-level stack at once at prediction (see
# ``_span_scorer_v2_predict``): a paper of some 9 pages, or a batch of short
# docs of that many tokens together, in one piece; the 300-page PDF of
# benchmarks/pdf_reader.py (117k tokens) in 29 chunks. The stack's working
# memory is about 10 KB a token, some 40 MB for a chunk.
PREDICT_CHUNK_TOKENS = 4096


def _global_indices(model: Model, doc_lengths: List[int], candidates: Ragged) -> Tuple[Ints1d, Ints1d]:
    """Candidate starts and (exclusive) ends as rows of the stacked batch
    whose docs have ``doc_lengths`` tokens."""
    ops = model.ops
    xp = ops.xp
    doc_lengths = xp.asarray(doc_lengths, dtype="int64")
    doc_offsets = xp.concatenate([xp.zeros(1, dtype="int64"), xp.cumsum(doc_lengths)[:-1]])
    per_candidate = xp.repeat(doc_offsets, xp.asarray(candidates.lengths, dtype="int64"))
    data = xp.asarray(candidates.data, dtype="int64").reshape(-1, 2)
    return data[:, 0] + per_candidate, data[:, 1] + per_candidate


def _checked_widths(model: Model, starts, ends):
    """The candidates' widths, which must be 1 to ``max_width`` tokens."""
    widths = ends - starts
    max_width = model.attrs["max_width"]
    if widths.size and (int(widths.min()) < 1 or int(widths.max()) > max_width):
        raise ValueError(
            f"candidate spans must be 1 to {max_width} tokens wide; "
            f"got widths {int(widths.min())}..{int(widths.max())}"
        )
    return widths


def _token_parts(model: Model, P: Floats2d):
    """The start, end and content parts of the batch's flattened projection ``P``
    (its first ``3 * span_width`` columns), and prefix sums of the content part."""
    ops = model.ops
    h = model.get_dim("span_width")
    prefix = ops.xp.concatenate([ops.alloc2f(1, h), ops.xp.cumsum(P[:, 2 * h : 3 * h], axis=0)], axis=0)
    return P[:, :h], P[:, h : 2 * h], prefix


def _span_parts(model: Model, Ps: List[Floats2d], candidates: Ragged):
    """The batch's start, end and content parts, prefix sums of the content
    part, and the candidates' global start and end rows and widths."""
    ops = model.ops
    P = ops.flatten(Ps) if Ps else ops.alloc2f(0, 3 * model.get_dim("span_width"))
    starts, ends = _global_indices(model, [P.shape[0] for P in Ps], candidates)
    widths = _checked_widths(model, starts, ends)
    S, E, prefix = _token_parts(model, P)
    return S, E, prefix, starts, ends, widths


def _hidden_rows(model: Model, S, E, prefix, starts, ends, widths) -> Floats2d:
    inv_width = (1.0 / widths.astype("float32"))[:, None]
    return S[starts] + E[ends - 1] + (prefix[ends] - prefix[starts]) * inv_width + model.get_param("W_width")[widths - 1]


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


@registry.architectures("spacy_scicls.SpanEntityScorer.v2")
def build_span_entity_scorer_v2(
    tok2vec: Model[List[Doc], List[Floats2d]],
    max_width: int = 8,
    span_width: int = 64,
    hidden_width: int = 64,
    dropout: float = 0.1,
    normalize: bool = False,
    prune_ratio: float = 0.5,
    context_width: int = 0,
    context_depth: int = 0,
    nO: Optional[int] = None,
    context_window: int = 1,
    input_dropout: float = 0.0,
    features: Optional[Model[List[Doc], List[Floats2d]]] = None,
) -> Model[Tuple[List[Doc], Ragged], Floats2d]:
    """Score candidate spans; output column 0 is "not an entity", and one
    more last column holds the first stage's entity probability.

    The input is ``(docs, candidates)``: ``candidates.data`` holds one
    ``(start, end)`` token row per candidate span (end exclusive) and
    ``candidates.lengths`` the number of candidates of each doc.
    ``max_width`` is the widest span, in tokens, that can be represented.
    A span is represented as the module says, then scored by a Maxout layer.

    With ``context_depth > 0``, the shared token vectors are first reduced to
    ``context_width`` and passed through that many residual convolution
    layers (a Maxout over each token and its ``context_window`` neighbours on
    each side), which the head trains: each token then also sees its
    neighbours, at a cost per token, not per candidate.

    ``input_dropout`` zeroes that share of the shared token vectors' values
    in training (scaled up to keep their expected value), a regulariser for a
    head that trains on a frozen encoder's output; it does nothing at
    prediction. It has its own rate: the training step's ``drop`` does not
    change it.

    ``features``, when given, is a small embedding of each token's own form
    (e.g. ``spacy.MultiHashEmbed.v2`` over NORM, PREFIX, SUFFIX and SHAPE),
    trained with the head and concatenated to the shared token vectors: the
    default encoder is uncased and splits rare words into wordpieces, so
    case, digits and affixes reach the head only this way. It costs a few
    hash lookups per token.

    Each token also gets a start and an end score (two more columns of the
    same projection); a candidate's first-stage score is its start token's
    start score plus its last token's end score plus a learned width bias.
    The score is added to every entity label's logit, and it is also trained
    on its own to tell entities from non-entities: the model's output has one
    more column than labels + 1, the first stage's probability that the
    candidate is an entity (sigmoid of the score), for which the component
    computes a binary cross-entropy. At prediction only the
    ``prune_ratio * n_tokens`` best candidates of each doc go on to the
    Maxout scorer; the others are "not an entity". ``prune_ratio = 0``
    scores every candidate. ``normalize`` puts a layer norm in the Maxout.
    """
    if max_width < 1:
        raise ValueError(f"max_width must be at least 1, got {max_width}")
    if prune_ratio < 0:
        raise ValueError(f"prune_ratio must be 0 (no pruning) or positive, got {prune_ratio}")
    if not 0.0 <= input_dropout < 1.0:
        raise ValueError(f"input_dropout must be within [0, 1), got {input_dropout}")
    if context_depth > 0 and context_window < 1:
        raise ValueError(f"context_window must be at least 1, got {context_window}")
    if context_depth > 0:
        if context_width < 1:
            raise ValueError(f"context_width must be positive when context_depth is, got {context_width}")
        encoder = registry.get("architectures", "spacy.MaxoutWindowEncoder.v2")(
            width=context_width, window_size=context_window, maxout_pieces=3, depth=context_depth
        )
        projection = with_array(
            chain(Linear(nO=context_width), encoder, Linear(nO=3 * span_width + 2)),
            pad=context_depth * context_window,
        )
    else:
        projection = with_array(Linear(nO=3 * span_width + 2))
    output_layer = Linear(nO=nO)
    scorer = chain(Maxout(nO=hidden_width, nP=2, dropout=dropout, normalize=normalize), output_layer)
    refs = {"tok2vec": tok2vec, "output_layer": output_layer}
    if features is not None:
        refs["features"] = features
    return Model(
        "span_entity_scorer_v2",
        _span_scorer_v2_forward,
        init=_span_scorer_v2_init,
        layers=[tok2vec, projection, scorer] + ([features] if features is not None else []),
        refs=refs,
        dims={"span_width": span_width},
        attrs={
            "max_width": max_width,
            "prune_ratio": float(prune_ratio),
            "first_stage_column": True,
            "input_dropout": float(input_dropout),
        },
        params={"W_width": None, "b_width": None},
    )


def _span_scorer_v2_init(model: Model, X=None, Y=None) -> None:
    tok2vec, projection, scorer = model.layers[:3]
    if not model.has_param("W_width") or model.get_param("W_width") is None:
        W = model.ops.xp.random.normal(0.0, 0.1, (model.attrs["max_width"], model.get_dim("span_width")))
        model.set_param("W_width", model.ops.asarray2f(W))
    if not model.has_param("b_width") or model.get_param("b_width") is None:
        model.set_param("b_width", model.ops.alloc1f(model.attrs["max_width"]))
    if X is None:
        scorer.initialize(Y=Y)
        return
    docs, candidates = X
    tok2vec.initialize(X=docs)
    if model.has_ref("features"):
        model.get_ref("features").initialize(X=docs)
    Xs, _ = _head_inputs(model, docs, is_train=False)
    projection.initialize(X=Xs)
    parts, _ = _split_projection(model, projection.predict(Xs))
    H, _ = _span_hidden(model, parts, candidates)
    scorer.initialize(X=H, Y=Y)


def _head_inputs(model: Model, docs: List[Doc], is_train: bool) -> Tuple[List[Floats2d], Callable]:
    """The shared token vectors, with the head's own token features appended
    when it has them."""
    tok2vec = model.layers[0]
    Xs, backprop_tok2vec = token_vectors(tok2vec, docs, is_train)
    if not model.has_ref("features"):
        return Xs, backprop_tok2vec
    features = model.get_ref("features")
    ops = model.ops
    Fs, backprop_features = features(docs, is_train)
    Fs = _fit_features(model, Fs, Xs)
    n_x = Xs[0].shape[1] if Xs else 0
    joined = [ops.xp.hstack([X, F]) for X, F in zip(Xs, Fs)]

    def backprop(dJs: List[Floats2d]):
        backprop_features([ops.xp.ascontiguousarray(dJ[:, n_x:]) for dJ in dJs])
        return backprop_tok2vec([ops.xp.ascontiguousarray(dJ[:, :n_x]) for dJ in dJs])

    return joined, backprop


def _fit_features(model: Model, Fs: List[Floats2d], Xs: List[Floats2d]) -> List[Floats2d]:
    """The head's token features, an all-zero ``(n_tokens, width)`` array for
    a doc that got none of the right shape (an empty doc)."""
    width = model.get_ref("features").get_dim("nO")
    return [F if F.shape[0] == X.shape[0] and F.ndim == 2 else model.ops.alloc2f(X.shape[0], width) for F, X in zip(Fs, Xs)]


def _token_features(model: Model, docs: List[Doc], Xs: List[Floats2d]) -> Optional[List[Floats2d]]:
    """The head's own token features at prediction (None: it has none)."""
    if not model.has_ref("features"):
        return None
    return _fit_features(model, model.get_ref("features").predict(docs), Xs)


def _with_features(model: Model, docs: List[Doc], Xs: List[Floats2d]) -> List[Floats2d]:
    """The token vectors at prediction, with the head's token features appended when it has them."""
    Fs = _token_features(model, docs, Xs)
    return Xs if Fs is None else [model.ops.xp.hstack([X, F]) for X, F in zip(Xs, Fs)]


def _feature_dropout(model: Model, Xs: List[Floats2d], backprop_tok2vec: Callable, rate: float):
    """Inverted dropout on the token vectors (training only)."""
    masks = [model.ops.get_dropout_mask(X.shape, rate) for X in Xs]

    def backprop(dXs: List[Floats2d]):
        return backprop_tok2vec([dX * mask for dX, mask in zip(dXs, masks)])

    return [X * mask for X, mask in zip(Xs, masks)], backprop


def _split_projection(model: Model, Ps: List[Floats2d]) -> Tuple[List[Floats2d], Floats2d]:
    """The span parts (start, end, content) and the ``(n_rows, 2)`` start/end scores."""
    h3 = 3 * model.get_dim("span_width")
    ops = model.ops
    parts = [P[:, :h3] for P in Ps]
    scores = ops.flatten([P[:, h3:] for P in Ps]) if Ps else ops.alloc2f(0, 2)
    return parts, scores


def _sigmoid(xp, x):
    return 1.0 / (1.0 + xp.exp(-xp.clip(x, -30.0, 30.0)))


def _softmax(xp, logits: Floats2d) -> Floats2d:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = xp.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def _keep_best(xp, first: "numpy.ndarray", lengths, doc_lengths, ratio: float):
    """Rows of the candidates kept by the first stage: each doc's
    ``ceil(ratio * n_tokens)`` best (all of them when it has fewer)."""
    keep, offset = [], 0
    for n_candidates, n_tokens in zip(lengths, doc_lengths):
        k = int(-(-ratio * n_tokens // 1))
        doc_scores = first[offset : offset + n_candidates]
        if k >= n_candidates:
            keep.append(xp.arange(offset, offset + n_candidates))
        elif k > 0:
            best = xp.argpartition(-doc_scores, k - 1)[:k]
            keep.append(xp.sort(best) + offset)
        offset += n_candidates
    return xp.concatenate(keep) if keep else xp.zeros(0, dtype="int64")


def _predict_kept(model: Model, P: Floats2d, starts, ends, scorer: Model) -> Floats2d:
    """Logits of the kept candidates (global rows of the batch's flattened
    projection ``P``), PREDICT_BLOCK at a time."""
    return _logits(model, _token_parts(model, P), starts, ends, scorer)


def _logits(model: Model, parts, starts, ends, scorer: Model) -> Floats2d:
    """Logits of the candidates ``(starts, ends)``, rows of the token parts
    ``parts`` (start, end, content prefix sums), PREDICT_BLOCK at a time."""
    S, E, prefix = parts
    widths = ends - starts
    blocks = []
    for i in range(0, len(starts), PREDICT_BLOCK):
        rows = slice(i, i + PREDICT_BLOCK)
        blocks.append(fast_predict.predict(scorer, _hidden_rows(model, S, E, prefix, starts[rows], ends[rows], widths[rows])))
    return model.ops.xp.concatenate(blocks)


def _span_scorer_v2_forward(
    model: Model, inputs: Tuple[List[Doc], Ragged], is_train: bool
) -> Tuple[Floats2d, Callable]:
    docs, candidates = inputs
    if not is_train:
        return _span_scorer_v2_predict(model, docs, candidates), lambda dY: []
    tok2vec, projection, scorer = model.layers[:3]
    ops = model.ops
    xp = ops.xp
    Xs, backprop_tok2vec = _head_inputs(model, docs, is_train)
    if model.attrs.get("input_dropout", 0.0) > 0 and Xs:
        Xs, backprop_tok2vec = _feature_dropout(model, Xs, backprop_tok2vec, model.attrs["input_dropout"])
    Ps, backprop_projection = projection(Xs, is_train)
    if candidates.data.shape[0] == 0:
        Y, backprop_empty = no_rows_output(model, Xs, backprop_tok2vec)
        return ops.alloc2f(0, Y.shape[1] + 1), backprop_empty
    parts, token_scores = _split_projection(model, Ps)
    starts, ends = _global_indices(model, [P.shape[0] for P in parts], candidates)
    widths = _checked_widths(model, starts, ends)
    b_width = model.get_param("b_width")
    first = token_scores[starts, 0] + token_scores[ends - 1, 1] + b_width[widths - 1]
    n_out = model.get_ref("output_layer").get_dim("nO")
    H, backprop_hidden = _span_hidden(model, parts, candidates)
    logits, backprop_scorer = scorer(H, is_train)
    logits = logits.copy()
    logits[:, 1:] += first[:, None]
    probs = xp.concatenate([_softmax(xp, logits), _sigmoid(xp, first)[:, None]], axis=1)

    def backprop(dY: Floats2d) -> List[Doc]:
        # dY is the loss's gradient with respect to the logits (cross-entropy
        # after a softmax, binary cross-entropy after the first stage's
        # sigmoid), as thinc's Softmax layer takes it.
        d_first = dY[:, 1:n_out].sum(axis=1) + dY[:, n_out]
        dY = xp.ascontiguousarray(dY[:, :n_out])
        d_scores = ops.alloc2f(token_scores.shape[0], 2)
        xp.add.at(d_scores[:, 0], starts, d_first)
        xp.add.at(d_scores[:, 1], ends - 1, d_first)
        d_b = ops.alloc1f(model.attrs["max_width"])
        xp.add.at(d_b, widths - 1, d_first)
        model.inc_grad("b_width", d_b)
        d_parts = backprop_hidden(backprop_scorer(dY))
        d_Ps, offset = [], 0
        for d_part in d_parts:
            n = d_part.shape[0]
            d_Ps.append(xp.concatenate([d_part, d_scores[offset : offset + n]], axis=1))
            offset += n
        return backprop_tok2vec(backprop_projection(d_Ps))

    return probs, backprop


def _span_scorer_v2_predict(model: Model, docs: List[Doc], candidates: Ragged) -> Floats2d:
    """The model's output at prediction, as the training forward pass gives it
    (without dropout), in memory bounded by ``PREDICT_CHUNK_TOKENS``.

    The batch is cut into groups of consecutive docs of at most that many
    tokens together, each scored as one piece (``_predict_group``); a doc
    longer than that is scored chunk by chunk (``_predict_long_doc``). A
    batch of 32 papers of 12k tokens is then never one array of 384k tokens
    in the stack, and a 300-page paper never holds the stack's output for all
    its tokens.
    """
    ops = model.ops
    n_out = model.get_ref("output_layer").get_dim("nO")
    if candidates.data.shape[0] == 0:
        return ops.alloc2f(0, n_out + 1)
    Xs, _ = token_vectors(model.layers[0], docs, is_train=False)
    doc_lengths = [X.shape[0] for X in Xs]
    n_candidates = [int(n) for n in candidates.lengths]
    data = candidates.data.reshape(-1, 2)
    chunk_tokens = PREDICT_CHUNK_TOKENS
    groups = _doc_groups(doc_lengths, chunk_tokens)

    def is_long(group: List[int]) -> bool:
        return len(group) == 1 and 0 < chunk_tokens < doc_lengths[group[0]]

    if len(groups) == 1 and not is_long(groups[0]):
        return _predict_group(model, docs, Xs, candidates)
    probs = ops.alloc2f(data.shape[0], n_out + 1)
    offsets = [0]
    for n in n_candidates:
        offsets.append(offsets[-1] + n)
    for group in groups:
        a, b = offsets[group[0]], offsets[group[-1] + 1]
        if a == b:
            continue  # no candidate in these docs
        if is_long(group):
            i = group[0]
            _predict_long_doc(model, docs[i], Xs[i], data[a:b], probs[a:b], chunk_tokens)
        else:
            lengths = ops.asarray1i([n_candidates[i] for i in group])
            group_candidates = Ragged(data[a:b], lengths)
            probs[a:b] = _predict_group(model, [docs[i] for i in group], [Xs[i] for i in group], group_candidates)
    return probs


def _doc_groups(doc_lengths: List[int], chunk_tokens: int) -> List[List[int]]:
    """Consecutive docs of at most ``chunk_tokens`` tokens together (a longer
    doc alone); ``chunk_tokens < 1``: the whole batch as one group."""
    if chunk_tokens < 1:
        return [list(range(len(doc_lengths)))]
    groups: List[List[int]] = []
    total = 0
    for i, n in enumerate(doc_lengths):
        if not groups or total + n > chunk_tokens:
            groups.append([])
            total = 0
        groups[-1].append(i)
        total += n
    return groups


def _predict_group(model: Model, docs: List[Doc], Xs: List[Floats2d], candidates: Ragged) -> Floats2d:
    """The output for a group of docs as one piece: the token-level stack over
    every token, then the first stage over every candidate, then the scorer
    over the candidates it keeps."""
    ops = model.ops
    xp = ops.xp
    n_out = model.get_ref("output_layer").get_dim("nO")
    doc_lengths = [X.shape[0] for X in Xs]
    # The token-level stack runs over every token of a paper: the numpy path
    # (same weights) instead of thinc's layer-by-layer prediction.
    Ps = fast_predict.predict(model.layers[1], _with_features(model, docs, Xs))
    P_flat = Ps[0] if len(Ps) == 1 else ops.flatten(Ps)  # flattened once
    token_scores = P_flat[:, 3 * model.get_dim("span_width") :]
    starts, ends = _global_indices(model, doc_lengths, candidates)
    widths = _checked_widths(model, starts, ends)
    first = token_scores[starts, 0] + token_scores[ends - 1, 1] + model.get_param("b_width")[widths - 1]
    ratio = model.attrs["prune_ratio"]
    if ratio > 0:
        rows = _keep_best(xp, first, [int(n) for n in candidates.lengths], doc_lengths, ratio)
    else:
        rows = xp.arange(len(starts))
    probs = ops.alloc2f(len(starts), n_out + 1)
    probs[:, 0] = 1.0
    probs[:, n_out] = _sigmoid(xp, first)
    if len(rows):
        logits = _predict_kept(model, P_flat, starts[rows], ends[rows], model.layers[2])
        logits[:, 1:] += first[rows][:, None]
        probs[rows, :n_out] = _softmax(xp, logits)
    return probs


def _stack_context(projection: Model) -> int:
    """Tokens on either side of a token that the token-level stack reads: the
    padding its ``with_array`` puts around a doc (``context_depth *
    context_window``; 0 for a stack of per-token layers)."""
    return int(projection.attrs.get("pad", 0))


def _predict_long_doc(model: Model, doc: Doc, X: Floats2d, spans, probs: Floats2d, chunk_tokens: int) -> None:
    """Fill ``probs`` (one row per candidate ``(start, end)`` of ``spans``, a
    doc's own token rows) for a doc longer than ``chunk_tokens`` tokens.

    The doc goes through the token-level stack ``chunk_tokens`` tokens at a
    time. A chunk takes the candidates that start in it, with the tokens they
    reach past its end (up to ``max_width - 1``) and, on either side, the
    context the stack's window layers read (``context_depth *
    context_window`` tokens, the padding of the stack's ``with_array``), so
    that every token's output is computed from the same neighbours as in one
    piece. Its candidates get their first-stage score and their label logits
    there and then. The first stage keeps the doc's best candidates, which
    needs every candidate's score; rather than keep the stack's output for
    the whole doc (386 floats a token) until then, every candidate is scored,
    and the logits wait in ``probs`` (its own rows) until the pruning picks
    which become probabilities. Nothing the size of the doc is held but the
    candidates' scores: the extra work is the scorer over the pruned
    candidates too, a fraction of the stack's.
    """
    ops = model.ops
    xp = ops.xp
    h = model.get_dim("span_width")
    n_out = model.get_ref("output_layer").get_dim("nO")
    n = X.shape[0]
    projection, scorer = model.layers[1], model.layers[2]
    context = _stack_context(projection)
    b_width = model.get_param("b_width")
    starts, ends = spans[:, 0], spans[:, 1]
    widths = _checked_widths(model, starts, ends)
    # Candidates in order of their start, to find a chunk's by bisection
    # (candidate_spans gives them in that order already: a chunk's are then
    # a slice of the doc's).
    order = None if bool((starts[1:] >= starts[:-1]).all()) else xp.argsort(starts, kind="stable")
    sorted_starts = starts if order is None else starts[order]
    first = ops.alloc1f(len(starts))
    # The content part's prefix sum over the tokens before the chunk: each
    # chunk continues the sum where the last one stopped, adding row after
    # row as one cumulative sum over the doc does (float32 sums depend on the
    # order they are made in).
    carry = ops.alloc2f(1, h)
    for a in range(0, n, chunk_tokens):
        b = min(a + chunk_tokens, n)
        rows = slice(int(xp.searchsorted(sorted_starts, a)), int(xp.searchsorted(sorted_starts, b)))
        if order is not None:
            rows = order[rows]
        n_rows = len(starts[rows])
        top = max(b, int(ends[rows].max())) if n_rows else b
        lo, hi = max(0, a - context), min(n, top + context)
        # The head's own token features too are computed for the chunk's
        # tokens only: from a copy of them as a Doc (the same token
        # attributes), which every feature layer reads.
        part = _with_features(model, [doc[lo:hi].as_doc()], [X[lo:hi]])[0]
        P = fast_predict.predict(projection, [part])[0][a - lo : top - lo]  # tokens a .. top
        prefix = xp.cumsum(xp.concatenate([carry, P[:, 2 * h : 3 * h]]), axis=0)
        carry = prefix[b - a : b - a + 1].copy()
        if not n_rows:
            continue
        s, e = starts[rows] - a, ends[rows] - a
        first[rows] = P[s, 3 * h] + P[e - 1, 3 * h + 1] + b_width[widths[rows] - 1]
        probs[rows, :n_out] = _logits(model, (P[:, :h], P[:, h : 2 * h], prefix), s, e, scorer)
        del P, prefix, part
        # A chunk's arrays (a few MB to a few tens of MB each) are freed here, but
        # glibc keeps such sizes in its heap, and the next chunk's, of other
        # sizes, do not all fit in the holes: without this the heap grows chunk
        # after chunk (encoder_inference does the same after each pass).
        return_free_memory()
    ratio = model.attrs["prune_ratio"]
    kept = xp.zeros(len(starts), dtype=bool)
    kept[_keep_best(xp, first, [len(starts)], [n], ratio) if ratio > 0 else slice(None)] = True
    for i in range(0, len(starts), PREDICT_BLOCK):
        block = slice(i, i + PREDICT_BLOCK)
        logits = probs[block, :n_out]
        logits[:, 1:] += first[block][:, None]
        block_probs = _softmax(xp, logits)
        # A candidate the first stage drops is "not an entity", as in one piece.
        dropped = ~kept[block]
        block_probs[dropped] = 0.0
        block_probs[dropped, 0] = 1.0
        probs[block, :n_out] = block_probs
    probs[:, n_out] = _sigmoid(xp, first)
