"""v6: score a document against its labels' descriptions, plus what labelled documents teach.

Every label of a taxonomy is described in words (``Label.description_texts``: its
name and description, then its narrower descriptors). At initialize the head runs
those texts once through the pipeline's own transformer and keeps the mean token
vector of each (:func:`set_label_descriptions`), so a document and a description
live in the same space and a document costs no extra encoder pass: the head
compares the mean vector of what it already reads with the stored description
vectors.

A label's description score ``s`` is the best cosine of the document with any of
its description texts. Its logit is

    z = scale * (s - offset) - relative_scale * (max over labels of s - s) + residual(x)

``offset`` is the similarity at which a document's best label becomes likely: a
document whose best label stays below it gets no label ("none of these").
``relative_scale`` makes a label less likely the further it trails the
document's best one. ``residual`` is a linear (or Maxout + linear) layer on the
standardised pooled features, starting at zero: with no training data the head is
pure zero-shot; trained on labelled documents, the three scalars are refitted
and the residual learns what the descriptions miss, so a head improves with a few
labelled documents and more with many. As in v4, training documents can be
stored for a neighbour vote mixed into the probabilities.
"""
from typing import Callable, List, Optional, Sequence, Tuple

import numpy
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Linear, Maxout, Model, chain, zero_init
from thinc.types import Floats2d

from .doc_classifier import mix_with_neighbours, neighbour_vote, section_reading, standardize

# Zero-shot defaults, measured on the frozen all-MiniLM-L6-v2 token vectors of the
# training split's arXiv papers and NIHR awards against the packaged descriptions
# (docs/categories.md, "Scoring by the labels' descriptions"); training refits them.
DEFAULT_SCALE = 20.0
DEFAULT_OFFSET = 0.22
DEFAULT_RELATIVE_SCALE = 40.0


def label_descriptions(
    scale: float = DEFAULT_SCALE, offset: float = DEFAULT_OFFSET, relative_scale: float = DEFAULT_RELATIVE_SCALE,
) -> Model[Floats2d, Floats2d]:
    """Pooled rows -> each label's description logit ``scale * (s - offset) - relative_scale * (s_max - s)``.

    ``vectors`` (one unit row per description text) and ``owners`` (the label
    index of each row) are set by :func:`set_label_descriptions`, never by the
    optimizer; ``scale``, ``offset`` and ``relative_scale`` are trained. The
    first third of a pooled row (the mean of the token vectors read) is
    compared with the descriptions. Before any description is set the layer
    gives logits of zero.
    """
    return Model(
        "label_descriptions", _descriptions_forward, init=_descriptions_init,
        params={"vectors": None, "owners": None, "scalars": None}, dims={"nO": None},
        attrs={"defaults": (float(scale), float(offset), float(relative_scale))},
    )


def _descriptions_init(model: Model, X=None, Y=None) -> None:
    if Y is not None and (not model.has_dim("nO") or model.get_dim("nO") is None):
        model.set_dim("nO", Y.shape[1])
    if not model.has_param("scalars") or model.get_param("scalars") is None:
        model.set_param("scalars", model.ops.asarray1f(numpy.asarray(model.attrs["defaults"], dtype="float32")))
    for name, shape in (("vectors", (0, 0)), ("owners", (0,))):
        if not model.has_param(name) or model.get_param(name) is None:
            model.set_param(name, model.ops.xp.zeros(shape, dtype="float32"))


def n_descriptions(model: Model) -> int:
    """How many description vectors a :func:`label_descriptions` layer holds."""
    if not model.has_param("vectors") or model.get_param("vectors") is None:
        return 0
    return int(model.get_param("vectors").shape[0])


def set_label_descriptions(model: Model, vectors, owners: Sequence[int], n_labels: int) -> None:
    """Store description vectors (rows of ``vectors``, any scale) and each row's label index.

    Every label must own at least one row: a label without a description could
    never be scored by meaning.
    """
    vectors = numpy.asarray(vectors, dtype="float32")
    owners = numpy.asarray(owners, dtype="int64")
    if vectors.ndim != 2 or len(vectors) != len(owners):
        raise ValueError(f"label descriptions: {vectors.shape} vectors for {len(owners)} owners")
    missing = sorted(set(range(n_labels)) - set(owners.tolist()))
    if missing:
        raise ValueError(f"label descriptions: labels {missing} have no description vector")
    if owners.min(initial=0) < 0 or owners.max(initial=0) >= n_labels:
        raise ValueError(f"label descriptions: owner indices must be within 0..{n_labels - 1}")
    norms = numpy.maximum(numpy.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
    model.set_dim("nO", n_labels, force=True)
    model.set_param("vectors", model.ops.asarray2f(vectors / norms))
    model.set_param("owners", model.ops.asarray1f(owners.astype("float32")))
    if not model.has_param("scalars") or model.get_param("scalars") is None:
        model.set_param("scalars", model.ops.asarray1f(numpy.asarray(model.attrs["defaults"], dtype="float32")))


def _best_per_label(xp, S, owners, n_labels):
    """Columns of ``S`` (rows x descriptions) reduced to the best per owner label, and the argmax."""
    best = xp.full((S.shape[0], n_labels), -1.0, dtype="float32")
    which = xp.zeros((S.shape[0], n_labels), dtype="int64")
    for j in range(n_labels):
        cols = xp.nonzero(owners == j)[0]
        if len(cols) == 0:
            continue
        sub = S[:, cols]
        arg = sub.argmax(axis=1)
        best[:, j] = sub[xp.arange(S.shape[0]), arg]
        which[:, j] = cols[arg]
    return best, which


def _descriptions_forward(model: Model, X: Floats2d, is_train: bool):
    xp = model.ops.xp
    vectors = model.get_param("vectors")
    n_labels = model.get_dim("nO")
    if len(vectors) == 0 or len(X) == 0:
        return model.ops.alloc2f(len(X), n_labels), lambda dY: model.ops.alloc2f(*X.shape)
    d = vectors.shape[1]
    if X.shape[1] < d:
        raise ValueError(f"label_descriptions: rows have {X.shape[1]} columns, the description vectors {d}")
    owners = model.get_param("owners").astype("int64")
    M = X[:, :d]
    norms = xp.maximum(xp.sqrt((M * M).sum(axis=1, keepdims=True)), 1e-9)
    s, _ = _best_per_label(xp, (M / norms) @ vectors.T, owners, n_labels)
    top = s.max(axis=1, keepdims=True)
    scale, offset, relative = (float(v) for v in model.get_param("scalars"))
    Z = (scale * (s - offset) - relative * (top - s)).astype("float32")

    def backprop(dZ: Floats2d) -> Floats2d:
        # Only the three scalars learn here: the description vectors are fixed,
        # and the pooled rows come from a frozen encoder (no gradient to them).
        # With ``fixed_scalars`` they do not learn either (no gradient, so the
        # optimizer leaves them): only the residual learns from labelled docs.
        if model.attrs.get("fixed_scalars", False):
            return model.ops.alloc2f(*X.shape)
        grad = numpy.asarray([
            float((dZ * (s - offset)).sum()),
            float((dZ * -scale).sum()),
            float((dZ * -(top - s)).sum()),
        ], dtype="float32")
        model.inc_grad("scalars", model.ops.asarray1f(grad))
        return model.ops.alloc2f(*X.shape)

    return Z, backprop


def description_and_residual(descriptions: Model, residual: Model) -> Model[Floats2d, Floats2d]:
    """``sigmoid(descriptions(X) + residual(X))``: one probability per label."""
    return Model("description_and_residual", _sum_forward, init=_sum_init, layers=[descriptions, residual])


def _sum_init(model: Model, X=None, Y=None) -> None:
    descriptions, residual = model.layers
    descriptions.initialize(X=X, Y=Y)
    residual.initialize(X=X, Y=Y)


def _sum_forward(model: Model, X: Floats2d, is_train: bool):
    descriptions, residual = model.layers
    A, back_a = descriptions(X, is_train)
    B, back_b = residual(X, is_train)
    Z = A + B
    P = 1.0 / (1.0 + model.ops.xp.exp(-Z))

    def backprop(dP: Floats2d) -> Floats2d:
        dZ = dP * P * (1.0 - P)
        return back_a(dZ) + back_b(dZ)

    return P, backprop


@registry.architectures("spacy_scicls.DocClassifier.v6")
def build_doc_classifier_v6(
    tok2vec: Model[List[Doc], List[Floats2d]],
    max_tokens: int = 256,
    max_title_tokens: int = 64,
    hidden_width: int = 0,
    dropout: float = 0.1,
    description_scale: float = DEFAULT_SCALE,
    description_offset: float = DEFAULT_OFFSET,
    relative_scale: float = DEFAULT_RELATIVE_SCALE,
    neighbours: int = 20,
    neighbour_weight: float = 0.0,
    neighbour_temperature: float = 0.1,
    nO: Optional[int] = None,
) -> Model[List[Doc], Floats2d]:
    """v3's reading; each label scored against its descriptions plus a residual trained on labelled docs.

    Multi-label (independent sigmoids). ``description_scale``, ``description_offset``
    and ``relative_scale`` are the zero-shot starting values of the three trained
    scalars (module docstring). ``hidden_width = 0`` makes the residual linear on the
    standardised pooled features (zero weights at first), a positive width puts a
    Maxout layer before it. ``neighbour_weight > 0`` mixes in a vote of stored
    training docs (``fit_neighbours``), as v4 does. The component fills the
    description vectors at initialize from its taxonomy, by the pipeline's own
    encoder (:func:`embed_label_descriptions`);
    they are parameters, so ``to_disk`` / ``from_disk`` carry them.
    """
    if hidden_width < 0:
        raise ValueError(f"hidden_width must be >= 0, got {hidden_width}")
    reading = section_reading(tok2vec, max_tokens, max_title_tokens)
    output_layer = Linear(nO=nO, init_W=zero_init, init_b=zero_init)
    scaler = standardize()
    if hidden_width:
        residual = chain(scaler, Maxout(nO=hidden_width, nP=2, dropout=dropout, normalize=True), output_layer)
    else:
        residual = chain(scaler, output_layer)
    descriptions = label_descriptions(description_scale, description_offset, relative_scale)
    classifier = description_and_residual(descriptions, residual)
    vote = neighbour_vote(neighbours, neighbour_temperature)
    scorer = mix_with_neighbours(classifier, vote, neighbour_weight)
    model = chain(reading, scorer)
    model.set_ref("tok2vec", tok2vec)
    model.set_ref("reading", reading)
    model.set_ref("classifier", classifier)
    model.set_ref("standardize", scaler)
    model.set_ref("output_layer", output_layer)
    model.set_ref("label_descriptions", descriptions)
    model.set_ref("neighbours", vote)
    model.set_ref("scorer", scorer)
    model.attrs["multi_label"] = True
    model.attrs["hidden_width"] = hidden_width
    return model


@registry.architectures("spacy_scicls.DocClassifier.v7")
def build_doc_classifier_v7(
    tok2vec: Model[List[Doc], List[Floats2d]],
    max_tokens: int = 256,
    max_title_tokens: int = 64,
    hidden_width: int = 0,
    dropout: float = 0.1,
    description_scale: float = DEFAULT_SCALE,
    description_offset: float = DEFAULT_OFFSET,
    relative_scale: float = DEFAULT_RELATIVE_SCALE,
    fit_description_scalars: bool = False,
    neighbours: int = 20,
    neighbour_weight: float = 0.0,
    neighbour_temperature: float = 0.1,
    nO: Optional[int] = None,
) -> Model[List[Doc], Floats2d]:
    """v6, except that training leaves the description score as it is (``fit_description_scalars = False``).

    In v6 the three scalars are trained with the residual, so a head trained on
    labels from narrower corpora than its taxonomy (ERC panels from arXiv and NIHR
    awards through a crosswalk) shrinks the description score until the residual
    decides alone, and it relearns the corpora's view of the fields they never
    show. Here ``scale``, ``offset`` and ``relative_scale`` stay at the given
    values and only the residual learns: with strong weight decay it corrects the
    description score where labelled docs disagree with it, and leaves it to
    decide elsewhere. ``fit_description_scalars = True`` is v6.
    """
    model = build_doc_classifier_v6(
        tok2vec, max_tokens=max_tokens, max_title_tokens=max_title_tokens, hidden_width=hidden_width,
        dropout=dropout, description_scale=description_scale, description_offset=description_offset,
        relative_scale=relative_scale, neighbours=neighbours, neighbour_weight=neighbour_weight,
        neighbour_temperature=neighbour_temperature, nO=nO,
    )
    model.get_ref("label_descriptions").attrs["fixed_scalars"] = not fit_description_scalars
    return model


def mean_token_vectors(nlp, tok2vec: Model, texts: Sequence[str], before: str, batch_size: int = 32) -> numpy.ndarray:
    """The mean token vector of each text as a head's ``tok2vec`` sees it in ``nlp``.

    The texts are tokenized and run through the transformer components that come
    before the component ``before`` (the shared encoder a listener reads), then
    through ``tok2vec`` itself; a ``tok2vec`` that is its own encoder is run
    directly. One row per text (zeros for a text without tokens).
    """
    from spacy_transformers import Transformer

    encoders = []
    for name, proc in nlp.pipeline:
        if name == before:
            break
        if isinstance(proc, Transformer):
            encoders.append(proc)
    rows = []
    for start in range(0, len(texts), batch_size):
        docs = [nlp.make_doc(text) for text in texts[start:start + batch_size]]
        for proc in encoders:
            docs = list(proc.pipe(docs, batch_size=len(docs)))
        for X in tok2vec.predict(docs):
            X = tok2vec.ops.to_numpy(X)
            rows.append(X.mean(axis=0) if len(X) else None)
    width = next((len(r) for r in rows if r is not None), 0)
    return numpy.stack([r if r is not None else numpy.zeros(width, "float32") for r in rows]).astype("float32")


def embed_label_descriptions(nlp, component) -> int:
    """Fill a v6 head's description vectors from its taxonomy, by the pipeline's own encoder.

    Every label of ``component`` (a ``scicls_doc_categories`` head) needs a
    description (``Label.description_texts``). Returns the number of texts embedded.
    """
    model = component.model
    taxonomy = component.taxonomy
    texts: List[str] = []
    owners: List[int] = []
    undescribed = []
    for j, code in enumerate(component.labels):
        label_texts = taxonomy.label(code).description_texts()
        if not label_texts:
            undescribed.append(code)
        texts.extend(label_texts)
        owners.extend([j] * len(label_texts))
    if undescribed:
        raise ValueError(
            f"[{component.name}] this head scores labels by their descriptions, but labels "
            f"{', '.join(undescribed[:5])}{' ...' if len(undescribed) > 5 else ''} of taxonomy "
            f"{taxonomy.name!r} have none: give every label a 'description'"
        )
    vectors = mean_token_vectors(nlp, model.get_ref("tok2vec"), texts, before=component.name)
    set_label_descriptions(model.get_ref("label_descriptions"), vectors, owners, len(component.labels))
    return len(texts)
