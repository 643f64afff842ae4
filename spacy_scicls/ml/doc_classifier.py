"""Document classifiers: pooled token vectors of what a document says it is about (title, abstract, introduction)."""
from typing import List, Optional

from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Linear, Logistic, Maxout, Model, Softmax, chain, zero_init
from thinc.types import Floats2d

from .tok2vec import token_vectors


# ---------------------------------------------------------------------------
# v2: read the title, abstract and introduction; pool mean, max and title mean
# ---------------------------------------------------------------------------

READ_SECTION_LABELS = ("abstract", "introduction")


def title_end(doc: Doc, max_title_tokens: int = 64, spans_key: str = "sections") -> int:
    """End of the title: the first line break, else ``max_title_tokens`` (or the doc's end).

    With sections in ``doc.spans["sections"]``, the text before the first
    section is the title (capped alike).
    """
    limit = min(len(doc), max_title_tokens)
    sections = doc.spans[spans_key] if spans_key in doc.spans else None
    if sections is not None and len(sections) and sections[0].start > 0:
        end = min(sections[0].start, limit)
        while end > 0 and doc[end - 1].is_space:
            end -= 1
        return end
    for token in doc[:limit]:
        if token.is_space and "\n" in token.text:
            return token.i
        if "\n" in token.whitespace_:
            return token.i + 1
    return limit


def reading_indices(
    doc: Doc, max_tokens: int, spans_key: str = "sections", max_title_tokens: int = 64
) -> "numpy.ndarray":
    """Token indices a category head reads, in order, at most ``max_tokens``.

    A doc with labelled sections is read as its title (the text before the
    first section), then its ``abstract`` and ``introduction`` sections; a
    doc without them (a bare abstract, a title alone, or a paper whose
    sections are not labelled) is read from its first ``max_tokens`` tokens.
    """
    import numpy

    sections = doc.spans.get(spans_key) if spans_key in doc.spans else None
    if sections:
        title = min(title_end(doc, max_title_tokens, spans_key), max_tokens)
        parts = [range(0, title)]
        wanted = [s for s in sections if s.label_ in READ_SECTION_LABELS]
        if wanted:
            # A section that starts at the doc's first token (a bare abstract
            # taken as one section) shares its first line with the title: read
            # each token once, so that such a doc reads exactly as without sections.
            parts.extend(range(max(s.start, title), s.end) for s in wanted)
            idx = numpy.fromiter((i for part in parts for i in part), dtype="int64")
            return idx[:max_tokens]
    return numpy.arange(min(len(doc), max_tokens), dtype="int64")


def _pool_one(xp, X, read, title, width):
    Y = xp.zeros((3 * width,), dtype="float32")
    which = None
    if len(read):
        front = X[read]
        which = front.argmax(axis=0)
        Y[:width] = front.mean(axis=0)
        Y[width:2 * width] = front[which, xp.arange(width)]
    if len(title):
        Y[2 * width:] = X[title].mean(axis=0)
    return Y, which


def pool_token_vectors(X, read, title, xp=None):
    """Pooled features of one doc from its token vectors ``X`` (the v2 head's input to its MLP)."""
    import numpy

    xp = xp or numpy
    return _pool_one(xp, xp.asarray(X, dtype="float32"), read, title, X.shape[1])[0]


def section_reading(
    tok2vec: Model[List[Doc], List[Floats2d]], max_tokens: int, max_title_tokens: int = 64,
    spans_key: str = "sections",
) -> Model[List[Doc], Floats2d]:
    """Docs -> one row per doc: mean and max of the tokens read, and the title's mean.

    What is read is :func:`reading_indices` (title, abstract, introduction or
    the first ``max_tokens`` tokens). A doc with no tokens gets a row of
    zeros, so that empty texts flow through like any other.
    """
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
    if max_title_tokens < 0:
        raise ValueError(f"max_title_tokens must be >= 0, got {max_title_tokens}")
    return Model(
        "section_reading",
        _section_reading_forward,
        init=_section_reading_init,
        layers=[tok2vec],
        attrs={"max_tokens": max_tokens, "max_title_tokens": max_title_tokens, "spans_key": spans_key},
    )


def _section_reading_init(model: Model, X=None, Y=None) -> None:
    model.layers[0].initialize(X=X)


def _section_reading_forward(model: Model, docs: List[Doc], is_train: bool):
    ops = model.ops
    xp = ops.xp
    Xs, backprop_tok2vec = token_vectors(model.layers[0], docs, is_train)
    width = max((X.shape[1] for X in Xs), default=0)
    Y = ops.alloc2f(len(docs), 3 * width)
    kept = []
    for i, (doc, X) in enumerate(zip(docs, Xs)):
        read = xp.asarray(
            reading_indices(doc, model.attrs["max_tokens"], model.attrs["spans_key"], model.attrs["max_title_tokens"])
        )
        title = xp.arange(title_end(doc, model.attrs["max_title_tokens"], model.attrs["spans_key"]))
        # Token vectors may be shorter than the doc (never longer); stay in range.
        read = read[read < X.shape[0]]
        title = title[title < X.shape[0]]
        Y[i], which = _pool_one(xp, X, read, title, width)
        kept.append((read, title, which))

    def backprop(dY: Floats2d) -> List[Floats2d]:
        dXs = []
        for i, X in enumerate(Xs):
            dX = ops.alloc2f(*X.shape)
            read, title, which = kept[i]
            if len(read):
                dX[read] += dY[i, :width] / len(read)
                dX[read[which], xp.arange(width)] += dY[i, width:2 * width]
            if len(title):
                dX[title] += dY[i, 2 * width:] / len(title)
            dXs.append(dX)
        return backprop_tok2vec(dXs)

    return Y, backprop


@registry.architectures("spacy_scicls.DocClassifier.v2")
def build_doc_classifier_v2(
    tok2vec: Model[List[Doc], List[Floats2d]],
    max_tokens: int = 256,
    max_title_tokens: int = 64,
    hidden_width: int = 512,
    dropout: float = 0.1,
    exclusive_classes: bool = False,
    nO: Optional[int] = None,
) -> Model[List[Doc], Floats2d]:
    """Read title, abstract and introduction; classify the pooled vectors.

    Differences from v1: with ``doc.spans["sections"]`` the head reads the
    title (text before the first section) and the sections labelled
    ``abstract`` and ``introduction`` instead of the first tokens of the whole
    paper; the title's mean vector is pooled besides the mean and max of all
    tokens read, so that a title is not drowned by a long abstract.

    The model is ``chain(reading, classifier)``: ``model.get_ref("reading")``
    maps docs to pooled rows and ``model.get_ref("classifier")`` maps those
    rows to probabilities, so a frozen encoder's pooled rows can be cached and
    the classifier trained on them alone (see ``spacy_scicls.training.frozen``).
    """
    if exclusive_classes:
        output_layer = Softmax(nO=nO)
    else:
        output_layer = chain(Linear(nO=nO), Logistic())
    reading = section_reading(tok2vec, max_tokens, max_title_tokens)
    classifier = chain(
        Maxout(nO=hidden_width, nP=2, dropout=dropout, normalize=True),
        output_layer,
    )
    model = chain(reading, classifier)
    model.set_ref("tok2vec", tok2vec)
    model.set_ref("reading", reading)
    model.set_ref("classifier", classifier)
    model.set_ref("output_layer", output_layer if exclusive_classes else output_layer.layers[0])
    model.attrs["multi_label"] = not exclusive_classes
    return model


# ---------------------------------------------------------------------------
# v3: v2's reading, standardised features, an MLP or a linear classifier
# ---------------------------------------------------------------------------


def standardize(min_scale: float = 1e-3) -> Model[Floats2d, Floats2d]:
    """``(X - mean) / scale`` per column, with ``mean`` and ``scale`` fitted, not trained.

    ``initialize`` sets them from the rows it is given when these vary (else,
    e.g. the all-zero rows a transformer listener gives before the transformer
    has run, to the identity); :func:`fit_standardizer` sets them from all
    training rows (``spacy_scicls.training.frozen.train_classifier`` does).
    Both are parameters of the layer, so ``to_disk`` / ``from_disk`` keep them,
    and the optimizer never changes them (no gradient is recorded for them).
    """
    return Model(
        "standardize", _standardize_forward, init=_standardize_init,
        dims={"nI": None, "nO": None}, params={"mean": None, "scale": None},
        attrs={"min_scale": min_scale},
    )


def fit_standardizer(model: Model, X) -> None:
    """Set ``model``'s (a :func:`standardize` layer's) mean and scale from the rows ``X``."""
    import numpy

    X = numpy.asarray(model.ops.to_numpy(X), dtype="float32")
    if X.ndim != 2 or len(X) == 0:
        raise ValueError(f"standardize needs a non-empty 2d array of rows, got shape {X.shape}")
    if model.has_dim("nI") and model.get_dim("nI") is not None and model.get_dim("nI") != X.shape[1]:
        raise ValueError(f"standardize expects {model.get_dim('nI')} columns, got {X.shape[1]}")
    model.set_dim("nI", X.shape[1])
    model.set_dim("nO", X.shape[1])
    mean = X.mean(axis=0)
    std = X.std(axis=0)
    # A column nearly constant in the rows seen (a few sample docs) must not
    # blow up on new docs: floor each scale at a tenth of the typical one.
    scale = numpy.maximum(std, max(model.attrs["min_scale"], 0.1 * float(numpy.median(std))))
    model.set_param("mean", model.ops.asarray1f(mean))
    model.set_param("scale", model.ops.asarray1f(scale))


def _standardize_init(model: Model, X=None, Y=None) -> None:
    if X is not None and len(X):
        if float(model.ops.to_numpy(X).std(axis=0).max()) > 0:
            fit_standardizer(model, X)
            return
        model.set_dim("nI", X.shape[1])
    if not model.has_dim("nI") or model.get_dim("nI") is None:
        raise ValueError("standardize needs sample rows (or its nI) to initialize")
    width = model.get_dim("nI")
    model.set_dim("nO", width)
    model.set_param("mean", model.ops.alloc1f(width))
    model.set_param("scale", model.ops.xp.ones((width,), dtype="float32"))


def _standardize_forward(model: Model, X: Floats2d, is_train: bool):
    mean = model.get_param("mean")
    scale = model.get_param("scale")
    Y = (X - mean) / scale

    def backprop(dY: Floats2d) -> Floats2d:
        return dY / scale

    return Y, backprop


@registry.architectures("spacy_scicls.DocClassifier.v3")
def build_doc_classifier_v3(
    tok2vec: Model[List[Doc], List[Floats2d]],
    max_tokens: int = 256,
    max_title_tokens: int = 64,
    hidden_width: int = 512,
    dropout: float = 0.1,
    exclusive_classes: bool = False,
    nO: Optional[int] = None,
) -> Model[List[Doc], Floats2d]:
    """v2's reading and pooling; the pooled features standardised; then an MLP or a linear layer.

    ``hidden_width = 0`` makes the classifier linear (logistic regression on the
    standardised pooled features, one output per label), which is what small
    training sets (a few hundred docs) support best; a positive width puts one
    Maxout layer before the output, as in v2. The standardiser's mean and scale
    are fitted on training rows, not trained (see :func:`standardize`).
    """
    if hidden_width < 0:
        raise ValueError(f"hidden_width must be >= 0, got {hidden_width}")
    # A linear head on standardised features starts from zero weights, as
    # logistic regression does: random weights over ~1000 correlated inputs
    # saturate the sigmoids, whose gradients then vanish.
    init_W = zero_init if hidden_width == 0 else None
    if exclusive_classes:
        output_layer = Softmax(nO=nO, init_W=init_W)
    else:
        output_layer = chain(Linear(nO=nO, init_W=init_W), Logistic())
    reading = section_reading(tok2vec, max_tokens, max_title_tokens)
    scaler = standardize()
    if hidden_width:
        classifier = chain(scaler, Maxout(nO=hidden_width, nP=2, dropout=dropout, normalize=True), output_layer)
    else:
        classifier = chain(scaler, output_layer)
    model = chain(reading, classifier)
    model.set_ref("tok2vec", tok2vec)
    model.set_ref("reading", reading)
    model.set_ref("classifier", classifier)
    model.set_ref("standardize", scaler)
    model.set_ref("output_layer", output_layer if exclusive_classes else output_layer.layers[0])
    model.attrs["multi_label"] = not exclusive_classes
    model.attrs["hidden_width"] = hidden_width
    return model


# ---------------------------------------------------------------------------
# v4: v3's classifier, its probabilities mixed with a vote of stored neighbours
# ---------------------------------------------------------------------------


def neighbour_vote(k: int = 30, temperature: float = 0.1) -> Model[Floats2d, Floats2d]:
    """Pooled rows -> each label's share of the vote of the ``k`` nearest stored training docs.

    A row's neighbours are found by cosine similarity of its first ``d``
    columns (the mean of the token vectors read, for the pooled rows of
    :func:`section_reading`), centred and scaled per column with the stored
    training rows' mean and scale; each of the ``k`` most similar stored docs
    votes with its 0/1 labels, weighted by ``softmax(similarity / temperature)``.
    The stored docs (``keys``: their unit vectors, float16; ``values``: their
    labels) are set by :func:`fit_neighbours`, not by the optimizer; before
    that the layer stores none, and :func:`mix_with_neighbours` leaves the
    classifier's probabilities as they are.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    return Model(
        "neighbour_vote", _neighbour_vote_forward, init=_neighbour_vote_init,
        params={"center": None, "scale": None, "keys": None, "values": None},
        dims={"nO": None}, attrs={"k": k, "temperature": temperature},
    )


def _neighbour_vote_init(model: Model, X=None, Y=None) -> None:
    # Nothing stored yet: zero rows of width 0; fit_neighbours fills them.
    n_out = model.get_dim("nO") if model.has_dim("nO") and model.get_dim("nO") else (Y.shape[1] if Y is not None else 0)
    if n_out:
        model.set_dim("nO", n_out)
    for name, shape in (("center", (0,)), ("scale", (0,)), ("keys", (0, 0)), ("values", (0, n_out))):
        if not model.has_param(name) or model.get_param(name) is None:
            model.set_param(name, model.ops.xp.zeros(shape, dtype="float16" if name in ("keys", "values") else "float32"))


def n_neighbours_stored(model: Model) -> int:
    """How many training docs a :func:`neighbour_vote` layer stores (0 before :func:`fit_neighbours`)."""
    if not model.has_param("keys") or model.get_param("keys") is None:
        return 0
    return int(model.get_param("keys").shape[0])


def _unit_rows(xp, X, center, scale):
    X = (X - center) / scale
    return X / xp.maximum(xp.sqrt((X * X).sum(axis=1, keepdims=True)), 1e-9)


def _neighbour_vote_forward(model: Model, X: Floats2d, is_train: bool):
    xp = model.ops.xp
    keys = model.get_param("keys")
    values = model.get_param("values")
    center = model.get_param("center")
    d = keys.shape[1]
    if len(keys) == 0 or len(X) == 0:
        return model.ops.alloc2f(len(X), values.shape[1]), lambda dY: model.ops.alloc2f(*X.shape)
    if X.shape[1] < d:
        raise ValueError(f"neighbour_vote: rows have {X.shape[1]} columns, the stored keys {d}")
    Q = _unit_rows(xp, xp.asarray(X[:, :d], dtype="float32"), center, model.get_param("scale"))
    S = Q @ xp.asarray(keys, dtype="float32").T
    k = min(model.attrs["k"], len(keys))
    idx = xp.argpartition(-S, k - 1, axis=1)[:, :k] if k < len(keys) else xp.tile(xp.arange(len(keys)), (len(X), 1))
    sims = xp.take_along_axis(S, idx, axis=1)
    w = xp.exp((sims - sims.max(axis=1, keepdims=True)) / model.attrs["temperature"])
    w /= w.sum(axis=1, keepdims=True)
    Y = xp.einsum("nk,nkl->nl", w, xp.asarray(values, dtype="float32")[idx]).astype("float32")

    def backprop(dY: Floats2d) -> Floats2d:
        # The stored docs are fixed and the vote is piecewise constant in the
        # neighbour set: no gradient flows to the pooled rows through it.
        return model.ops.alloc2f(*X.shape)

    return Y, backprop


def fit_neighbours(model: Model, X, truths, min_scale: float = 1e-3) -> None:
    """Store training docs in a :func:`neighbour_vote` layer: their pooled rows ``X`` and 0/1 ``truths``.

    Only the first third of the columns is kept (the mean of the token vectors
    read, of :func:`section_reading`'s rows), as float16 unit vectors after
    centring and scaling; documents without any label (out-of-field examples)
    are kept too, so that their neighbours vote for no label.
    """
    import numpy

    X = numpy.asarray(model.ops.to_numpy(X), dtype="float32")
    truths = numpy.asarray(truths, dtype="float32")
    if X.ndim != 2 or len(X) == 0 or X.shape[1] % 3:
        raise ValueError(f"fit_neighbours needs pooled rows (n, 3 * width), got shape {X.shape}")
    if truths.shape[0] != len(X):
        raise ValueError(f"fit_neighbours: {len(X)} rows but {truths.shape[0]} rows of truths")
    if model.has_dim("nO") and model.get_dim("nO") and truths.shape[1] != model.get_dim("nO"):
        raise ValueError(f"fit_neighbours: the head has {model.get_dim('nO')} labels, the truths {truths.shape[1]}")
    if not numpy.isin(truths, (0.0, 1.0)).all():
        raise ValueError("fit_neighbours: truths must be 0 or 1")
    d = X.shape[1] // 3
    M = X[:, :d]
    center = M.mean(axis=0)
    scale = numpy.maximum(M.std(axis=0), min_scale)
    keys = _unit_rows(numpy, M, center, scale)
    model.set_dim("nO", truths.shape[1], force=True)
    model.set_param("center", model.ops.asarray1f(center))
    model.set_param("scale", model.ops.asarray1f(scale))
    model.set_param("keys", model.ops.asarray(keys.astype("float16")))
    model.set_param("values", model.ops.asarray(truths.astype("float16")))


def mix_with_neighbours(classifier: Model, neighbours: Model, weight: float) -> Model[Floats2d, Floats2d]:
    """``(1 - weight) * classifier(X) + weight * neighbours(X)``; the classifier alone while no neighbours are stored."""
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"neighbour_weight must be within 0..1, got {weight}")
    return Model(
        "mix_with_neighbours", _mix_forward, init=_mix_init, layers=[classifier, neighbours],
        attrs={"weight": weight},
    )


def _mix_init(model: Model, X=None, Y=None) -> None:
    classifier, neighbours = model.layers
    classifier.initialize(X=X, Y=Y)
    neighbours.initialize(X=X, Y=Y)


def _mix_forward(model: Model, X: Floats2d, is_train: bool):
    classifier, neighbours = model.layers
    P, backprop_classifier = classifier(X, is_train)
    a = model.attrs["weight"]
    if a == 0.0 or n_neighbours_stored(neighbours) == 0:
        return P, backprop_classifier
    Q, _ = neighbours(X, is_train)

    def backprop(dY: Floats2d) -> Floats2d:
        return backprop_classifier(dY * (1.0 - a))

    return (1.0 - a) * P + a * Q, backprop


@registry.architectures("spacy_scicls.DocClassifier.v4")
def build_doc_classifier_v4(
    tok2vec: Model[List[Doc], List[Floats2d]],
    max_tokens: int = 256,
    max_title_tokens: int = 64,
    hidden_width: int = 512,
    dropout: float = 0.1,
    exclusive_classes: bool = False,
    neighbours: int = 30,
    neighbour_weight: float = 0.5,
    neighbour_temperature: float = 0.1,
    nO: Optional[int] = None,
) -> Model[List[Doc], Floats2d]:
    """v3, its probabilities mixed with a vote of the ``neighbours`` nearest training docs.

    ``model.get_ref("scorer")`` maps pooled rows to the head's probabilities:
    ``(1 - neighbour_weight) * classifier + neighbour_weight * vote``, where
    the vote (:func:`neighbour_vote`) is over training docs stored with the
    head by :func:`fit_neighbours` (``spacy_scicls.training.frozen`` and
    ``scripts/train_categories.py`` store the head's training docs after
    training its classifier). While none are stored (a head trained by
    ``spacy train``) the scorer is the classifier alone, i.e. v3.
    """
    if not 0.0 <= neighbour_weight <= 1.0:
        raise ValueError(f"neighbour_weight must be within 0..1, got {neighbour_weight}")
    vote = neighbour_vote(neighbours, neighbour_temperature)
    v3 = build_doc_classifier_v3(tok2vec, max_tokens, max_title_tokens, hidden_width, dropout,
                                 exclusive_classes, nO)
    reading, classifier = v3.layers
    scorer = mix_with_neighbours(classifier, vote, neighbour_weight)
    model = chain(reading, scorer)
    for ref in ("tok2vec", "reading", "classifier", "standardize", "output_layer"):
        model.set_ref(ref, v3.get_ref(ref))
    model.set_ref("neighbours", vote)
    model.set_ref("scorer", scorer)
    model.attrs.update(v3.attrs)
    return model
