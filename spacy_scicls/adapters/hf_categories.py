"""``scicls_hf_doc_categories``: a published Hugging Face sequence classifier as a
document-category component (the ERC, arXiv and HRCS seed models).

It writes what ``scicls_doc_categories`` writes: ``doc.cats["<taxonomy>/<code>"]``,
the decided codes and their groups in ``doc._.scicls_labels`` and the certainty in
``doc._.scicls_certainty`` (through :func:`spacy_scicls.decisions.write_decisions`),
so that a seed model and a shared head can replace each other.

- Input: each model's own recipe, a template over the doc's title and abstract
  (ERC ``"{title}. {abstract}"``, HRCS ``"{title}\\n{abstract}"``, arXiv
  ``"{abstract}"``), truncated to the model's maximum length.
- Scores: sigmoids for a multi-label model, a softmax otherwise, read from the
  model's ``problem_type`` as ``transformers.pipeline`` reads it.
- Labels: the model's label names (ERC panel names, HRCS "6.1 Pharmaceuticals")
  are mapped onto taxonomy codes when the model is loaded; a name the taxonomy
  does not know is an error then, not in the middle of a corpus.
- Thresholds: per label from a ``metadata.json`` beside the model when it has
  one (the HRCS seed), else ``threshold``.
"""
import json
import re
import string
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy
import torch
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import logger

from ..decisions import write_decisions
from ..extensions import install_extensions
from ..taxonomies import Taxonomy, UnknownLabelError, load_taxonomy
from ._base import LOADING_DEFAULTS, SeedModelPipe
from .fields import make_title_and_abstract_v1  # noqa: F401 (registers the default field getter)
from .loading import ModelLoadError, inference_context, load_sequence_classifier, read_json_file

install_extensions()

GENERIC_LABEL = re.compile(r"^LABEL_\d+$")
METADATA_FILE = "metadata.json"


@Language.factory(
    "scicls_hf_doc_categories",
    assigns=["doc.cats", "doc._.scicls_labels", "doc._.scicls_certainty"],
    default_config={
        "model": "SIRIS-Lab/erc-classifiers",
        "taxonomy": "erc",
        "template": "{title}. {abstract}",
        "get_fields": {"@misc": "spacy_scicls.title_and_abstract.v1"},
        "labels": None,
        "label_map": {},
        "multi_label": None,
        "threshold": 0.5,
        "use_model_thresholds": True,
        "max_length": None,
        "scorer": {"@scorers": "spacy_scicls.doc_categories_scorer.v1"},
        **LOADING_DEFAULTS,
    },
    # As for scicls_doc_categories: the keys (cats_<taxonomy>_micro_f) depend on the taxonomy.
    default_score_weights={},
)
def make_hf_doc_categorizer(
    nlp: Language,
    name: str,
    model: str,
    taxonomy: str,
    template: str,
    get_fields: Callable[[Doc], Dict[str, str]],
    labels: Optional[List[str]],
    label_map: Dict[str, str],
    multi_label: Optional[bool],
    threshold: float,
    use_model_thresholds: bool,
    max_length: Optional[int],
    scorer: Optional[Callable],
    batch_size: int,
    allow_pickle: bool,
    local_files_only: bool,
    revision: Optional[str],
    half_precision: bool,
    inference_mode: bool,
    save_weights: bool,
) -> "HFDocCategorizer":
    """Document categories from a published sequence classifier.

    model: hub name or folder of a ``*ForSequenceClassification`` model.
    taxonomy: packaged taxonomy name or taxonomy JSON path; keys are ``taxonomy/code``.
    template: the model's input recipe over ``{title}``, ``{abstract}`` and ``{text}``.
    get_fields: doc -> {"title", "abstract", "text"} (default: first line and abstract).
    labels: taxonomy codes of the model's outputs in output order, for models whose
        config names them ``LABEL_0`` ...; None to use the config's names.
    label_map: raw model label -> taxonomy code, for names the taxonomy cannot map.
    multi_label: None to follow the model's config; true for sigmoids, false for a softmax.
    threshold: decision threshold for labels without their own.
    use_model_thresholds: read per-label thresholds from the model's metadata.json.
    max_length: wordpieces per input; None for the model's own maximum.
    scorer: scores like scicls_doc_categories (cats_<taxonomy>_* keys).
    batch_size: inputs per forward pass.
    allow_pickle: also load pickled (pytorch_model.bin) weights; off by default.
    local_files_only: never ask the hub, only the local cache or folder.
    revision: hub revision (branch, tag or commit) to load.
    half_precision: run in float16 on a GPU.
    inference_mode: run under torch.inference_mode() (else torch.no_grad()).
    save_weights: to_disk saves the weights, so that the saved pipeline loads offline.
    """
    return HFDocCategorizer(
        name,
        model,
        taxonomy=taxonomy,
        template=template,
        get_fields=get_fields,
        labels=labels,
        label_map=label_map,
        multi_label=multi_label,
        threshold=threshold,
        use_model_thresholds=use_model_thresholds,
        max_length=max_length,
        scorer=scorer,
        batch_size=batch_size,
        allow_pickle=allow_pickle,
        local_files_only=local_files_only,
        revision=revision,
        half_precision=half_precision,
        inference_mode=inference_mode,
        save_weights=save_weights,
    )


class HFDocCategorizer(SeedModelPipe):
    def __init__(
        self,
        name: str,
        model: str,
        *,
        taxonomy: str,
        template: str = "{title}. {abstract}",
        get_fields: Optional[Callable[[Doc], Dict[str, str]]] = None,
        labels: Optional[Sequence[str]] = None,
        label_map: Optional[Dict[str, str]] = None,
        multi_label: Optional[bool] = None,
        threshold: float = 0.5,
        use_model_thresholds: bool = True,
        max_length: Optional[int] = None,
        scorer: Optional[Callable] = None,
        **settings: Any,
    ) -> None:
        super().__init__(name, model, **settings)
        self.scorer = scorer
        self.taxonomy: Taxonomy = load_taxonomy(taxonomy)
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"[{name}] threshold must be within 0..1, got {threshold}")
        fields = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
        if not fields or not fields <= {"title", "abstract", "text"}:
            raise ValueError(
                f"[{name}] template {template!r} must use some of {{title}}, {{abstract}}, {{text}} and nothing else"
            )
        if max_length is not None and int(max_length) < 2:
            raise ValueError(f"[{name}] max_length must be at least 2, got {max_length}")
        self.get_fields = get_fields or make_title_and_abstract_v1()
        self.cfg.update(
            taxonomy=self.taxonomy.name,
            template=template,
            labels=list(labels) if labels is not None else None,
            label_map=dict(label_map or {}),
            multi_label=multi_label,
            threshold=float(threshold),
            use_model_thresholds=bool(use_model_thresholds),
            max_length=max_length,
        )
        self.codes: Tuple[str, ...] = ()
        self.thresholds = numpy.zeros(0)

    @property
    def labels(self) -> Tuple[str, ...]:
        """Taxonomy codes of the model's outputs, in output order (after loading)."""
        return self.codes

    @property
    def cat_keys(self) -> Tuple[str, ...]:
        return tuple(self.taxonomy.cat_key(code) for code in self.codes)

    # ------------------------------------------------------------ loading
    def _load(self, source: str) -> None:
        config, tokenizer, model = load_sequence_classifier(source, **self.loading_kwargs())
        raw = [str(config.id2label[i]) for i in range(config.num_labels)]
        codes = self._codes(source, raw)
        thresholds = numpy.full(len(codes), self.cfg["threshold"], dtype="float64")
        if self.cfg["use_model_thresholds"]:
            metadata = read_json_file(
                source, METADATA_FILE, local_files_only=bool(self.cfg["local_files_only"]), revision=self.cfg["revision"]
            )
            if metadata is not None:
                thresholds = model_thresholds(source, metadata, raw, codes, thresholds)
        if self.cfg["multi_label"] is None:
            multi_label = is_multi_label(config)
        else:
            multi_label = bool(self.cfg["multi_label"])
        self.hf_config, self.tokenizer, self.model = config, tokenizer, model
        self.raw_labels, self.codes, self.thresholds, self.multi_label = raw, codes, thresholds, multi_label
        self.max_length = input_length(config, tokenizer, self.cfg["max_length"])

    def _codes(self, source: str, raw: List[str]) -> Tuple[str, ...]:
        given = self.cfg["labels"]
        if given is not None and len(given) != len(raw):
            raise ValueError(
                f"[{self.name}] 'labels' lists {len(given)} codes but the model {source!r} has {len(raw)} outputs"
            )
        codes = []
        for i, name in enumerate(raw):
            spelling = given[i] if given is not None else self.cfg["label_map"].get(name, name)
            if given is None and GENERIC_LABEL.match(spelling):
                raise ValueError(
                    f"[{self.name}] the model {source!r} names its outputs {raw[0]!r} ... {raw[-1]!r}, not labels; "
                    f"give their {self.taxonomy.name} codes in output order with 'labels'"
                )
            try:
                codes.append(self.taxonomy.normalise(spelling))
            except UnknownLabelError as err:
                raise ValueError(
                    f"[{self.name}] the model {source!r} has the label {name!r} (output {i}), which taxonomy "
                    f"{self.taxonomy.name!r} does not know: {err} Map it to a code with 'label_map'."
                ) from err
        seen: Dict[str, int] = {}
        for i, code in enumerate(codes):
            if code in seen:
                raise ValueError(
                    f"[{self.name}] the model {source!r} labels {raw[seen[code]]!r} and {raw[i]!r} both map "
                    f"to {self.taxonomy.name} code {code!r}"
                )
            seen[code] = i
        return tuple(codes)

    def _save(self, path: Path) -> None:
        self.model.save_pretrained(str(path), safe_serialization=True)
        self.tokenizer.save_pretrained(str(path))
        # The thresholds in force travel with the weights, in the format they are read in.
        thresholds = {raw: float(t) for raw, t in zip(self.raw_labels, self.thresholds)}
        (path / METADATA_FILE).write_text(
            json.dumps({"thresholds": thresholds}, indent=1), encoding="utf8"
        )

    def _load_saved(self, folder: str) -> None:
        use = self.cfg["use_model_thresholds"]
        self.cfg["use_model_thresholds"] = True
        try:
            super()._load_saved(folder)
        finally:
            self.cfg["use_model_thresholds"] = use

    def _torch_module(self):
        return self.model

    # ------------------------------------------------------------ running
    def input_text(self, doc: Doc) -> str:
        """The model's input for ``doc``, by its recipe (before truncation)."""
        return render(self.cfg["template"], self.get_fields(doc))

    def predict_texts(self, texts: Sequence[str]) -> numpy.ndarray:
        """Probabilities, one row per text and one column per label."""
        self.ensure_loaded()
        out = numpy.zeros((len(texts), len(self.codes)), dtype="float32")
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        device = next(self.model.parameters()).device
        size = int(self.cfg["batch_size"])
        for start in range(0, len(order), size):
            rows = order[start : start + size]
            batch = self.tokenizer(
                [texts[i] for i in rows],
                truncation=True,
                max_length=self.max_length,
                padding=True,
                return_tensors="pt",
            ).to(device)
            with inference_context(bool(self.cfg["inference_mode"])):
                logits = self.model(**batch).logits.float()
            probs = torch.sigmoid(logits) if self.multi_label else torch.softmax(logits, dim=-1)
            out[rows] = probs.cpu().numpy()
        return out

    def score(self, examples, **kwargs) -> Dict[str, Any]:
        """The scores of ``scicls_doc_categories``, for comparing the two."""
        if self.scorer is None:
            return {}
        self.ensure_loaded()
        settings = dict(
            taxonomy=self.taxonomy.name, labels=list(self.codes), multi_label=self.multi_label, threshold=self.cfg["threshold"]
        )
        return self.scorer(examples, **{**settings, **kwargs})

    def _annotate(self, docs: List[Doc]) -> None:
        probs = self.predict_texts([self.input_text(doc) for doc in docs])
        keys = self.cat_keys
        for doc, row in zip(docs, probs):
            for key, value in zip(keys, row):
                doc.cats[key] = float(value)
            write_decisions(doc, self.taxonomy, self.codes, row, self.thresholds, multi_label=self.multi_label)


def render(template: str, fields: Dict[str, str]) -> str:
    """Fill ``template``; if it joins title and abstract and one is empty, the other alone."""
    title, abstract = (fields.get("title") or "").strip(), (fields.get("abstract") or "").strip()
    used = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
    if {"title", "abstract"} <= used and not (title and abstract):
        return title or abstract
    return template.format(title=title, abstract=abstract, text=(fields.get("text") or "").strip())


def is_multi_label(config) -> bool:
    """Sigmoids or a softmax, decided from the config as ``transformers.pipeline`` decides."""
    if config.problem_type == "multi_label_classification" or config.num_labels == 1:
        return True
    return False


def input_length(config, tokenizer, max_length: Optional[int]) -> int:
    """Wordpieces per input: the configured length, capped by what the model can read."""
    limits = [int(n) for n in (getattr(config, "max_position_embeddings", None), tokenizer.model_max_length) if n]
    # Tokenizers without a known limit report a huge number.
    limit = min([n for n in limits if n < 100_000] or [512])
    return min(int(max_length), limit) if max_length else limit


def model_thresholds(
    source: str, metadata: Any, raw: Sequence[str], codes: Sequence[str], default: numpy.ndarray
) -> numpy.ndarray:
    """Per-label thresholds from a model's metadata.json.

    Accepted: a mapping from label (model name, code, or output index) to a
    probability, or a list with one probability per output, found at the top
    level or under a key that contains "threshold". Labels it leaves out keep
    ``default`` (and are logged).
    """
    found = _find_thresholds(metadata, raw, codes)
    if found is None:
        logger.warning("%s has a %s without per-label thresholds; using the default threshold", source, METADATA_FILE)
        return default
    thresholds = default.copy()
    missing = []
    for i in range(len(raw)):
        value = found.get(i)
        if value is None:
            missing.append(raw[i])
            continue
        if not 0.0 <= value <= 1.0:
            raise ModelLoadError(source, f"its {METADATA_FILE} gives {raw[i]!r} the threshold {value}, not within 0..1")
        thresholds[i] = value
    if missing:
        logger.warning("%s: %s has no threshold for %s; using the default", source, METADATA_FILE, missing)
    return thresholds


def _find_thresholds(data: Any, raw: Sequence[str], codes: Sequence[str], key: str = "") -> Optional[Dict[int, float]]:
    index = {name: i for i, name in enumerate(raw)}
    index.update({code: i for i, code in enumerate(codes)})
    index.update({str(i): i for i in range(len(raw))})
    if isinstance(data, list) and "threshold" in key.lower():
        if len(data) == len(raw) and all(isinstance(v, (int, float)) for v in data):
            return {i: float(v) for i, v in enumerate(data)}
        return None
    if isinstance(data, dict):
        numeric = {k: v for k, v in data.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        matched = {index[k]: float(v) for k, v in numeric.items() if k in index}
        if matched and (len(matched) >= len(raw) / 2 or "threshold" in key.lower()):
            return matched
        ordered = sorted(data.items(), key=lambda kv: "threshold" not in str(kv[0]).lower())
        for child_key, child in ordered:
            if isinstance(child, (dict, list)):
                result = _find_thresholds(child, raw, codes, str(child_key))
                if result is not None:
                    return result
    return None
