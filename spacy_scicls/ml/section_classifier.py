"""Section classifier: a section's IMRaD role from its heading and its content."""
from typing import Callable, List, Optional, Tuple

from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Linear, Maxout, Model, Softmax, chain, concatenate
from thinc.types import Floats2d, Ragged

from .tok2vec import no_rows_output, token_vectors

# Columns of the span index array given to the model, one row per section:
# its token start and end, where its heading ends, and its depth.
START, END, HEADING_END, LEVEL = 0, 1, 2, 3


def _classify_sections(
    model: Model, inputs: Tuple[List[Doc], Ragged], is_train: bool, features: Callable
) -> Tuple[Floats2d, Callable]:
    """Every version's forward pass: token vectors, the version's section
    ``features``, then the classifier; no sections, no rows."""
    docs, spans = inputs
    tok2vec, classifier = model.layers
    Xs, backprop_tok2vec = token_vectors(tok2vec, docs, is_train)
    if spans.data.shape[0] == 0:
        return no_rows_output(model, Xs, backprop_tok2vec)
    F, backprop_features = features(model, Xs, spans)
    Y, backprop_classifier = classifier(F, is_train)

    def backprop(dY: Floats2d) -> List[Doc]:
        return backprop_tok2vec(backprop_features(backprop_classifier(dY)))

    return Y, backprop


def _initialize_sections(model: Model, X, Y, features: Callable) -> None:
    """Every version's initialization: the classifier is sized from the features of sample sections."""
    tok2vec, classifier = model.layers
    if X is None:
        classifier.initialize(Y=Y)
        return
    docs, spans = X
    tok2vec.initialize(X=docs)
    Xs, _ = token_vectors(tok2vec, docs, is_train=False)
    F, _ = features(model, Xs, spans)
    classifier.initialize(X=F, Y=Y)


# -- v2: whole-section content, paper context and position ----------------
#: Position cues of :func:`compose_section_features` (one column each).
POSITION_FEATURES = (
    "rel_index", "rel_top_index", "first", "last", "top_level", "has_heading", "before_third", "after_two_thirds",
    "n_sections",
)


@registry.architectures("spacy_scicls.SectionClassifier.v2")
def build_section_classifier_v2(
    tok2vec: Model[List[Doc], List[Floats2d]],
    hidden_width: int = 64,
    dropout: float = 0.2,
    content_tokens: int = 128,
    nO: Optional[int] = None,
) -> Model[Tuple[List[Doc], Ragged], Floats2d]:
    """Classify section spans into IMRaD roles from what the heading says,
    what the content says, what the paper is about and where the section sits.

    The input is ``(docs, spans)``: ``spans.data`` holds one row per section
    with its token ``start``, ``end``, ``heading_end`` (the heading is
    ``[start, heading_end)``, empty when the section has none) and depth (1
    for a top-level section), ``spans.lengths`` the number of sections of
    each doc. Per section the classifier reads
    (:func:`compose_section_features`): the mean of its heading's vectors
    (zero without a heading), the mean of its first ``content_tokens``
    content vectors after the heading (0: all of them), that content vector
    minus the mean content vector of the paper's sections (what sets the
    section apart from the rest of the paper, rather than the paper's
    topic), the content vectors of the sections before and after it, and
    position cues counted in sections, not tokens (so that they
    are the same whether a section is read whole or cut): its relative
    index among the paper's sections and among the top-level ones, first,
    last, top level or not, whether it has a heading.
    """
    output_layer = Softmax(nO=nO)
    model = Model(
        "section_classifier_v2",
        _section_classifier_v2_forward,
        layers=[tok2vec, chain(Maxout(nO=hidden_width, nP=2, dropout=dropout, normalize=True), output_layer)],
        refs={"tok2vec": tok2vec, "output_layer": output_layer},
        attrs={"content_tokens": int(content_tokens)},
        init=_section_classifier_v2_init,
    )
    return model


def pool_sections(Xs: List[Floats2d], rows, lengths, content_tokens: int):
    """Per section: ``(heading mean, content mean, content length, doc index)``
    arrays and the token ranges they were pooled over (for the backward pass)."""
    import numpy

    width = max((X.shape[1] for X in Xs), default=0)
    n_rows = rows.shape[0]
    H = numpy.zeros((n_rows, width), dtype="float32")
    C = numpy.zeros((n_rows, width), dtype="float32")
    owners = numpy.zeros((n_rows,), dtype="int32")
    ranges = []
    row = 0
    for doc_i, n_spans in enumerate(lengths):
        X = Xs[doc_i]
        for _ in range(int(n_spans)):
            start, end, heading_end = (int(v) for v in rows[row][:3])
            body_start = heading_end if end > heading_end else start
            body_end = end if content_tokens <= 0 else min(end, body_start + content_tokens)
            if heading_end > start:
                H[row] = X[start:heading_end].mean(axis=0)
            if body_end > body_start:
                C[row] = X[body_start:body_end].mean(axis=0)
            owners[row] = doc_i
            ranges.append((start, heading_end, body_start, body_end))
            row += 1
    return H, C, owners, ranges


def compose_section_features(H, C, owners, levels, has_heading):
    """The classifier's input rows from pooled vectors: ``[heading, content,
    content - paper mean, position cues, previous section's content, next
    section's content]``; ``owners`` gives each section's paper, ``levels``
    its depth, in reading order within each paper."""
    import numpy

    n_rows, width = C.shape
    P = numpy.zeros((n_rows, len(POSITION_FEATURES)), dtype="float32")
    D = numpy.zeros_like(C)
    before = numpy.zeros_like(C)
    after = numpy.zeros_like(C)
    for doc_i in numpy.unique(owners):
        idx = numpy.flatnonzero(owners == doc_i)
        D[idx] = C[idx] - C[idx].mean(axis=0)
        before[idx[1:]] = C[idx[:-1]]
        after[idx[:-1]] = C[idx[1:]]
        n = len(idx)
        top = [k for k, i in enumerate(idx) if levels[i] <= 1]
        top_rank = []
        current = 0
        for k in range(n):
            if k in top:
                current = top.index(k)
            top_rank.append(current)
        n_top = max(len(top), 1)
        for k, i in enumerate(idx):
            rel = k / (n - 1) if n > 1 else 0.0
            rel_top = top_rank[k] / (n_top - 1) if n_top > 1 else 0.0
            P[i] = [rel, rel_top, float(k == 0), float(k == n - 1), float(levels[i] <= 1), float(has_heading[i]),
                    float(rel_top < 1 / 3), float(rel_top > 2 / 3), min(n, 40) / 40.0]
    return numpy.hstack([H, C, D, P, before, after]).astype("float32")


def _section_features_v2(model: Model, Xs: List[Floats2d], spans: Ragged) -> Tuple[Floats2d, Callable]:
    import numpy

    ops = model.ops
    rows = ops.to_numpy(spans.data)
    lengths = ops.to_numpy(spans.lengths)
    width = max((X.shape[1] for X in Xs), default=0)
    Xs_np = [ops.to_numpy(X) for X in Xs]
    H, C, owners, ranges = pool_sections(Xs_np, rows, lengths, model.attrs["content_tokens"])
    levels = rows[:, 3] if rows.shape[1] > 3 else numpy.ones((rows.shape[0],), dtype="int32")
    has_heading = numpy.asarray([r[1] > r[0] for r in ranges], dtype="float32")
    F = ops.asarray2f(compose_section_features(H, C, owners, levels, has_heading))

    def backprop(dF: Floats2d) -> List[Floats2d]:
        dF = ops.to_numpy(dF)
        dH, dC, dD = dF[:, :width], dF[:, width : 2 * width], dF[:, 2 * width : 3 * width]
        # D = C - mean over the paper's C: its gradient reaches C.
        end_p = 3 * width + len(POSITION_FEATURES)
        d_before, d_after = dF[:, end_p : end_p + width], dF[:, end_p + width : end_p + 2 * width]
        dC = dC + dD
        for doc_i in numpy.unique(owners):
            idx = numpy.flatnonzero(owners == doc_i)
            dC[idx] -= dD[idx].mean(axis=0)
            # each section's content is also its neighbours' "before" and "after"
            dC[idx[:-1]] += d_before[idx[1:]]
            dC[idx[1:]] += d_after[idx[:-1]]
        dXs = [numpy.zeros(X.shape, dtype="float32") for X in Xs_np]
        for i, (start, heading_end, body_start, body_end) in enumerate(ranges):
            dX = dXs[owners[i]]
            if heading_end > start:
                dX[start:heading_end] += dH[i] / (heading_end - start)
            if body_end > body_start:
                dX[body_start:body_end] += dC[i] / (body_end - body_start)
        return [ops.asarray2f(dX) for dX in dXs]

    return F, backprop


def _section_classifier_v2_forward(
    model: Model, inputs: Tuple[List[Doc], Ragged], is_train: bool
) -> Tuple[Floats2d, Callable]:
    return _classify_sections(model, inputs, is_train, _section_features_v2)


def _section_classifier_v2_init(model: Model, X=None, Y=None) -> None:
    _initialize_sections(model, X, Y, _section_features_v2)


# -- v3: v2 and the section's words, length and place in tokens -----------
@registry.architectures("spacy_scicls.SectionClassifier.v3")
def build_section_classifier_v3(
    tok2vec: Model[List[Doc], List[Floats2d]],
    hidden_width: int = 64,
    dropout: float = 0.2,
    content_tokens: int = 128,
    words_tokens: int = 0,
    word_buckets: int = 4096,
    ngram_size: int = 2,
    words_width: int = 8,
    nO: Optional[int] = None,
) -> Model[Tuple[List[Doc], Ragged], Floats2d]:
    """v2's classifier with a lexical part beside it, like spaCy's
    ``TextCatBOW`` beside a neural text classifier.

    Per section it reads v2's features (:func:`compose_section_features`),
    the section's length and place counted in tokens
    (:data:`spacy_scicls.ml.section_words.LENGTH_FEATURES`), and the words
    (and, with ``ngram_size`` 2, word pairs) of its content hashed into
    ``word_buckets`` columns (:func:`spacy_scicls.ml.section_words.bag_of_words`).
    The dense features go through v2's maxout layer, the words through a
    linear layer of ``words_width`` outputs, and a softmax layer reads both.
    ``content_tokens`` (0: the whole section) caps the content the vectors
    are pooled over, as in v2; ``words_tokens`` (0: the whole section) caps
    the content the words are read from and whose length is counted. Words
    and lengths cost no encoder pass at training time, so they can read the
    whole section while the pooled vectors are cached for its first tokens.
    """
    n_words = int(word_buckets)
    classifier, output_layer = _dense_beside_words(n_words, hidden_width, dropout, words_width, nO)
    forward, init = _reading_docs(_section_features_v3)
    return Model(
        "section_classifier_v3",
        forward,
        layers=[tok2vec, classifier],
        refs={"tok2vec": tok2vec, "output_layer": output_layer},
        attrs={"content_tokens": int(content_tokens), "words_tokens": int(words_tokens), "word_buckets": n_words,
               "ngram_size": int(ngram_size)},
        init=init,
    )


def _dense_beside_words(n_words: int, hidden_width: int, dropout: float, words_width: int, nO: Optional[int]):
    """v3's classifier over its feature rows, and its output layer: the dense columns
    through a maxout layer, the last ``n_words`` (hashed words) through a linear layer, one softmax
    over both."""
    dense = chain(_columns(0, -n_words), Maxout(nO=hidden_width, nP=2, dropout=dropout, normalize=True))
    words = chain(_columns(-n_words, None), Linear(nO=words_width))
    output_layer = Softmax(nO=nO)
    return chain(concatenate(dense, words), output_layer), output_layer


def _reading_docs(features: Callable) -> Tuple[Callable, Callable]:
    """The forward pass and initialization of a version whose section ``features`` also read the
    docs themselves (v3's words), not only their token vectors."""

    def forward(model: Model, inputs: Tuple[List[Doc], Ragged], is_train: bool) -> Tuple[Floats2d, Callable]:
        docs = inputs[0]
        return _classify_sections(model, inputs, is_train, lambda m, Xs, s: features(m, docs, Xs, s))

    def init(model: Model, X=None, Y=None) -> None:
        docs = X[0] if X is not None else []
        _initialize_sections(model, X, Y, lambda m, Xs, s: features(m, docs, Xs, s))

    return forward, init


def _columns(first: int, last: Optional[int]) -> Model[Floats2d, Floats2d]:
    """The columns ``[first:last]`` of the input (Python slice bounds)."""

    def forward(model: Model, X: Floats2d, is_train: bool) -> Tuple[Floats2d, Callable]:
        def backprop(dY: Floats2d) -> Floats2d:
            dX = model.ops.alloc2f(*X.shape)
            dX[:, first:last] = dY
            return dX

        return X[:, first:last], backprop

    return Model(f"columns_{first}_{last}", forward)


def v3_extra_features(docs: List[Doc], owners, ranges, word_buckets: int, ngram_size: int):
    """The columns v3 adds to v2's: length and place in tokens, then the hashed
    words of each section's content (``ranges`` as :func:`pool_sections` gives them)."""
    import numpy

    from .section_words import bag_of_words, length_features

    lengths = numpy.asarray([body_end - body_start for _, _, body_start, body_end in ranges])
    words = bag_of_words(docs, [(int(owners[i]), r[2], r[3]) for i, r in enumerate(ranges)], word_buckets, ngram_size)
    return numpy.hstack([length_features(owners, lengths), words]).astype("float32")


def _section_features_v3(model: Model, docs: List[Doc], Xs: List[Floats2d], spans: Ragged):
    import numpy

    ops = model.ops
    F2, backprop_v2 = _section_features_v2(model, Xs, spans)
    rows, lengths = ops.to_numpy(spans.data), ops.to_numpy(spans.lengths)
    # the sections' content ranges, capped at words_tokens (no token vectors are needed for them)
    _, _, owners, ranges = pool_sections([numpy.zeros((X.shape[0], 0), dtype="float32") for X in Xs], rows,
                                         lengths, model.attrs["words_tokens"])
    extra = v3_extra_features(docs, owners, ranges, model.attrs["word_buckets"], model.attrs["ngram_size"])
    n_dense = F2.shape[1]
    F = ops.asarray2f(numpy.hstack([ops.to_numpy(F2), extra]))

    def backprop(dF: Floats2d) -> List[Floats2d]:
        # the words, lengths and places do not depend on the token vectors
        return backprop_v2(dF[:, :n_dense])

    return F, backprop
