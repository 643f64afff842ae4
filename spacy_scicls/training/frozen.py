"""Train category heads on a frozen encoder from cached token vectors.

With the shared transformer frozen, a category head's input, the token vectors
of what it reads, is the same in every epoch; computing it once makes training,
calibration and baselines cheap on a CPU. This module

- encodes docs once and caches the token vectors of their first
  ``max_tokens`` tokens (:func:`encode_token_vectors`, :class:`TokenVectorCache`);
- pools them exactly as ``spacy_scicls.DocClassifier.v2`` does
  (:func:`pooled_features`);
- trains a head's classifier, the part of its model after the pooling, on
  those rows with the head's own loss (:func:`train_classifier`).

The trained weights live in the component itself, so the pipeline saved
afterwards predicts from raw text exactly what the cached path predicted.
"""
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy
from spacy.language import Language
from spacy.tokens import Doc
from thinc.api import SGD, Adam, Model, fix_random_seed, set_dropout_rate

from ..ml.doc_classifier import fit_neighbours, fit_standardizer, pool_token_vectors, title_end
from ..ml.doc_classifier_lexical import lexical_active, mix_probabilities
from ..ml.lexical import resize_sparse_linear


class TokenVectorCache:
    """Token vectors (float16) of the first tokens of many docs, with their title ends."""

    def __init__(self, vectors: numpy.ndarray, offsets: numpy.ndarray, title_ends: numpy.ndarray,
                 ids: Sequence[str]) -> None:
        self.vectors = vectors
        self.offsets = offsets
        self.title_ends = title_ends
        self.ids = list(ids)
        self._index = {id_: i for i, id_ in enumerate(self.ids)}

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, id_: str) -> bool:
        return id_ in self._index

    def get(self, id_: str) -> Tuple[numpy.ndarray, int]:
        i = self._index[id_]
        return self.vectors[self.offsets[i]:self.offsets[i + 1]], int(self.title_ends[i])

    def save(self, path: Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Ids as a fixed-width string array: the file loads without pickle.
        numpy.savez(path, vectors=self.vectors, offsets=self.offsets, title_ends=self.title_ends,
                    ids=numpy.asarray(self.ids, dtype=str))

    @classmethod
    def load(cls, path: Path) -> "TokenVectorCache":
        """Read a cache; ValueError for a file that needs pickle to load (never unpickled: a cache
        file is as unsafe as any pickle), e.g. one written by an older version: delete it."""
        try:
            data = numpy.load(Path(path), allow_pickle=False)
            ids = [str(i) for i in data["ids"]]
        except ValueError as err:
            raise ValueError(f"{path}: not a cache this version reads without pickle ({err}); delete it") from None
        return cls(data["vectors"], data["offsets"], data["title_ends"], ids)


def encode_token_vectors(
    nlp: Language,
    docs: Sequence[Doc],
    ids: Sequence[str],
    *,
    head: str,
    max_tokens: int = 512,
    batch_size: int = 16,
    progress: Optional[Callable[[int], None]] = None,
) -> TokenVectorCache:
    """Run the transformer once over ``docs`` and keep the token vectors that ``head`` reads.

    Docs are cut to ``max_tokens`` plus one transformer window before encoding:
    strided windows are local, so the vectors of the first ``max_tokens`` tokens
    are the same as in the whole doc, and long texts cost no more than short.
    """
    trf = nlp.get_pipe("transformer")
    listener = nlp.get_pipe(head).model.get_ref("tok2vec")
    get_spans = trf.model.attrs.get("get_spans")
    window = span_window(get_spans) or 128
    cut = max_tokens + 2 * window
    chunks: List[numpy.ndarray] = []
    title_ends: List[int] = []
    for start in range(0, len(docs), batch_size):
        batch = [doc[:cut].as_doc() if len(doc) > cut else doc for doc in docs[start:start + batch_size]]
        batch = list(trf.pipe(batch, batch_size=len(batch)))
        Xs = listener.predict(batch)
        for doc, X in zip(batch, Xs):
            X = nlp.get_pipe(head).model.ops.to_numpy(X)
            chunks.append(numpy.asarray(X[:max_tokens], dtype="float16"))
            title_ends.append(title_end(doc))
        if progress is not None:
            progress(min(start + batch_size, len(docs)))
    offsets = numpy.zeros(len(chunks) + 1, dtype="int64")
    offsets[1:] = numpy.cumsum([len(c) for c in chunks])
    width = max((c.shape[1] for c in chunks if c.size), default=0)
    vectors = numpy.concatenate([c.reshape(-1, width) if c.size else numpy.zeros((0, width), "float16")
                                 for c in chunks]) if chunks else numpy.zeros((0, 0), "float16")
    return TokenVectorCache(vectors, offsets, numpy.asarray(title_ends, dtype="int64"), ids)


def span_window(get_spans) -> Optional[int]:
    """The window (in spaCy tokens) of a strided span getter, or None if it has none."""
    if get_spans is None:
        return None
    window = getattr(get_spans, "window", None)
    if window is None:
        window = (getattr(get_spans, "keywords", None) or {}).get("window")
    return int(window) if window is not None else None


def pooled_features(cache: TokenVectorCache, ids: Sequence[str], *, max_tokens: int,
                    max_title_tokens: int = 64) -> numpy.ndarray:
    """The rows that a v2 head's reading layer gives for these (bare, section-less) docs."""
    rows = []
    width = cache.vectors.shape[1]
    for id_ in ids:
        X, t_end = cache.get(id_)
        X = X.astype("float32")
        read = numpy.arange(min(len(X), max_tokens))
        title = numpy.arange(min(t_end, max_title_tokens, len(X)))
        rows.append(pool_token_vectors(X, read, title) if len(X) else numpy.zeros(3 * width, "float32"))
    return numpy.stack(rows).astype("float32") if rows else numpy.zeros((0, 3 * width), "float32")


def mean_pooled(cache: TokenVectorCache, ids: Sequence[str], *, max_tokens: int) -> numpy.ndarray:
    """Mean of the first ``max_tokens`` token vectors (the logistic-regression baseline's input)."""
    width = cache.vectors.shape[1]
    out = numpy.zeros((len(ids), width), dtype="float32")
    for i, id_ in enumerate(ids):
        X, _ = cache.get(id_)
        if len(X):
            out[i] = X[:max_tokens].astype("float32").mean(axis=0)
    return out


def train_classifier(
    component,
    X_train: numpy.ndarray,
    targets_train: Tuple[numpy.ndarray, numpy.ndarray],
    *,
    X_dev: Optional[numpy.ndarray] = None,
    dev_score: Optional[Callable[[numpy.ndarray], float]] = None,
    epochs: int = 40,
    batch_size: int = 32,
    learn_rate: float = 0.001,
    dropout: float = 0.1,
    l2: float = 0.0,
    prior_bias: bool = False,
    seed: int = 0,
    log: Optional[Callable[[str], None]] = None,
) -> Dict[str, float]:
    """Train ``component.model.get_ref("classifier")`` on pooled rows, with the component's loss.

    ``targets_train`` is ``(truths, mask)`` as the component builds them. With
    ``X_dev`` and ``dev_score`` (probabilities -> score, higher is better) the
    weights of the best epoch are kept (early stopping on dev). ``l2`` is
    decoupled weight decay (each step shrinks the weights by ``learn_rate * l2``).
    A classifier that starts with a :func:`~spacy_scicls.ml.doc_classifier.standardize`
    layer (``spacy_scicls.DocClassifier.v3``) gets its mean and scale from
    ``X_train`` first. ``prior_bias`` (multi-label heads) starts each label's
    output bias at the log-odds of its frequency in ``targets_train``: a linear
    head starts from zero weights, and Adam would otherwise take thousands of
    steps to move the biases of rare labels from 0 to their prior.
    """
    fix_random_seed(seed)
    classifier: Model = component.model.get_ref("classifier")
    if component.model.has_ref("standardize"):
        fit_standardizer(component.model.get_ref("standardize"), X_train)
    if prior_bias and component.model.attrs.get("multi_label", True):
        set_prior_bias(component.model.get_ref("output_layer"), *targets_train)
    ops = classifier.ops
    optimizer = Adam(learn_rate, L2=l2, L2_is_weight_decay=True)
    truths, mask = targets_train
    rng = numpy.random.RandomState(seed)
    best = (-numpy.inf, None, -1)
    for epoch in range(epochs):
        order = rng.permutation(len(X_train))
        total = 0.0
        set_dropout_rate(classifier, dropout)
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            scores, backprop = classifier.begin_update(ops.asarray2f(X_train[idx]))
            loss, d_scores = component.loss((truths[idx], mask[idx]), scores)
            backprop(d_scores)
            classifier.finish_update(optimizer)
            total += loss
        set_dropout_rate(classifier, 0.0)
        if X_dev is not None and dev_score is not None:
            score = dev_score(ops.to_numpy(classifier.predict(ops.asarray2f(X_dev))))
            if score > best[0]:
                best = (score, classifier.to_bytes(), epoch)
            if log:
                log(f"epoch {epoch + 1}: loss {total:.4f} dev {score:.4f}")
        elif log:
            log(f"epoch {epoch + 1}: loss {total:.4f}")
    if best[1] is not None:
        classifier.from_bytes(best[1])
    return {"best_dev": float(best[0]), "best_epoch": best[2] + 1}


def set_prior_bias(output_layer: Model, truths: numpy.ndarray, mask: numpy.ndarray, smoothing: float = 0.5) -> None:
    """Set a sigmoid output layer's bias to the log-odds of each label's (smoothed) frequency."""
    truths = numpy.asarray(truths, dtype="float64")
    weights = numpy.asarray(mask, dtype="float64").reshape(-1, 1)
    positives = (truths * weights).sum(axis=0)
    prior = (positives + smoothing) / (weights.sum() + 2 * smoothing)
    bias = numpy.log(prior / (1 - prior)).astype("float32")
    if output_layer.get_param("b").shape != bias.shape:
        raise ValueError(f"the output layer has {output_layer.get_param('b').shape[0]} outputs, "
                         f"the targets {bias.shape[0]} labels")
    output_layer.set_param("b", output_layer.ops.asarray1f(bias))


def predict_classifier(component, X: numpy.ndarray, lexical: Optional[List] = None) -> numpy.ndarray:
    """The head's probabilities from pooled rows: what its model gives after the reading.

    For ``spacy_scicls.DocClassifier.v4`` that is the classifier mixed with
    the vote of the stored neighbours (its ``scorer``), else the classifier.
    A ``DocClassifier.v5`` head with a fitted lexicon also needs the docs'
    ``lexical`` rows (:func:`lexical_rows`), whose probabilities it mixes in.
    """
    model = component.model
    scorer: Model = model.get_ref("scorer") if model.has_ref("scorer") else model.get_ref("classifier")
    P = scorer.ops.to_numpy(scorer.predict(scorer.ops.asarray2f(X)))
    if not lexical_active(model):
        return P
    if lexical is None or len(lexical) != len(X):
        raise ValueError(f"[{component.name}] a head with a lexical part needs the docs' lexical rows "
                         "(lexical_rows) beside their pooled rows")
    mixed, _ = mix_probabilities(P, predict_lexical(component, lexical), model.attrs["lexical_weight"],
                                 model.attrs.get("lexical_mix", "probability"))
    return mixed


def lexical_rows(component, docs: Sequence[Doc]) -> List:
    """The tf-idf rows that a ``DocClassifier.v5`` head's lexical part computes for ``docs``
    (only their tokens are read: plain ``nlp.make_doc`` docs will do)."""
    return component.model.get_ref("lexical_features").predict(list(docs))


def predict_lexical(component, rows: List) -> numpy.ndarray:
    """The probabilities of a ``DocClassifier.v5`` head's lexical part alone, from :func:`lexical_rows`."""
    scorer: Model = component.model.get_ref("lexical_scorer")
    return scorer.ops.to_numpy(scorer.predict(rows))


def train_lexical(
    component,
    rows_train: List,
    targets_train: Tuple[numpy.ndarray, numpy.ndarray],
    *,
    rows_dev: Optional[List] = None,
    dev_score: Optional[Callable[[numpy.ndarray], float]] = None,
    epochs: int = 40,
    batch_size: int = 32,
    learn_rate: float = 30.0,
    l2: float = 1e-4,
    seed: int = 0,
) -> Dict[str, float]:
    """Train a ``DocClassifier.v5`` head's lexical part alone on its tf-idf rows (:func:`lexical_rows`).

    Logistic regression, beside the dense classifier, with the component's
    loss: from zero weights and the label priors as bias, by plain SGD with an
    L2 penalty ``l2`` on the weights. Not Adam: Adam scales each weight's step
    by its own gradient history, so n-grams of a single training doc get as
    large a step as common ones and the model memorises the training docs
    (much lower dev scores in cross-validation). The large default
    ``learn_rate`` is what unit-length rows of a few hundred small values
    need. With ``rows_dev`` and ``dev_score`` the best epoch's weights are
    kept, as in :func:`train_classifier`.
    """
    fix_random_seed(seed)
    linear: Model = component.model.get_ref("lexical_output")
    scorer: Model = component.model.get_ref("lexical_scorer")
    truths, mask = targets_train
    # From zero weights and the label priors every time, as logistic regression starts.
    resize_sparse_linear(linear, linear.get_param("W").shape[0])
    set_prior_bias(linear, truths, mask)
    optimizer = SGD(learn_rate, L2=l2, L2_is_weight_decay=False, grad_clip=0.0)
    rng = numpy.random.RandomState(seed)
    best = (-numpy.inf, None, -1)
    for epoch in range(epochs):
        order = rng.permutation(len(rows_train))
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            scores, backprop = scorer.begin_update([rows_train[i] for i in idx])
            _, d_scores = component.loss((truths[idx], mask[idx]), scores)
            backprop(d_scores)
            scorer.finish_update(optimizer)
        if rows_dev is not None and dev_score is not None:
            score = dev_score(scorer.ops.to_numpy(scorer.predict(rows_dev)))
            if score > best[0]:
                best = (score, linear.to_bytes(), epoch)
    if best[1] is not None:
        linear.from_bytes(best[1])
    return {"best_dev": float(best[0]), "best_epoch": best[2] + 1}


def store_neighbours(component, X_train: numpy.ndarray, truths: numpy.ndarray) -> int:
    """Store the training rows in the head's neighbour vote (``DocClassifier.v4``); returns how many.

    A head without a neighbour vote (v2, v3) is left as it is (returns 0).
    """
    if not component.model.has_ref("neighbours"):
        return 0
    neighbours = component.model.get_ref("neighbours")
    fit_neighbours(neighbours, X_train, truths)
    return len(X_train)
