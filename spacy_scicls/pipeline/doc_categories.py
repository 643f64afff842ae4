"""``scicls_doc_categories``: document categories of one taxonomy in ``doc.cats``.

One instance per taxonomy; keys are namespaced ``taxonomy/code`` (``erc/PE6``,
``arxiv/cs.CL``, ``hrcs_rac/6.1``) so that several instances write side by
side into ``doc.cats``, train together on mixed corpora and score separately.
"""
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Tuple

import numpy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example, validate_get_examples
from spacy.vocab import Vocab
from thinc.api import Config, Model
from thinc.types import Floats2d

from ..calibration import apply_temperature, fit_temperature, micro_macro_f1, tune_thresholds
from ..decisions import decide, too_little_text, write_decisions
from ..extensions import install_extensions
from ..ml.doc_classifier import build_doc_classifier_v2  # noqa: F401 (registers architectures)
from ..ml.doc_classifier_descriptions import build_doc_classifier_v6, embed_label_descriptions  # noqa: F401
from ..ml.doc_classifier_lexical import fit_head_lexicon
from ..taxonomies import TAXONOMY_NAMES, Taxonomy, TaxonomyFileError, load_taxonomy
from ._head import SharedEncoderHead
from ._util import LISTENER_TOK2VEC_CONFIG, sample, set_output_width
from .scoring import make_doc_categories_scorer_v1  # noqa: F401 (registers scorer)

install_extensions()

LOSSES = ("squared_error", "cross_entropy")

# By default a head scores documents against its labels' descriptions (v6), so
# that any described taxonomy works with no training data and learns from any.
DEFAULT_DOC_CATEGORIES_CONFIG = """
[model]
@architectures = "spacy_scicls.DocClassifier.v6"
max_tokens = 256
max_title_tokens = 64
hidden_width = 0
dropout = 0.1
neighbours = 20
neighbour_weight = 0.0
neighbour_temperature = 0.1
""" + LISTENER_TOK2VEC_CONFIG
DEFAULT_DOC_CATEGORIES_MODEL = Config().from_str(DEFAULT_DOC_CATEGORIES_CONFIG)["model"]


@Language.factory(
    "scicls_doc_categories",
    assigns=["doc.cats", "doc._.scicls_labels"],
    default_config={
        "model": DEFAULT_DOC_CATEGORIES_MODEL,
        "taxonomy": "erc",
        "threshold": 0.5,
        "at_least_one": False,
        "min_words": 3,
        "loss": "squared_error",
        "scorer": {"@scorers": "spacy_scicls.doc_categories_scorer.v1"},
    },
    # Score keys depend on the taxonomy (cats_<taxonomy>_micro_f), so configs
    # weight them in [training.score_weights]; see configs/.
    default_score_weights={},
)
def make_doc_categorizer(
    nlp: Language,
    name: str,
    model: Model,
    taxonomy: str,
    threshold: float,
    at_least_one: bool,
    min_words: int,
    loss: str,
    scorer: Optional[Callable],
) -> "DocCategorizer":
    """Predict the categories of one taxonomy for each document.

    taxonomy: a packaged taxonomy name (erc, arxiv, hrcs_rac, hrcs_hc) or the
        path of a taxonomy JSON or CSV file. A user taxonomy is saved with the
        head, so a saved pipeline loads without the file.
    threshold: probability at which a label is decided (multi-label heads),
        for labels without a threshold of their own (see ``calibrate``).
    at_least_one: decide the most probable label when none reaches its
        threshold (every arXiv paper has a primary category).
    min_words: a doc with fewer words that carry meaning (not stop words)
        gets probabilities but no labels and certainty None, as a doc with no
        text: "N/A" or "Abstract not available." is nothing to decide on.
        0 decides on any text.
    loss: "squared_error" (of the probabilities, as spaCy's textcat) or
        "cross_entropy" (binary cross-entropy for multi-label heads, which
        gives rare labels a stronger gradient).
    """
    return DocCategorizer(
        nlp.vocab, model, name, taxonomy=taxonomy, threshold=threshold, at_least_one=at_least_one,
        min_words=min_words, loss=loss, scorer=scorer,
    )


AT_LEAST_ONE_MIN_GRID = tuple(round(0.05 * i, 2) for i in range(0, 20))


def fit_at_least_one_min(probs: numpy.ndarray, truths: numpy.ndarray, thresholds: numpy.ndarray) -> float:
    """The ``at_least_one_min`` of :func:`spacy_scicls.decisions.decide` with the
    best micro-F1 on ``probs`` against ``truths`` (ties: the lowest)."""
    best, best_f = 0.0, -1.0
    for floor in AT_LEAST_ONE_MIN_GRID:
        pred = numpy.zeros(probs.shape, dtype=bool)
        for i, row in enumerate(probs):
            pred[i, decide(row, thresholds, multi_label=True, at_least_one=True, at_least_one_min=floor)] = True
        f = micro_macro_f1(pred, truths)["micro_f"]
        if f > best_f + 1e-12:
            best, best_f = floor, f
    return float(best)


class DocCategorizer(SharedEncoderHead):
    """Categories of one taxonomy: probabilities in ``doc.cats``, decisions in ``doc._``.

    ``doc.cats["<taxonomy>/<code>"]`` holds calibrated probabilities (the
    model's, rescaled by ``cfg["temperature"]``). ``doc._.scicls_labels``
    holds the decided codes, most probable first, and their groups;
    ``doc._.scicls_certainty`` how far the doc is from any decision changing
    (:mod:`spacy_scicls.decisions`). Per-label thresholds (``cfg["thresholds"]``)
    and the temperature are fitted on dev data by :meth:`calibrate` and saved
    with the component.
    """

    def __init__(
        self,
        vocab: Vocab,
        model: Model,
        name: str = "scicls_doc_categories",
        *,
        taxonomy: str,
        threshold: float = 0.5,
        at_least_one: bool = False,
        min_words: int = 3,
        loss: str = "squared_error",
        scorer: Optional[Callable] = None,
    ) -> None:
        self.vocab = vocab
        self.model = model
        self.name = name
        self.scorer = scorer
        # A user taxonomy travels in cfg["taxonomy_data"]: a saved pipeline whose
        # config names a file that is not there any more still loads (from_disk
        # restores the taxonomy); anything else wrong with the file is an error now.
        self._missing_taxonomy: Optional[TaxonomyFileError] = None
        try:
            self.taxonomy: Taxonomy = load_taxonomy(taxonomy)
        except TaxonomyFileError as err:
            if err.line is not None or Path(str(taxonomy)).exists():
                raise
            self._missing_taxonomy = err
            self.taxonomy = Taxonomy(Path(str(taxonomy)).stem or "taxonomy", ())
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"[{name}] threshold must be within 0..1, got {threshold}")
        if min_words < 0:
            raise ValueError(f"[{name}] min_words must be 0 or more, got {min_words}")
        if loss not in LOSSES:
            raise ValueError(f"[{name}] loss must be one of {', '.join(LOSSES)}, got {loss!r}")
        self.cfg: Dict = {
            "labels": [],
            "taxonomy": self.taxonomy.name,
            "threshold": threshold,
            "multi_label": bool(model.attrs.get("multi_label", True)),
            "at_least_one": bool(at_least_one),
            # Fitted on dev data holding out-of-field documents (see fit_decisions).
            "at_least_one_min": 0.0,
            "min_words": int(min_words),
            "loss": loss,
            # Fitted on dev data by calibrate(); code -> threshold, and one temperature.
            "thresholds": {},
            "temperature": 1.0,
        }
        if str(taxonomy) not in TAXONOMY_NAMES and self._missing_taxonomy is None:
            self.cfg["taxonomy_data"] = self.taxonomy.to_dict()

    def _restore_taxonomy(self) -> None:
        """After loading: a user taxonomy from the saved ``cfg``, else the error of the missing file."""
        data = self.cfg.get("taxonomy_data")
        if data:
            self.taxonomy = Taxonomy.from_dict(data)
            self._missing_taxonomy = None
        elif self._missing_taxonomy is not None:
            raise self._missing_taxonomy

    def from_disk(self, path, *, exclude=tuple()):
        super().from_disk(path, exclude=exclude)
        self._restore_taxonomy()
        return self

    def from_bytes(self, bytes_data, *, exclude=tuple()):
        super().from_bytes(bytes_data, exclude=exclude)
        self._restore_taxonomy()
        return self

    @property
    def labels(self) -> Tuple[str, ...]:
        """Taxonomy codes this head predicts, in taxonomy order."""
        return tuple(self.cfg["labels"])

    @property
    def cat_keys(self) -> Tuple[str, ...]:
        return tuple(self.taxonomy.cat_key(code) for code in self.labels)

    def add_label(self, label: str) -> int:
        code = self.taxonomy.normalise(label)
        if code in self.labels:
            return 0
        if self.model.get_ref("output_layer").has_dim("nO"):
            raise ValueError(f"[{self.name}] cannot add label {label!r} after the model is initialized")
        order = {c: i for i, c in enumerate(self.taxonomy.codes)}
        self.cfg["labels"] = sorted(set(self.labels) | {code}, key=order.__getitem__)
        return 1

    # -- prediction -------------------------------------------------------
    def predict(self, docs: Iterable[Doc]) -> Floats2d:
        docs = list(docs)
        if not docs:
            return self.model.ops.alloc2f(0, len(self.labels))
        return self.model.predict(docs)

    @property
    def temperature(self) -> float:
        return float(self.cfg.get("temperature", 1.0))

    @property
    def thresholds(self) -> numpy.ndarray:
        """Each label's decision threshold (fitted ones, else ``cfg["threshold"]``), in label order."""
        fitted = self.cfg.get("thresholds") or {}
        return numpy.asarray([float(fitted.get(code, self.cfg["threshold"])) for code in self.labels])

    def calibrated(self, scores) -> numpy.ndarray:
        """The model's probabilities rescaled by the fitted temperature."""
        scores = self.model.ops.to_numpy(scores)
        return apply_temperature(scores, self.temperature, multi_label=self.cfg["multi_label"])

    def set_annotations(self, docs: Iterable[Doc], scores: Floats2d) -> None:
        probs = self.calibrated(scores)
        keys = self.cat_keys
        thresholds = self.thresholds
        for doc, row in zip(docs, probs):
            for key, value in zip(keys, row):
                doc.cats[key] = float(value)
            write_decisions(
                doc,
                self.taxonomy,
                self.labels,
                row,
                thresholds,
                multi_label=self.cfg["multi_label"],
                at_least_one=self.cfg.get("at_least_one", False),
                at_least_one_min=float(self.cfg.get("at_least_one_min", 0.0)),
                # A doc with no text, or next to none ("N/A"), gets
                # probabilities but no decision: there is nothing to decide on.
                abstain=too_little_text(doc, int(self.cfg.get("min_words", 3))),
            )

    # -- calibration ------------------------------------------------------
    def calibrate(
        self,
        examples: Iterable[Example],
        *,
        nlp: Optional[Language] = None,
        temperature: bool = True,
        thresholds: bool = True,
        min_positives: int = 3,
    ) -> Dict[str, float]:
        """Fit the temperature and per-label thresholds on dev ``examples``.

        Only examples whose gold doc has a label of this taxonomy count. The
        predicted docs must have been through the shared transformer, or pass
        ``nlp``: its components before this one are run on them first. The
        fitted values go into ``cfg`` and are saved by ``to_disk``.
        """
        examples = [eg for eg in examples if self._has_annotation(eg)]
        if not examples:
            raise ValueError(f"[{self.name}] no dev example carries a '{self.taxonomy.name}/...' label")
        docs = [eg.predicted for eg in examples]
        if nlp is not None:
            for name, proc in nlp.pipeline:
                if name == self.name:
                    break
                docs = list(proc.pipe(docs)) if hasattr(proc, "pipe") else [proc(doc) for doc in docs]
        scores = self.model.ops.to_numpy(self.predict(docs))
        truths, _ = self._truths(examples)
        return self.fit_decisions(
            scores, truths, temperature=temperature, thresholds=thresholds,
            min_positives=min_positives,
        )

    def fit_decisions(
        self,
        scores: numpy.ndarray,
        truths: numpy.ndarray,
        *,
        temperature: bool = True,
        thresholds: bool = True,
        min_positives: int = 3,
    ) -> Dict[str, float]:
        """:meth:`calibrate` from the model's raw dev ``scores`` and 0/1 ``truths`` (docs x labels).

        Rows of ``truths`` without any label are documents from outside the
        taxonomy's field (e.g. NIHR awards for the arXiv head). With such rows
        and ``at_least_one``, ``cfg["at_least_one_min"]`` is fitted too: the
        lowest top probability at which the most probable label is still
        decided, chosen for the best micro-F1 over all the rows.
        """
        scores = numpy.asarray(scores, dtype="float64")
        truths = numpy.asarray(truths, dtype="float64")
        if scores.shape != truths.shape or scores.shape[1:] != (len(self.labels),):
            raise ValueError(
                f"[{self.name}] scores {scores.shape} and truths {truths.shape} must both be "
                f"(n_docs, {len(self.labels)})"
            )
        multi_label = self.cfg["multi_label"]
        if temperature:
            self.cfg["temperature"] = fit_temperature(scores, truths, multi_label=multi_label)
        report = {"temperature": self.temperature}
        if thresholds and multi_label:
            probs = apply_temperature(scores, self.temperature, multi_label=multi_label)
            per_label, global_t = tune_thresholds(probs, truths, min_positives=min_positives)
            self.cfg["threshold"] = global_t
            self.cfg["thresholds"] = {code: float(t) for code, t in zip(self.labels, per_label)}
            report["threshold"] = global_t
            if self.cfg.get("at_least_one") and not truths.any(axis=1).all():
                self.cfg["at_least_one_min"] = fit_at_least_one_min(probs, truths, self.thresholds)
                report["at_least_one_min"] = self.cfg["at_least_one_min"]
        return report

    def _has_annotation(self, example: Example) -> bool:
        prefix = f"{self.taxonomy.name}/"
        return any(key.startswith(prefix) for key in example.reference.cats)

    # -- training ---------------------------------------------------------
    def _truths(self, examples: Iterable[Example]) -> Tuple[numpy.ndarray, numpy.ndarray]:
        """Targets and a mask: examples with no label of this taxonomy are masked out.

        Gold docs list the labels that apply (``doc.cats["erc/PE6"] = 1.0``);
        labels of this taxonomy that are absent are negatives.
        """
        examples = list(examples)
        prefix = f"{self.taxonomy.name}/"
        index = {code: i for i, code in enumerate(self.labels)}
        truths = numpy.zeros((len(examples), len(self.labels)), dtype="float32")
        mask = numpy.zeros((len(examples), 1), dtype="float32")
        for row, eg in enumerate(examples):
            for key, value in eg.reference.cats.items():
                if not key.startswith(prefix):
                    continue
                mask[row] = 1.0
                code = self.taxonomy.normalise(key[len(prefix):])
                if code not in index:
                    raise ValueError(
                        f"[{self.name}] training label {key!r} was not among the labels seen at "
                        f"initialization ({len(self.labels)} labels); re-run initialize on all training data"
                    )
                truths[row, index[code]] = float(value)
        return truths, mask

    def training_batch(self, examples: List[Example]) -> Tuple[List[Doc], Tuple[numpy.ndarray, numpy.ndarray]]:
        return [eg.predicted for eg in examples], self._truths(examples)

    def loss(self, targets: Tuple[numpy.ndarray, numpy.ndarray], scores: Floats2d) -> Tuple[float, Floats2d]:
        """Loss over the examples that carry this taxonomy, and its gradient w.r.t. the probabilities.

        ``squared_error``: of the probabilities. ``cross_entropy`` (multi-label
        heads): binary cross-entropy; its gradient w.r.t. the probabilities is
        ``(p - y) / (p (1 - p))``, which the sigmoid's backward pass turns into
        ``p - y`` on the logits.
        """
        truths, mask = (self.model.ops.asarray2f(array) for array in targets)
        # The mask is per doc (n, 1) or per doc and label (n, labels: a label
        # without training positives may be left to its description); the loss is
        # a mean over the docs that count.
        n = max(float(mask.max(axis=1).sum()), 1.0)
        diff = (scores - truths) * mask
        if self.cfg.get("loss", "squared_error") == "cross_entropy" and self.cfg["multi_label"]:
            xp = self.model.ops.xp
            p = xp.clip(scores, 1e-7, 1 - 1e-7)
            bce = -(truths * xp.log(p) + (1 - truths) * xp.log(1 - p)) * mask
            return float(bce.sum() / n), diff / xp.maximum(scores * (1 - scores), 1e-7) / n
        return float((diff**2).sum() / n), diff / n

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        *,
        nlp: Optional[Language] = None,
        labels: Optional[List[str]] = None,
    ) -> None:
        """Labels come from ``labels`` (e.g. ``[initialize.components.NAME.labels]``)
        or else from every training example's ``taxonomy/...`` cats; a label the
        taxonomy does not know is an error. A head that scores by the labels'
        descriptions (``DocClassifier.v6``) also takes every current (non-legacy)
        label of its taxonomy, so it needs no training data at all, and embeds
        the descriptions with the pipeline's encoder (``nlp``, which spaCy passes)."""
        validate_get_examples(get_examples, "DocCategorizer.initialize")
        if self._missing_taxonomy is not None:
            raise self._missing_taxonomy
        by_description = self.model.has_ref("label_descriptions")
        if labels is None:
            prefix = f"{self.taxonomy.name}/"
            labels = [
                key[len(prefix):]
                for eg in get_examples()
                for key in eg.reference.cats
                if key.startswith(prefix)
            ]
            if by_description:
                labels += [label.code for label in self.taxonomy.labels if not label.legacy]
        for label in labels:
            self.add_label(label)
        if not self.labels:
            raise ValueError(
                f"[{self.name}] no labels for taxonomy {self.taxonomy.name!r}: no training example has a "
                f"'{self.taxonomy.name}/<code>' key in doc.cats, and no labels were given"
            )
        if by_description and nlp is None:
            raise ValueError(f"[{self.name}] initialize needs the pipeline (nlp=...) to embed the label descriptions")
        set_output_width(self.model, len(self.labels))
        if by_description:
            self.model.get_ref("label_descriptions").set_dim("nO", len(self.labels), force=True)
        if self.model.has_ref("lexical_features"):
            # A lexical part (DocClassifier.v5) learns only the n-grams of its
            # lexicon, so the lexicon is fitted on every training doc.
            fit_head_lexicon(self.model, [eg.reference for eg in get_examples()])
        docs = [eg.predicted for eg in sample(get_examples())]
        self.model.initialize(X=docs, Y=self.model.ops.alloc2f(len(docs), len(self.labels)))
        if by_description:
            embed_label_descriptions(nlp, self)


def add_taxonomy_head(nlp: Language, taxonomy: str, *, name: Optional[str] = None) -> "DocCategorizer":
    """Add a ``scicls_doc_categories`` head for a described taxonomy to a loaded pipeline, ready to run.

    The head (the default ``DocClassifier.v6``) reads the pipeline's transformer
    and scores documents against the taxonomy's label descriptions, which it
    embeds now with that transformer; no training data is needed and the other
    components are left as they are. ``name`` defaults to the taxonomy's name.
    """
    loaded = load_taxonomy(taxonomy)
    name = name or loaded.name
    if name in nlp.component_names:
        raise ValueError(f"the pipeline already has a component named {name!r}; give the taxonomy file another name")
    if not loaded.described:
        raise ValueError(f"taxonomy {str(taxonomy)!r}: every label needs a description to be scored without training data")
    pipe = nlp.add_pipe("scicls_doc_categories", name=name, config={"taxonomy": str(taxonomy)})
    # The model is initialized on a sample doc as the transformer has annotated it
    # (the listener reads the transformer's output, not raw text).
    from spacy_transformers import Transformer

    sample_doc = nlp.make_doc("A sample document.")
    for _, proc in nlp.pipeline:
        if isinstance(proc, Transformer):
            sample_doc = proc(sample_doc)
    pipe.initialize(lambda: [Example(sample_doc, nlp.make_doc(sample_doc.text))], nlp=nlp)
    return pipe
