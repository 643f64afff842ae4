"""The three ways to do the jobs that the benchmark compares.

- ``bare``: the transformer component alone, the floor: no pipeline that
  reads this encoder can be faster.
- ``full``: the shared pipeline, every head reading the one transformer.
- ``seed``: the same jobs done the way the five published seed models do them,
  one separate encoder per job: five pipelines, each with its own copy of the
  transformer and its own head(s), run one after another over the corpus.

The five seed jobs and the heads of the shared pipeline that do them:

  seed model                           job pipeline   heads                reads
  ERC panels (erc-classifiers)         erc            erc                  title + abstract
  IMRaD sections (section-classifier)  sections       sections             the whole text
  arXiv field (abstract-classifier)    arxiv          arxiv                title + abstract
  HRCS activity codes                  hrcs           hrcs_rac, hrcs_hc    title + abstract
  climate entities (CliReNER)          entities       entities             the whole text

The HRCS job carries both HRCS heads on one encoder (the seed model for
activity codes has no health-category twin); this favours the seed way, so
the separate/full ratio is if anything understated. A head of a user's
pipeline that no seed job names gets a job of its own reading the whole text.

Every pipeline is loaded from one saved pipeline with ``spacy.load(...,
exclude=...)``, so each seed job's transformer is a separate copy of the
same weights. By default that saved pipeline is built, untrained, from
``configs/full_pipeline.cfg`` and initialized on the bundled example
annotations: its weights are random but every shape is real.
"""
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import spacy
from spacy.language import Language

REPO = Path(__file__).resolve().parents[1]
FULL_CONFIG = REPO / "configs" / "full_pipeline.cfg"
EXAMPLES = REPO / "examples"
TRANSFORMER = "transformer"

# seed job -> (heads of the shared pipeline, which text of a record it reads)
SEED_JOBS: Dict[str, Tuple[Tuple[str, ...], str]] = {
    "erc": (("erc",), "front"),
    "sections": (("sections",), "text"),
    "arxiv": (("arxiv",), "front"),
    "hrcs": (("hrcs_rac", "hrcs_hc"), "front"),
    "entities": (("entities",), "text"),
}
N_ENTITY_LABELS = 28  # the CliReNER seed model's entity types


@dataclass
class Job:
    name: str
    nlp: Language
    reads: str  # "text" or "front"


@dataclass
class Configuration:
    """A way of doing the jobs: one or more pipelines run one after another."""

    name: str
    jobs: List[Job] = field(default_factory=list)

    def run(self, records: Sequence, batch_size: int) -> int:
        """Annotate every record; returns the number of docs produced."""
        produced = 0
        for job in self.jobs:
            texts = (getattr(record, job.reads) for record in records)
            for _ in job.nlp.pipe(texts, batch_size=batch_size):
                produced += 1
        return produced

    @property
    def n_encoders(self) -> int:
        return sum(1 for job in self.jobs if TRANSFORMER in job.nlp.pipe_names)


def build_default_pipeline(
    output: Path,
    encoder: Optional[str] = None,
    n_entity_labels: int = N_ENTITY_LABELS,
) -> Path:
    """Build the full pipeline of configs/full_pipeline.cfg, initialize it
    (untrained) on the bundled example annotations, and save it to ``output``."""
    from spacy_scicls.training import examples_from_annotations

    overrides = {"components.transformer.model.name": encoder} if encoder else {}
    config = spacy.util.load_config(FULL_CONFIG, overrides=overrides)
    nlp = spacy.util.load_model_from_config(config, auto_fill=True, validate=True)
    examples = examples_from_annotations(nlp, EXAMPLES / "annotations.json", EXAMPLES / "papers")
    entity_labels = {ent.label_ for eg in examples for ent in eg.reference.ents}
    # As many entity types as the seed entity model has, so that the entity
    # head's output layer has its real width.
    labels = sorted(entity_labels)
    labels += [f"entity_type_{i:02d}" for i in range(len(labels), n_entity_labels)]
    if "entities" in nlp.pipe_names:
        nlp.config["initialize"]["components"]["entities"] = {"labels": labels}
    nlp.initialize(lambda: examples)
    output.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(output)
    return output


# On GPU, larger batches keep the device busy; memory is not the limit for an
# encoder of this size. Used unless the command line says otherwise.
GPU_MAX_BATCH_ITEMS = 16384  # spaCy tokens per transformer sub-batch (docs x longest doc)
GPU_PREDICT_MAX_WORDPIECES = 32768  # padded wordpieces per encoder pass


def load_overrides(
    gpu: bool,
    mixed_precision: Optional[bool] = None,
    max_batch_items: Optional[int] = None,
    predict_max_wordpieces: Optional[int] = None,
    path: Optional[Path] = None,
) -> dict:
    """Config overrides for the transformer component when a pipeline is loaded.

    Half precision (``mixed_precision``) and larger batches are the defaults
    on GPU; on CPU the pipeline's own settings are kept.
    ``predict_max_wordpieces`` applies to ``spacy_scicls.TransformerModel.v1``
    only, so a pipeline at ``path`` with another architecture keeps its own.
    """
    if mixed_precision is None:
        mixed_precision = gpu
    if gpu and max_batch_items is None:
        max_batch_items = GPU_MAX_BATCH_ITEMS
    model: dict = {"mixed_precision": bool(mixed_precision)}
    if gpu and predict_max_wordpieces is None:
        predict_max_wordpieces = GPU_PREDICT_MAX_WORDPIECES
    if predict_max_wordpieces is not None and _is_scicls_transformer(path):
        model["predict_max_wordpieces"] = int(predict_max_wordpieces)
    transformer: dict = {"model": model}
    if max_batch_items is not None:
        transformer["max_batch_items"] = int(max_batch_items)
    return {"components": {TRANSFORMER: transformer}}


def _is_scicls_transformer(path: Optional[Path]) -> bool:
    if path is None:
        return True
    config = spacy.util.load_config(Path(path) / "config.cfg")
    architecture = config["components"].get(TRANSFORMER, {}).get("model", {}).get("@architectures")
    return architecture == "spacy_scicls.TransformerModel.v1"


def pipeline_heads(path: Path) -> List[str]:
    config = spacy.util.load_config(Path(path) / "config.cfg")
    pipe_names = list(config["nlp"]["pipeline"])
    if TRANSFORMER not in pipe_names:
        raise ValueError(f"the pipeline at {path} has no component named {TRANSFORMER!r}")
    return [name for name in pipe_names if name != TRANSFORMER]


def seed_job_heads(heads: Iterable[str]) -> Dict[str, Tuple[Tuple[str, ...], str]]:
    """The seed jobs that the pipeline's heads can do, plus one job per other head."""
    heads = list(heads)
    jobs: Dict[str, Tuple[Tuple[str, ...], str]] = {}
    covered = set()
    for job, (job_heads, reads) in SEED_JOBS.items():
        present = tuple(h for h in job_heads if h in heads)
        if present:
            jobs[job] = (present, reads)
            covered.update(present)
    for head in heads:
        if head not in covered:
            jobs[head] = ((head,), "text")
    return jobs


def load_configuration(name: str, path: Path, overrides: Optional[dict] = None) -> Configuration:
    """Load the configuration ``name`` (``bare``, ``full`` or ``seed``) from the saved pipeline ``path``."""
    path = Path(path)
    overrides = overrides or {}
    heads = pipeline_heads(path)
    if name == "bare":
        nlp = spacy.load(path, exclude=heads, config=overrides)
        return Configuration("bare encoder", [Job("bare", nlp, "text")])
    if name == "full":
        nlp = spacy.load(path, config=overrides)
        return Configuration("full shared pipeline", [Job("full", nlp, "text")])
    if name == "seed":
        jobs = []
        for job, (job_heads, reads) in seed_job_heads(heads).items():
            exclude = [h for h in heads if h not in job_heads]
            jobs.append(Job(job, spacy.load(path, exclude=exclude, config=overrides), reads))
        return Configuration(f"seed way ({len(jobs)} encoders)", jobs)
    raise ValueError(f"unknown configuration {name!r}: use 'bare', 'full' or 'seed'")


CONFIGURATIONS = ("bare", "full", "seed")
