"""The document-category adapter against ``transformers.pipeline`` on tiny seed-shaped models.

Every model is saved to a folder by the test and loaded with
``from_pretrained(folder)``, the path a hub name takes.
"""
import json
import shutil

import numpy
import pytest
import spacy
from transformers import pipeline as hf_pipeline

import spacy_scicls  # noqa: F401 (registers the factories)
from spacy_scicls.adapters import ModelLoadError
from spacy_scicls.decisions import certainty
from tiny_seed_models import ARXIV_CODES, ERC_PANEL_NAMES, HRCS_RAC_NAMES, write_tiny_sequence_classifier

PAPER = (
    "Drought in Europe under CMIP6\n\n"
    "Abstract\nWe study drought and heat wave trends in Europe with CMIP6 simulations.\n\n"
    "1 Introduction\nDrought is a climate hazard.\n"
)
TEXTS = [
    PAPER,
    "Neural language models\n\nWe propose a neural network language model for scientific text.",
    "A trial of surgery for cancer patients.",
    "Cancer trial\nPatients receive surgery or a drug; the trial shows better results for surgery in patients.",
]
HRCS_THRESHOLDS = {name: t for name, t in zip(HRCS_RAC_NAMES, [0.2, 0.9, 0.35, 0.6, 0.45, 0.75, 0.3])}

SEEDS = {
    # name: (label names, problem_type, max length, taxonomy, input template, extra config)
    "erc": (ERC_PANEL_NAMES, "multi_label_classification", 512, "erc", "{title}. {abstract}", {}),
    "arxiv": (ARXIV_CODES, "single_label_classification", 512, "arxiv", "{abstract}", {}),
    "hrcs_rac": (HRCS_RAC_NAMES, "multi_label_classification", 512, "hrcs_rac", "{title}\n{abstract}", {}),
}


@pytest.fixture(scope="module")
def seed_models(tmp_path_factory):
    root = tmp_path_factory.mktemp("seeds")
    models = {}
    for i, (key, (labels, problem_type, max_length, *_)) in enumerate(SEEDS.items()):
        models[key] = write_tiny_sequence_classifier(
            root / key,
            labels,
            problem_type=problem_type,
            max_length=max_length,
            thresholds=HRCS_THRESHOLDS if key == "hrcs_rac" else None,
            seed=i,
        )
    return models


def build(model_path, key, **config):
    _, _, _, taxonomy, template, extra = SEEDS[key]
    nlp = spacy.blank("en")
    nlp.add_pipe(
        "scicls_hf_doc_categories",
        name=key,
        config={"model": str(model_path), "taxonomy": taxonomy, "template": template, **extra, **config},
    )
    nlp.initialize()
    return nlp


@pytest.mark.parametrize("key", list(SEEDS))
def test_cats_equal_transformers_pipeline(seed_models, key):
    nlp = build(seed_models[key], key, batch_size=3)
    adapter = nlp.get_pipe(key)
    reference = hf_pipeline("text-classification", model=str(seed_models[key]), top_k=None, device="cpu")
    docs = list(nlp.pipe(TEXTS, batch_size=4))
    taxonomy = adapter.taxonomy
    for doc in docs:
        expected = {
            taxonomy.cat_key(taxonomy.normalise(item["label"])): item["score"]
            for item in reference(adapter.input_text(doc))[0]
        }
        assert set(doc.cats) == set(expected)
        for cat_key, score in expected.items():
            assert doc.cats[cat_key] == pytest.approx(score, abs=1e-5), cat_key


def test_input_recipes(seed_models):
    doc_inputs = {key: build(seed_models[key], key).get_pipe(key).input_text(spacy.blank("en")(PAPER)) for key in SEEDS}
    abstract = "We study drought and heat wave trends in Europe with CMIP6 simulations."
    assert doc_inputs["erc"] == "Drought in Europe under CMIP6. " + abstract
    assert doc_inputs["hrcs_rac"] == "Drought in Europe under CMIP6\n" + abstract
    assert doc_inputs["arxiv"] == abstract


def test_sections_from_a_reader_give_the_abstract(seed_models):
    nlp = build(seed_models["erc"], "erc")
    doc = nlp.make_doc("A title\n\nSummary of the work\nWe study drought.\n\nMethods\nWe use data.")
    doc.spans["sections"] = [doc.char_span(9, 46, label="abstract")]
    doc.spans["sections"][0]._.heading = "Summary of the work"
    assert nlp.get_pipe("erc").input_text(doc) == "A title. We study drought."


def test_decisions_like_the_shared_heads(seed_models):
    # ERC: sigmoids, threshold 0.5, codes most probable first, rolled up to domains.
    doc = build(seed_models["erc"], "erc")(PAPER)
    probs = {key.split("/")[1]: p for key, p in doc.cats.items()}
    decided = sorted((c for c, p in probs.items() if p >= 0.5), key=lambda c: -probs[c])
    assert 0 < len(decided) < len(probs)
    assert doc._.scicls_labels["erc"] == decided
    assert doc._.scicls_labels["erc_domain"] == list(dict.fromkeys(c.rstrip("0123456789") for c in decided))
    # arXiv: softmax, exactly one label, certainty is the top-two log margin.
    doc = build(seed_models["arxiv"], "arxiv")(PAPER)
    values = numpy.asarray(list(doc.cats.values()))
    assert values.sum() == pytest.approx(1.0, abs=1e-5)
    assert doc._.scicls_labels["arxiv"] == [max(doc.cats, key=doc.cats.get).split("/")[1]]
    assert doc._.scicls_certainty["arxiv"] == pytest.approx(certainty(values, 0.5, multi_label=False))


def test_per_label_thresholds_from_metadata(seed_models):
    nlp = build(seed_models["hrcs_rac"], "hrcs_rac")
    adapter = nlp.get_pipe("hrcs_rac")
    assert adapter.labels == ("1.1", "2.1", "4.1", "5.1", "6.1", "6.4", "8.1")
    assert list(adapter.thresholds) == pytest.approx(list(HRCS_THRESHOLDS.values()))
    for doc in nlp.pipe(TEXTS):
        probs = [doc.cats[f"hrcs_rac/{code}"] for code in adapter.labels]
        expected = {c for c, p, t in zip(adapter.labels, probs, adapter.thresholds) if p >= t}
        assert set(doc._.scicls_labels["hrcs_rac"]) == expected
        assert doc._.scicls_certainty["hrcs_rac"] == pytest.approx(
            certainty(probs, adapter.thresholds, multi_label=True)
        )
    # Without the model's thresholds, the single threshold applies.
    plain = build(seed_models["hrcs_rac"], "hrcs_rac", use_model_thresholds=False).get_pipe("hrcs_rac")
    assert set(plain.thresholds) == {0.5}


def test_truncation_to_the_model_maximum(tmp_path):
    path = write_tiny_sequence_classifier(tmp_path / "short", ARXIV_CODES, problem_type="single_label_classification", max_length=32)
    nlp = build(path, "arxiv")
    assert nlp.get_pipe("arxiv").max_length == 32
    long_text = "We propose a neural network language model for data. " * 400
    doc = nlp(long_text)
    reference = hf_pipeline("text-classification", model=str(path), top_k=None, device="cpu")
    expected = reference(nlp.get_pipe("arxiv").input_text(doc), truncation=True, max_length=32)[0]
    for item in expected:
        assert doc.cats[f"arxiv/{item['label']}"] == pytest.approx(item["score"], abs=1e-5)


def test_empty_docs_get_scores_not_errors(seed_models):
    nlp = build(seed_models["erc"], "erc")
    for doc in nlp.pipe(["", "   \n\n ", "Title only"]):
        assert len(doc.cats) == 28
        assert isinstance(doc._.scicls_labels["erc"], list)


def test_unknown_label_is_reported_at_load_time(tmp_path):
    path = write_tiny_sequence_classifier(
        tmp_path / "odd", [*ERC_PANEL_NAMES[:3], "Underwater Basket Weaving"], problem_type="multi_label_classification"
    )
    nlp = spacy.blank("en")
    nlp.add_pipe("scicls_hf_doc_categories", config={"model": str(path), "taxonomy": "erc"})
    with pytest.raises(ValueError, match="'Underwater Basket Weaving' \\(output 3\\).*taxonomy 'erc' does not know"):
        nlp.initialize()
    # label_map fixes it.
    nlp = spacy.blank("en")
    nlp.add_pipe(
        "scicls_hf_doc_categories",
        config={"model": str(path), "taxonomy": "erc", "label_map": {"Underwater Basket Weaving": "SH8"}},
    )
    nlp.initialize()
    assert nlp.get_pipe("scicls_hf_doc_categories").labels == ("PE1", "PE2", "PE3", "SH8")


def test_generic_label_names_need_labels(tmp_path):
    path = write_tiny_sequence_classifier(
        tmp_path / "generic", [f"LABEL_{i}" for i in range(11)], problem_type="single_label_classification"
    )
    nlp = spacy.blank("en")
    nlp.add_pipe("scicls_hf_doc_categories", config={"model": str(path), "taxonomy": "arxiv"})
    with pytest.raises(ValueError, match="LABEL_0.*'labels'"):
        nlp.initialize()
    nlp = spacy.blank("en")
    nlp.add_pipe("scicls_hf_doc_categories", config={"model": str(path), "taxonomy": "arxiv", "labels": ARXIV_CODES})
    nlp.initialize()
    assert nlp.get_pipe("scicls_hf_doc_categories").labels == tuple(ARXIV_CODES)
    nlp = spacy.blank("en")
    nlp.add_pipe("scicls_hf_doc_categories", config={"model": str(path), "taxonomy": "arxiv", "labels": ARXIV_CODES[:3]})
    with pytest.raises(ValueError, match="lists 3 codes but the model .* has 11 outputs"):
        nlp.initialize()


@pytest.mark.parametrize(
    "name,reason",
    [
        ("some-org/no-such-model", "not in the local Hugging Face cache"),
        ("./no/such/folder", "there is no folder"),
    ],
)
def test_unknown_model_name_is_a_clear_error(name, reason):
    nlp = spacy.blank("en")
    # local_files_only: no attempt to reach the hub (this machine may have no internet).
    nlp.add_pipe("scicls_hf_doc_categories", config={"model": name, "local_files_only": True})
    with pytest.raises(ModelLoadError, match=f"Could not load the model '{name}': .*{reason}"):
        nlp.initialize()


def test_a_folder_that_is_not_a_model(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    nlp = spacy.blank("en")
    nlp.add_pipe("scicls_hf_doc_categories", config={"model": str(tmp_path)})
    with pytest.raises(ModelLoadError, match="has no config.json"):
        nlp.initialize()


def test_pickled_weights_only_when_allowed(tmp_path):
    path = write_tiny_sequence_classifier(
        tmp_path / "pickled", ERC_PANEL_NAMES, problem_type="multi_label_classification", safe_serialization=False
    )
    assert (path / "pytorch_model.bin").exists() and not (path / "model.safetensors").exists()
    nlp = spacy.blank("en")
    nlp.add_pipe("scicls_hf_doc_categories", config={"model": str(path)})
    with pytest.raises(ModelLoadError, match="only pickled weights.*allow_pickle"):
        nlp.initialize()
    nlp = spacy.blank("en")
    nlp.add_pipe("scicls_hf_doc_categories", config={"model": str(path), "allow_pickle": True})
    nlp.initialize()
    assert len(nlp(PAPER).cats) == 28


def test_saved_pipeline_loads_without_the_original_model(seed_models, tmp_path):
    source = tmp_path / "hrcs_model"
    shutil.copytree(seed_models["hrcs_rac"], source)
    nlp = build(source, "hrcs_rac")
    expected = [(doc.cats, doc._.scicls_labels) for doc in nlp.pipe(TEXTS)]
    nlp.to_disk(tmp_path / "pipeline")
    saved = tmp_path / "pipeline" / "hrcs_rac" / "model"
    assert (saved / "model.safetensors").exists() and not (saved / "pytorch_model.bin").exists()
    assert json.loads((saved / "metadata.json").read_text())["thresholds"] == pytest.approx(HRCS_THRESHOLDS)
    shutil.rmtree(source)
    loaded = spacy.load(tmp_path / "pipeline")
    adapter = loaded.get_pipe("hrcs_rac")
    assert adapter.is_loaded and adapter.cfg["model"] == str(source)
    for (cats, labels), doc in zip(expected, loaded.pipe(TEXTS)):
        assert doc.cats == pytest.approx(cats, abs=1e-6)
        assert doc._.scicls_labels == labels
    # And through bytes.
    again = spacy.blank("en")
    again.add_pipe("scicls_hf_doc_categories", name="hrcs_rac", config={"model": "./gone", "taxonomy": "hrcs_rac"})
    again.get_pipe("hrcs_rac").from_bytes(adapter.to_bytes())
    assert again(TEXTS[0]).cats == pytest.approx(expected[0][0], abs=1e-6)


def test_settings_are_checked():
    nlp = spacy.blank("en")
    with pytest.raises(ValueError, match="template"):
        nlp.add_pipe("scicls_hf_doc_categories", config={"template": "{body}"})
    with pytest.raises(ValueError, match="batch_size"):
        nlp.add_pipe("scicls_hf_doc_categories", config={"batch_size": 0})
    with pytest.raises(ValueError, match="threshold"):
        nlp.add_pipe("scicls_hf_doc_categories", config={"threshold": 2.0})


def test_device_follows_thinc_and_half_precision_only_on_gpu(seed_models):
    import torch

    nlp = build(seed_models["erc"], "erc", half_precision=True)
    nlp(PAPER)
    adapter = nlp.get_pipe("erc")
    parameter = next(adapter.model.parameters())
    assert parameter.device.type == "cpu" and parameter.dtype == torch.float32


@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="needs a CUDA GPU")
def test_require_gpu_moves_the_model(seed_models):
    import torch

    cpu = build(seed_models["erc"], "erc")(PAPER).cats
    spacy.require_gpu()
    try:
        nlp = build(seed_models["erc"], "erc", half_precision=True)
        doc = nlp(PAPER)
        parameter = next(nlp.get_pipe("erc").model.parameters())
        assert parameter.device.type == "cuda" and parameter.dtype == torch.float16
        assert doc.cats == pytest.approx(cpu, abs=1e-2)
    finally:
        spacy.require_cpu()


@pytest.mark.parametrize(
    "message,reason",
    [
        (
            "We couldn't connect to 'https://huggingface.co' to load the files, and couldn't find them in the cached "
            "files.\nCheck your internet connection or see how to run the library in offline mode at '...'.",
            "could not be reached \\(no internet\\?\\)",
        ),
        (
            "some-org/x is not a local folder and is not a valid model identifier listed on 'https://huggingface.co/models'",
            "not found",
        ),
        ("Cannot find the requested files in the disk cache and outgoing traffic has been disabled (offline)", "downloads are off"),
    ],
)
def test_load_errors_say_why(message, reason):
    from spacy_scicls.adapters.loading import explain

    error = explain("some-org/x", OSError(message))
    assert isinstance(error, ModelLoadError)
    assert str(error).startswith("Could not load the model 'some-org/x': ")
    assert __import__("re").search(reason, str(error))
