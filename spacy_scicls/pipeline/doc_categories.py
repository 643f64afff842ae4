"""``scicls_doc_categories``: document categories of one taxonomy in ``doc.cats``.

One instance per taxonomy; keys are namespaced ``taxonomy/code`` (``erc/PE6``,
``arxiv/cs.CL``, ``hrcs_rac/6.1``) so that several instances write side by
side into ``doc.cats``, train together on mixed corpora and score separately.
"""
from typing import Callable, Dict, Iterable, List, Optional, Tuple

import numpy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example, validate_get_examples
from spacy.vocab import Vocab
from thinc.api import Config, Model
from thinc.types import Floats2d

from ..decisions import write_decisions
from ..extensions import install_extensions
from ..ml.doc_classifier import build_doc_classifier_v1  # noqa: F401 (registers architecture)
from ..taxonomies import Taxonomy, load_taxonomy
from ._head import SharedEncoderHead
from ._util import LISTENER_TOK2VEC_CONFIG, sample, set_output_width
from .scoring import make_doc_categories_scorer_v1  # noqa: F401 (registers scorer)

install_extensions()

DEFAULT_DOC_CATEGORIES_CONFIG = """
[model]
@architectures = "spacy_scicls.DocClassifier.v1"
max_tokens = 256
hidden_width = 256
dropout = 0.1
exclusive_classes = false
""" + LISTENER_TOK2VEC_CONFIG
DEFAULT_DOC_CATEGORIES_MODEL = Config().from_str(DEFAULT_DOC_CATEGORIES_CONFIG)["model"]


@Language.factory(
    "scicls_doc_categories",
    assigns=["doc.cats", "doc._.scicls_labels"],
    default_config={
        "model": DEFAULT_DOC_CATEGORIES_MODEL,
        "taxonomy": "erc",
        "threshold": 0.5,
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
    scorer: Optional[Callable],
) -> "DocCategorizer":
    """Predict the categories of one taxonomy for each document.

    taxonomy: a packaged taxonomy name (erc, arxiv, hrcs_rac, hrcs_hc) or the
        path of a taxonomy JSON file.
    threshold: probability at which a label is decided (multi-label heads).
    """
    return DocCategorizer(nlp.vocab, model, name, taxonomy=taxonomy, threshold=threshold, scorer=scorer)


class DocCategorizer(SharedEncoderHead):
    def __init__(
        self,
        vocab: Vocab,
        model: Model,
        name: str = "scicls_doc_categories",
        *,
        taxonomy: str,
        threshold: float = 0.5,
        scorer: Optional[Callable] = None,
    ) -> None:
        self.vocab = vocab
        self.model = model
        self.name = name
        self.scorer = scorer
        self.taxonomy: Taxonomy = load_taxonomy(taxonomy)
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"[{name}] threshold must be within 0..1, got {threshold}")
        self.cfg: Dict = {
            "labels": [],
            "taxonomy": self.taxonomy.name,
            "threshold": threshold,
            "multi_label": bool(model.attrs.get("multi_label", True)),
        }

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

    def set_annotations(self, docs: Iterable[Doc], scores: Floats2d) -> None:
        scores = self.model.ops.to_numpy(scores)
        keys = self.cat_keys
        thresholds = numpy.full(len(keys), self.cfg["threshold"])
        for doc, row in zip(docs, scores):
            for key, value in zip(keys, row):
                doc.cats[key] = float(value)
            write_decisions(
                doc, self.taxonomy, self.labels, row, thresholds, multi_label=self.cfg["multi_label"]
            )

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
        """Squared error of the probabilities over the examples that carry this taxonomy."""
        truths, mask = (self.model.ops.asarray2f(array) for array in targets)
        n = max(float(mask.sum()), 1.0)
        diff = (scores - truths) * mask
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
        taxonomy does not know is an error."""
        validate_get_examples(get_examples, "DocCategorizer.initialize")
        if labels is None:
            prefix = f"{self.taxonomy.name}/"
            labels = [
                key[len(prefix):]
                for eg in get_examples()
                for key in eg.reference.cats
                if key.startswith(prefix)
            ]
        for label in labels:
            self.add_label(label)
        if not self.labels:
            raise ValueError(
                f"[{self.name}] no labels for taxonomy {self.taxonomy.name!r}: no training example has a "
                f"'{self.taxonomy.name}/<code>' key in doc.cats, and no labels were given"
            )
        set_output_width(self.model, len(self.labels))
        docs = [eg.predicted for eg in sample(get_examples())]
        self.model.initialize(X=docs, Y=self.model.ops.alloc2f(len(docs), len(self.labels)))
