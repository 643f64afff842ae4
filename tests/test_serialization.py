"""A trained pipeline saved and loaded, on disk and in bytes, annotates identically."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import spacy

from annotations import annotations
from conftest import build_full_pipeline
from tiny_data import PAPERS

TEXTS = [paper[0] for paper in PAPERS]


def test_to_disk_then_spacy_load_in_a_fresh_interpreter(trained, tmp_path):
    nlp, _, _ = trained
    nlp.to_disk(tmp_path / "pipeline")
    expected = [annotations(doc) for doc in nlp.pipe(TEXTS)]
    # The fresh interpreter does not import spacy_scicls: spaCy must find the
    # components and architectures through the package's entry points.
    script = (
        "import json, sys, spacy\n"
        "nlp = spacy.load(sys.argv[1])\n"
        "sys.path.insert(0, sys.argv[2])\n"
        "from annotations import annotations\n"
        "texts = json.loads(sys.stdin.read())\n"
        "print(json.dumps([annotations(d) for d in nlp.pipe(texts)]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "pipeline"), str(Path(__file__).parent)],
        input=json.dumps(TEXTS),
        capture_output=True,
        text=True,
        env={"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PATH": ""},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout) == json.loads(json.dumps(expected))


def test_entry_points_resolve_without_importing_the_package():
    script = (
        "import sys, spacy\n"
        "from spacy.util import registry\n"
        "nlp = spacy.blank('en')\n"
        "for name in ['scicls_sections', 'scicls_doc_categories', 'scicls_entities']:\n"
        "    nlp.add_pipe(name, name=name)\n"
        "for name in ['spacy_scicls.TransformerModel.v1', 'spacy_scicls.DocClassifier.v2',\n"
        "             'spacy_scicls.SectionClassifier.v3', 'spacy_scicls.SpanEntityScorer.v2']:\n"
        "    registry.architectures.get(name)\n"
        "registry.misc.get('spacy_scicls.rule_based_sections.v1')\n"
        "registry.scorers.get('spacy_scicls.doc_categories_scorer.v1')\n"
        "registry.scorers.get('spacy_scicls.section_scorer.v1')\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "ok"


def test_every_registered_function_is_an_entry_point():
    """A registered function missing from setup.cfg resolves only after an
    explicit ``import spacy_scicls``; spacy.load on a plain interpreter would
    fail on a pipeline that uses it."""
    import configparser

    import spacy_scicls  # noqa: F401 (registers everything)
    from spacy.util import registry

    setup = configparser.ConfigParser()
    setup.read(Path(__file__).parents[1] / "setup.cfg")
    entry_points = setup["options.entry_points"]
    for group, table in [("spacy_architectures", registry.architectures), ("spacy_misc", registry.misc),
                         ("spacy_scorers", registry.scorers), ("spacy_readers", registry.readers),
                         ("spacy_callbacks", registry.callbacks)]:
        declared = {line.split("=")[0].strip() for line in entry_points[group].strip().splitlines()}
        registered = {name for name in table.get_all() if name.startswith("spacy_scicls.")}
        assert registered <= declared, f"{group}: not in setup.cfg: {sorted(registered - declared)}"


def test_to_bytes_from_bytes(trained, tiny_bert):
    nlp, _, _ = trained
    data = nlp.to_bytes()
    fresh = build_full_pipeline(tiny_bert)
    fresh.from_bytes(data)
    assert [annotations(d) for d in fresh.pipe(TEXTS)] == [annotations(d) for d in nlp.pipe(TEXTS)]


def test_thresholds_and_labels_survive_to_disk(trained, tmp_path):
    nlp, _, _ = trained
    nlp.get_pipe("erc").cfg["threshold"] = 0.3
    try:
        nlp.to_disk(tmp_path / "p")
        loaded = spacy.load(tmp_path / "p")
    finally:
        nlp.get_pipe("erc").cfg["threshold"] = 0.5
    assert loaded.get_pipe("erc").cfg["threshold"] == pytest.approx(0.3)
    for name in ("erc", "arxiv", "hrcs_rac", "hrcs_hc", "entities"):
        assert loaded.get_pipe(name).labels == nlp.get_pipe(name).labels
    assert loaded.get_pipe("entities").cfg["ents_policy"] == "keep_existing"
