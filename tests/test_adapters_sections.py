"""The section adapter, and the seed-model configs, on tiny local seed-shaped models."""
from pathlib import Path

import numpy
import pytest
import spacy
from spacy.training import Example
from transformers import pipeline as hf_pipeline

import spacy_scicls  # noqa: F401 (registers the factories)
from spacy_scicls.adapters import ModelLoadError
from spacy_scicls.labels import IMRAD_LABELS
from tiny_data import PAPERS, gold_docs
from tiny_seed_models import (
    ARXIV_CODES,
    ERC_PANEL_NAMES,
    HRCS_RAC_NAMES,
    IMRAD_CLASSES,
    write_tiny_sequence_classifier,
    write_tiny_span_marker,
)

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
CLASS_TO_LABEL = {"introduction": "introduction", "related work": "related_work", "methods": "methods",
                  "results": "results", "discussion": "discussion"}


@pytest.fixture(scope="module")
def imrad_path(tmp_path_factory):
    return write_tiny_sequence_classifier(
        tmp_path_factory.mktemp("imrad") / "model", IMRAD_CLASSES, problem_type="single_label_classification", seed=3
    )


def build(path, **config):
    nlp = spacy.blank("en")
    nlp.add_pipe("scicls_hf_sections", name="sections", config={"model": str(path), **config})
    nlp.initialize()
    return nlp


def test_sections_equal_transformers_pipeline(imrad_path):
    nlp = build(imrad_path, batch_size=3)
    adapter = nlp.get_pipe("sections")
    reference = hf_pipeline("text-classification", model=str(imrad_path), top_k=None, device="cpu")
    n_sections = 0
    for doc in nlp.pipe([text for text, *_ in PAPERS]):
        spans = list(doc.spans["sections"])
        segments = adapter.segmenter(doc)
        assert [(s.start, s.end) for s in spans] == [(s.start, s.end) for s in segments]
        for span, segment in zip(spans, segments):
            text = adapter.section_text(doc, segment)
            body = doc[segment.heading_end : segment.end].text.strip()
            assert text == (body or segment.heading)
            scores = {CLASS_TO_LABEL[item["label"]]: item["score"] for item in reference(text)[0]}
            best = max(scores, key=scores.get)
            assert span.label_ == best
            assert span._.section_score == pytest.approx(scores[best], abs=1e-5)
            assert span._.heading == segment.heading
            n_sections += 1
    assert n_sections >= len(PAPERS) * 4


def test_sections_from_a_reader_keep_their_boundaries(imrad_path):
    nlp = build(imrad_path)
    docs = gold_docs(nlp)
    expected = [[(s.start, s.end, s._.heading) for s in doc.spans["sections"]] for doc in docs]
    for doc, bounds in zip(nlp.pipe(docs), expected):
        assert [(s.start, s.end, s._.heading) for s in doc.spans["sections"]] == bounds
        assert all(s.label_ in IMRAD_LABELS for s in doc.spans["sections"])


def test_classes_that_map_onto_one_label_add_up(tmp_path):
    path = write_tiny_sequence_classifier(
        tmp_path / "m", ["i", "m", "r", "d", "c", "conclusions"], problem_type="single_label_classification"
    )
    nlp = build(path)
    adapter = nlp.get_pipe("sections")
    probs = adapter.predict_texts(["We conclude that drought increases."])
    assert probs.sum() == pytest.approx(1.0, abs=1e-5)
    assert numpy.count_nonzero(adapter.mapping[:, IMRAD_LABELS.index("conclusion")]) == 2


def test_unknown_class_is_reported_at_load_time(tmp_path):
    path = write_tiny_sequence_classifier(tmp_path / "m", ["introduction", "appendix"], problem_type="single_label_classification")
    nlp = spacy.blank("en")
    nlp.add_pipe("scicls_hf_sections", config={"model": str(path)})
    with pytest.raises(ValueError, match="class 'appendix' \\(output 1\\).*label_map"):
        nlp.initialize()
    nlp = build(path, label_map={"appendix": "other"})
    doc = nlp("Introduction\nWe study drought.\n\nAppendix\nMore tables.")
    assert all(s.label_ in ("introduction", "other") for s in doc.spans["sections"])
    with pytest.raises(ValueError, match="not one of"):
        spacy.blank("en").add_pipe("scicls_hf_sections", config={"label_map": {"appendix": "annex"}})


def test_empty_docs_and_sections(imrad_path):
    nlp = build(imrad_path)
    docs = list(nlp.pipe(["", "   \n\n", "Methods\n\nResults\nIt works."]))
    assert len(docs[0].spans["sections"]) == 0
    assert all(s.label_ in IMRAD_LABELS for d in docs for s in d.spans["sections"])


def test_saved_pipeline_round_trip(imrad_path, tmp_path):
    nlp = build(imrad_path)
    text = PAPERS[0][0]
    doc = nlp(text)
    expected = [(s.label_, s._.section_score) for s in doc.spans["sections"]]
    nlp.to_disk(tmp_path / "p")
    loaded = spacy.load(tmp_path / "p")
    again = loaded(text)
    assert [(s.label_, s._.section_score) for s in again.spans["sections"]] == expected


# ---------------------------------------------------------------- configs
SEED_CONFIGS = ["seed_erc.cfg", "seed_arxiv.cfg", "seed_hrcs_rac.cfg", "seed_sections.cfg", "seed_entities.cfg", "seed_all.cfg"]


@pytest.mark.parametrize("name", SEED_CONFIGS)
def test_seed_configs_build_offline_and_name_the_hub_models(name):
    config = spacy.util.load_config(CONFIGS / name)
    nlp = spacy.util.load_model_from_config(config, auto_fill=True, validate=True)
    models = {pipe_name: pipe.cfg["model"] for pipe_name, pipe in nlp.pipeline if hasattr(pipe, "is_loaded")}
    assert models and all("/" in model and not Path(model).exists() for model in models.values())
    assert not any(pipe.is_loaded for _, pipe in nlp.pipeline if hasattr(pipe, "is_loaded"))


def test_unreachable_hub_model_fails_at_initialize():
    config = spacy.util.load_config(CONFIGS / "seed_erc.cfg", overrides={"components.erc.local_files_only": True})
    nlp = spacy.util.load_model_from_config(config, auto_fill=True)
    with pytest.raises(ModelLoadError, match="Could not load the model 'SIRIS-Lab/erc-classifiers'"):
        nlp.initialize()


def test_all_five_seeds_write_what_the_shared_pipeline_writes(tmp_path, imrad_path, trained):
    paths = {
        "erc": write_tiny_sequence_classifier(tmp_path / "erc", ERC_PANEL_NAMES, problem_type="multi_label_classification"),
        "arxiv": write_tiny_sequence_classifier(
            tmp_path / "arxiv", [f"LABEL_{i}" for i in range(11)], problem_type="single_label_classification"
        ),
        "hrcs_rac": write_tiny_sequence_classifier(
            tmp_path / "hrcs", HRCS_RAC_NAMES, problem_type="multi_label_classification"
        ),
        "sections": imrad_path,
        "entities": write_tiny_span_marker(tmp_path / "ner"),
    }
    config = spacy.util.load_config(
        CONFIGS / "seed_all.cfg", overrides={f"paths.{key}": str(path) for key, path in paths.items()}
    )
    nlp = spacy.util.load_model_from_config(config, auto_fill=True, validate=True)
    assert nlp.get_pipe("hrcs_rac").cfg["template"] == "{title}\n{abstract}"
    nlp.initialize()
    # The arXiv seed config gives the codes of outputs named LABEL_0 ...
    assert nlp.get_pipe("arxiv").labels == tuple(ARXIV_CODES)
    for doc in nlp.pipe([text for text, *_ in PAPERS]):
        assert doc.spans["sections"] and all(s.label_ in IMRAD_LABELS for s in doc.spans["sections"])
        prefixes = {key.split("/")[0] for key in doc.cats}
        assert prefixes == {"erc", "arxiv", "hrcs_rac"}
        assert set(doc._.scicls_labels) >= {"erc", "erc_domain", "arxiv", "hrcs_rac", "hrcs_rag"}
        assert len(doc._.scicls_labels["arxiv"]) == 1
        assert all(ent._.entity_score is not None for ent in doc.ents)
    assert any(doc.ents for doc in nlp.pipe([text for text, *_ in PAPERS]))
    # spacy evaluate reports the shared pipeline's score keys for the same components.
    shared, examples, _ = trained
    seed_scores = nlp.evaluate([Example(nlp.make_doc(eg.reference.text), eg.reference) for eg in examples])
    shared_scores = shared.evaluate(examples)
    expected = {key for key in shared_scores if "hrcs_hc" not in key and key not in ("speed",)}
    assert expected <= set(seed_scores)
    assert seed_scores["cats_erc_micro_f"] is not None and seed_scores["sections_f"] is not None


def test_spacy_assemble_builds_a_pipeline_that_loads_offline(tmp_path):
    """What the README says: `python -m spacy assemble configs/seed_erc.cfg <folder>`."""
    import shutil
    from types import SimpleNamespace

    from spacy.cli.assemble import assemble_cli

    model = write_tiny_sequence_classifier(tmp_path / "erc", ERC_PANEL_NAMES, problem_type="multi_label_classification")
    context = SimpleNamespace(args=["--paths.model", str(model)])
    assemble_cli(context, CONFIGS / "seed_erc.cfg", tmp_path / "pipeline", None, False)
    shutil.rmtree(model)
    nlp = spacy.load(tmp_path / "pipeline")
    doc = nlp(PAPERS[0][0])
    assert len(doc.cats) == 28 and "erc" in doc._.scicls_labels
