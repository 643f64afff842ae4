import sys
from pathlib import Path

import pytest
import spacy
from spacy.training import Example
from thinc.api import Adam, fix_random_seed

sys.path.insert(0, str(Path(__file__).parent))

from tiny_data import gold_docs, write_tiny_bert  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
FULL_CONFIG = REPO / "configs" / "full_pipeline.cfg"


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> Path:
    return write_tiny_bert(tmp_path_factory.mktemp("tiny_bert"))


def blank_with_transformer(encoder: Path):
    """A blank English pipeline with one shared scicls transformer of ``encoder`` (short windows, so
    that the tiny test papers span several)."""
    nlp = spacy.blank("en")
    nlp.add_pipe("transformer", config={"model": {
        "@architectures": "spacy_scicls.TransformerModel.v1",
        "name": str(encoder),
        "get_spans": {"@span_getters": "spacy-transformers.strided_spans.v1", "window": 32, "stride": 24},
    }})
    return nlp


def build_full_pipeline(encoder: Path, **overrides):
    config = spacy.util.load_config(
        FULL_CONFIG, overrides={"components.transformer.model.name": str(encoder), **overrides}
    )
    return spacy.util.load_model_from_config(config, auto_fill=True, validate=True)


def train(nlp, n_steps: int, learn_rate: float = 0.001):
    """Initialize and train ``nlp`` on the tiny papers; returns per-step losses."""
    fix_random_seed(0)
    examples = [Example(nlp.make_doc(doc.text), doc) for doc in gold_docs(nlp)]
    nlp.initialize(lambda: examples)
    optimizer = Adam(learn_rate)
    history = []
    for _ in range(n_steps):
        history.append(nlp.update(examples, sgd=optimizer, drop=0.0))
    return examples, history


@pytest.fixture(scope="session")
def trained(tiny_bert):
    """The full pipeline from configs/full_pipeline.cfg on the tiny BERT, trained a little."""
    nlp = build_full_pipeline(tiny_bert)
    examples, history = train(nlp, n_steps=25)
    return nlp, examples, history
