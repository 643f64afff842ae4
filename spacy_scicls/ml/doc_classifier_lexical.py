"""DocClassifier.v5: the v4 head (dense classifier + neighbour vote) beside a lexical part.

As spaCy's ``TextCatEnsemble`` puts a bag-of-words linear model beside its
neural one, v5 puts a linear layer over tf-idf n-gram rows of the tokens the
head reads (:mod:`spacy_scicls.ml.lexical`) beside v4, and mixes the two
heads' probabilities:

    p = (1 - lexical_weight) * v4(doc) + lexical_weight * sigmoid(tfidf(doc) @ W + b)

or, with ``lexical_mix = "logit"``, the same weighted mean of the two logits
(a weighted geometric mean of the odds: a confident word can then outweigh an
unsure dense head). The lexical part reads the doc's own tokens, so it adds no
encoder pass.
"""
from typing import List, Optional, Sequence

from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Logistic, Model, chain, get_array_module
from thinc.types import Floats2d

from .doc_classifier import build_doc_classifier_v4
from .lexical import fit_lexicon, lexical_features, lexicon_size, resize_sparse_linear, sparse_linear

MIXES = ("probability", "logit")
V4_REFS = ("tok2vec", "reading", "classifier", "standardize", "output_layer", "neighbours", "scorer")


@registry.architectures("spacy_scicls.DocClassifier.v5")
def build_doc_classifier_v5(
    tok2vec: Model[List[Doc], List[Floats2d]],
    max_tokens: int = 256,
    max_title_tokens: int = 64,
    hidden_width: int = 512,
    dropout: float = 0.1,
    exclusive_classes: bool = False,
    neighbours: int = 30,
    neighbour_weight: float = 0.5,
    neighbour_temperature: float = 0.1,
    lexical_weight: float = 0.5,
    lexical_max_tokens: int = 512,
    ngram_size: int = 2,
    lexicon_min_df: int = 2,
    lexicon_max_features: int = 20000,
    lexical_mix: str = "probability",
    nO: Optional[int] = None,
) -> Model[List[Doc], Floats2d]:
    """v4, its probabilities mixed with those of a linear model over tf-idf n-grams.

    The lexical part (``model.get_ref("lexical")``: docs -> probabilities, the
    chain of ``lexical_features``, docs -> tf-idf rows, and ``lexical_scorer``,
    rows -> probabilities)
    reads the first ``lexical_max_tokens`` of the tokens v4 reads (title,
    abstract, introduction; it needs no token vectors, so it may read further),
    as lowercased 1..``ngram_size``-grams over a lexicon fitted on the training
    docs (at most ``lexicon_max_features`` n-grams found in at least
    ``lexicon_min_df`` docs): by the component's ``initialize`` from all its
    training examples, or by :func:`fit_head_lexicon`. Until a lexicon is
    fitted the model is v4. Multi-label heads only.
    """
    if exclusive_classes:
        raise ValueError("DocClassifier.v5 is for multi-label heads (exclusive_classes = false)")
    if not 0.0 <= lexical_weight <= 1.0:
        raise ValueError(f"lexical_weight must be within 0..1, got {lexical_weight}")
    if lexical_mix not in MIXES:
        raise ValueError(f"lexical_mix must be one of {', '.join(MIXES)}, got {lexical_mix!r}")
    dense = build_doc_classifier_v4(tok2vec, max_tokens, max_title_tokens, hidden_width, dropout, False,
                                    neighbours, neighbour_weight, neighbour_temperature, nO)
    features = lexical_features(lexical_max_tokens, max_title_tokens, ngram_size)
    features.attrs.update({"min_df": lexicon_min_df, "max_features": lexicon_max_features})
    linear = sparse_linear(nO)
    scorer = chain(linear, Logistic())
    lexical = chain(features, scorer)
    model = Model(
        "mix_with_lexical", _mix_forward, init=_mix_init, layers=[dense, lexical],
        attrs={"lexical_weight": lexical_weight, "lexical_mix": lexical_mix},
    )
    for ref in V4_REFS:
        model.set_ref(ref, dense.get_ref(ref))
    model.set_ref("dense", dense)
    model.set_ref("lexical", lexical)
    model.set_ref("lexical_features", features)
    model.set_ref("lexical_scorer", scorer)
    model.set_ref("lexical_output", linear)
    model.attrs.update(dense.attrs)
    return model


def _mix_init(model: Model, X=None, Y=None) -> None:
    dense, lexical = model.layers
    dense.initialize(X=X, Y=Y)
    linear = model.get_ref("lexical_output")
    if not linear.has_dim("nO") or linear.get_dim("nO") is None:
        linear.set_dim("nO", model.get_ref("output_layer").get_dim("nO"))
    # The lexicon is fitted from data, not from the few sample docs given here.
    model.get_ref("lexical_features").initialize()
    linear.initialize()


def lexical_active(model: Model) -> bool:
    """Whether a v5 model mixes in its lexical part (a lexicon fitted and a weight above 0)."""
    return (
        model.has_ref("lexical_features")
        and model.attrs.get("lexical_weight", 0.0) > 0.0
        and lexicon_size(model.get_ref("lexical_features")) > 0
    )


def _mix_forward(model: Model, docs: List[Doc], is_train: bool):
    dense, lexical = model.layers
    P, backprop_dense = dense(docs, is_train)
    if not lexical_active(model):
        return P, backprop_dense
    L, backprop_lexical = lexical(docs, is_train)
    Y, backprop_mix = mix_probabilities(P, L, model.attrs["lexical_weight"], model.attrs["lexical_mix"])

    def backprop(dY: Floats2d):
        dP, dL = backprop_mix(dY)
        backprop_lexical(dL)
        return backprop_dense(dP)

    return Y, backprop


def mix_probabilities(P, L, weight: float, how: str = "probability"):
    """``(mixed, backprop)``: the dense probabilities ``P`` and the lexical ``L`` mixed with
    ``weight`` on ``L``, as a weighted mean of the probabilities or of their logits."""
    if how == "probability":
        return (1.0 - weight) * P + weight * L, lambda dY: (dY * (1.0 - weight), dY * weight)
    xp = get_array_module(P)
    eps = 1e-6
    P_, L_ = xp.clip(P, eps, 1 - eps), xp.clip(L, eps, 1 - eps)
    Z = (1.0 - weight) * xp.log(P_ / (1 - P_)) + weight * xp.log(L_ / (1 - L_))
    Y = (1.0 / (1.0 + xp.exp(-Z))).astype("float32")

    def backprop(dY):
        dZ = dY * Y * (1 - Y)
        return dZ * (1.0 - weight) / (P_ * (1 - P_)), dZ * weight / (L_ * (1 - L_))

    return Y, backprop


def fit_head_lexicon(model: Model, docs: Sequence[Doc], min_df: Optional[int] = None,
                     max_features: Optional[int] = None) -> int:
    """Fit a v5 model's lexicon on training ``docs`` and give its linear layer zero weights; returns the size.

    ``min_df`` and ``max_features`` default to the architecture's
    ``lexicon_min_df`` and ``lexicon_max_features``. The output width must be
    known (the component's labels set), as it is once labels are added.
    """
    features = model.get_ref("lexical_features")
    linear = model.get_ref("lexical_output")
    n = fit_lexicon(
        features, docs,
        min_df=features.attrs["min_df"] if min_df is None else min_df,
        max_features=features.attrs["max_features"] if max_features is None else max_features,
    )
    if not linear.has_dim("nO") or linear.get_dim("nO") is None:
        linear.set_dim("nO", model.get_ref("output_layer").get_dim("nO"))
    resize_sparse_linear(linear, n)
    return n
