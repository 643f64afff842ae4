"""spacy_scicls.training.calibrate: what a pipeline fits on dev data after its weights."""
import numpy
import pytest
import spacy
from spacy.tokens import DocBin
from spacy.training import Example
from spacy.util import registry

from conftest import FULL_CONFIG, build_full_pipeline, train
from spacy_scicls.ml.section_order import learn_transitions
from spacy_scicls.training.calibrate import calibrate_pipeline, section_label_sequences
from tiny_data import gold_docs

CATEGORY_HEADS = ("erc", "arxiv", "hrcs_rac", "hrcs_hc")


@pytest.fixture(scope="module")
def briefly_trained(tiny_bert):
    nlp = build_full_pipeline(tiny_bert)
    train(nlp, n_steps=3)
    return nlp


def dev_examples(nlp, keep=lambda doc: True):
    return [Example(nlp.make_doc(doc.text), doc) for doc in gold_docs(nlp) if keep(doc)]


def test_every_head_is_fitted_on_the_dev_docs_that_carry_its_annotation(briefly_trained):
    nlp = briefly_trained
    for name in CATEGORY_HEADS:
        assert nlp.get_pipe(name).cfg["thresholds"] == {} and nlp.get_pipe(name).temperature == 1.0
    assert nlp.get_pipe("sections").cfg["transitions"] is None
    # no dev doc with an HRCS label: those heads are left as they were, and said so
    examples = dev_examples(nlp, keep=lambda doc: not any(key.startswith("hrcs") for key in doc.cats))
    report = calibrate_pipeline(nlp, examples)
    for name in ("erc", "arxiv"):
        head = nlp.get_pipe(name)
        assert report[name]["temperature"] == head.temperature != 1.0
        assert set(head.cfg["thresholds"]) == set(head.labels)
    for name in ("hrcs_rac", "hrcs_hc"):
        assert "skipped" in report[name] and nlp.get_pipe(name).cfg["thresholds"] == {}
    sections = nlp.get_pipe("sections")
    expected = learn_transitions(section_label_sequences(sections, examples), len(sections.labels))
    numpy.testing.assert_allclose(sections.cfg["transitions"], expected, atol=1e-6)
    assert report["sections"] == {"label_order_from_docs": len(examples)}
    # a paper's gold order: its sections in reading order, by label
    first = section_label_sequences(sections, examples[:1])[0]
    assert [sections.labels[i] for i in first] == [s.label_ for s in examples[0].reference.spans["sections"]]


def test_spacy_train_saves_a_calibrated_pipeline(tiny_bert, tmp_path):
    """`spacy train configs/full_pipeline.cfg` fits the decisions on dev before it saves."""
    from spacy.cli.train import train as spacy_train

    nlp = spacy.blank("en")
    for split in ("train", "dev"):
        DocBin(docs=gold_docs(nlp), store_user_data=True).to_disk(tmp_path / f"{split}.spacy")
    overrides = {
        "paths.train": str(tmp_path / "train.spacy"), "paths.dev": str(tmp_path / "dev.spacy"),
        "components.transformer.model.name": str(tiny_bert),
        "training.max_steps": 2, "training.eval_frequency": 1,
    }
    spacy_train(FULL_CONFIG, tmp_path / "out", overrides=overrides)
    trained = spacy.load(tmp_path / "out" / "model-best")
    for name in CATEGORY_HEADS:
        head = trained.get_pipe(name)
        assert set(head.cfg["thresholds"]) == set(head.labels) and head.temperature != 1.0
    assert trained.get_pipe("sections").cfg["transitions"] is not None
    callback = registry.resolve({"cb": trained.config["training"]["before_to_disk"]})["cb"]
    assert callable(callback)


def test_missing_dev_data_is_a_clear_error(tmp_path):
    from spacy_scicls.training.calibrate import make_calibrate_on_dev

    with pytest.raises(ValueError, match="no dev data"):
        make_calibrate_on_dev(tmp_path / "missing.spacy")(spacy.blank("en"))


def test_scicls_calibrate_fits_a_saved_pipeline(briefly_trained, tmp_path):
    from typer.testing import CliRunner

    from spacy_scicls.cli.app import app

    nlp = briefly_trained
    for name in CATEGORY_HEADS:  # as `spacy train` without the callback leaves them
        nlp.get_pipe(name).cfg.update(thresholds={}, temperature=1.0)
    nlp.get_pipe("sections").cfg["transitions"] = None
    nlp.to_disk(tmp_path / "trained")
    DocBin(docs=gold_docs(spacy.blank("en")), store_user_data=True).to_disk(tmp_path / "dev.spacy")

    result = CliRunner().invoke(app, ["calibrate", str(tmp_path / "trained"), str(tmp_path / "dev.spacy"),
                                      "--output", str(tmp_path / "calibrated")])
    assert result.exit_code == 0, result.output
    calibrated = spacy.load(tmp_path / "calibrated")
    for name in CATEGORY_HEADS:
        head = calibrated.get_pipe(name)
        assert set(head.cfg["thresholds"]) == set(head.labels) and head.temperature != 1.0
        assert f"{name}: " in result.stdout
    assert calibrated.get_pipe("sections").cfg["transitions"] is not None

    missing = CliRunner().invoke(app, ["calibrate", str(tmp_path / "trained"), str(tmp_path / "nope.spacy"),
                                       "--output", str(tmp_path / "x")])
    assert missing.exit_code == 2 and "no dev file" in missing.output
    assert not (tmp_path / "x").exists()
