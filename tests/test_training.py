"""Every head learns, on one shared transformer; and ``spacy train`` runs the config as is."""
import json
import os
import subprocess
import sys

import pytest
import spacy
from spacy.tokens import DocBin

from conftest import FULL_CONFIG
from tiny_data import gold_docs

HEADS = ["sections", "erc", "arxiv", "hrcs_rac", "hrcs_hc", "entities"]


def test_every_head_loss_goes_down(trained):
    nlp, _, history = trained
    for head in HEADS + ["transformer"]:
        first = history[0][head]
        last = sum(step[head] for step in history[-3:]) / 3
        # 25 steps on three tiny papers: every head must lose a good part of
        # its loss (the sections head v2, with its hidden layer, about half;
        # that it then labels the training papers is checked below).
        assert last < 0.6 * first, f"{head}: loss {first:.4f} -> {last:.4f}"


def test_heads_learn_the_training_papers(trained):
    nlp, examples, _ = trained
    scores = nlp.evaluate(examples)
    assert scores["sections_f"] > 0.8
    assert scores["sections_boundaries_f"] == 1.0
    assert scores["cats_erc_micro_f"] == 1.0
    assert scores["cats_arxiv_micro_f"] == 1.0
    # Each category head reports under its own keys.
    for taxonomy in ("erc", "arxiv", "hrcs_rac", "hrcs_hc"):
        assert f"cats_{taxonomy}_micro_f" in scores


def test_every_listener_is_connected_to_the_one_transformer(trained):
    nlp, _, _ = trained
    transformer = nlp.get_pipe("transformer")
    assert sorted(transformer.listening_components) == sorted(HEADS)
    assert [name for name, proc in nlp.pipeline if proc.__class__.__name__ == "Transformer"] == ["transformer"]


@pytest.mark.slow
def test_spacy_train_cli_runs_the_config_as_is(tmp_path):
    """The shipped config with its default encoder (all-MiniLM-L6-v2 from its
    package, offline), trained a few steps by spaCy's own CLI."""
    nlp = spacy.blank("en")
    docs = gold_docs(nlp)
    DocBin(docs=docs, store_user_data=True).to_disk(tmp_path / "train.spacy")
    DocBin(docs=docs, store_user_data=True).to_disk(tmp_path / "dev.spacy")
    out = tmp_path / "out"
    result = subprocess.run(
        [
            sys.executable, "-m", "spacy", "train", str(FULL_CONFIG),
            "--output", str(out),
            "--paths.train", str(tmp_path / "train.spacy"),
            "--paths.dev", str(tmp_path / "dev.spacy"),
            "--training.max_steps", "6",
            "--training.eval_frequency", "3",
            "--training.optimizer.learn_rate.warmup_steps", "1",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert (out / "model-last" / "config.cfg").exists()
    # spacy evaluate reports every head under its own keys.
    metrics = tmp_path / "metrics.json"
    result = subprocess.run(
        [sys.executable, "-m", "spacy", "evaluate", str(out / "model-last"), str(tmp_path / "dev.spacy"),
         "--output", str(metrics)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    scores = json.loads(metrics.read_text())
    for key in ("sections_f", "cats_erc_micro_f", "cats_arxiv_micro_f", "cats_hrcs_rac_micro_f", "ents_f"):
        assert key in scores, key
