"""The shipped default pipeline (``en_scicls_default``, installed from packages/ by
``make``): it loads offline by name, holds every head on one weightless
transformer, and reads the bundled example papers the way a reader would.

The expectations on the example papers are what a person reading them would
say (the headings' roles, the field of each paper, the climate terms of the
drought paper); they are not copied from the pipeline's output.
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
from spacy.tokens import Span

from conftest import REPO

from spacy_scicls.cli import DEFAULT_MODEL
from spacy_scicls.readers import read_paper

PAPERS = REPO / "examples" / "papers"
HEADS = ["sections", "erc", "arxiv", "hrcs_rac", "hrcs_hc", "entities"]


@pytest.fixture(scope="module")
def nlp():
    if not spacy.util.is_package(DEFAULT_MODEL):
        pytest.fail(f"{DEFAULT_MODEL} is not installed: `make` installs it from packages/")
    return spacy.load(DEFAULT_MODEL)


@pytest.fixture(scope="module")
def docs(nlp):
    papers = sorted(PAPERS.iterdir())
    return {path.name: doc for path, doc in zip(papers, nlp.pipe(read_paper(p, nlp) for p in papers))}


def labelled_sections(doc):
    return {span._.heading: span.label_ for span in doc.spans["sections"] if span._.heading}


def test_every_head_on_one_weightless_transformer(nlp):
    assert nlp.pipe_names == ["transformer"] + HEADS
    assert nlp.config["components"]["transformer"]["factory"] == "scicls_frozen_transformer"
    # one encoder pass feeds every head
    assert sorted(nlp.get_pipe("transformer").listening_components) == sorted(HEADS)
    package_dir = Path(spacy.util.get_package_path(DEFAULT_MODEL))
    weights = [p for p in (package_dir.rglob("transformer/*")) if p.is_file()]
    assert weights and max(p.stat().st_size for p in weights) < 100_000, "the encoder's weights were saved"
    total = sum(p.stat().st_size for p in package_dir.rglob("*") if p.is_file())
    assert total < 50e6


def test_the_pdf_of_a_paper_gets_the_sections_and_roles_of_its_markdown(docs):
    pdf, markdown = docs["span_language_models.pdf"], docs["span_language_models.md"]
    assert pdf._.scicls_meta["format"] == "pdf"
    assert pdf.text == markdown.text
    assert labelled_sections(pdf) == labelled_sections(markdown)


def test_markdown_paper_sections_take_the_roles_of_their_headings(docs):
    sections = labelled_sections(docs["span_language_models.md"])
    assert sections["Abstract"] == "abstract"
    assert sections["1 Introduction"] == "introduction"
    assert sections["2 Related Work"] == "related_work"
    assert sections["3 Our Approach"] == "methods"
    assert sections["4 Experiments"] == "results"


def test_plain_text_headings_are_found_and_labelled(docs):
    sections = labelled_sections(docs["knee_surgery_trial.txt"])
    assert {"Background", "Methods", "Results", "Discussion"} <= set(sections)
    assert [sections[h] for h in ("Methods", "Results", "Discussion")] == ["methods", "results", "discussion"]
    drought = labelled_sections(docs["drought_europe.txt"])
    assert drought.get("1 Introduction") == "introduction"
    assert drought.get("4 Conclusions") in {"conclusion", "discussion"}


def test_categories_name_the_field_of_each_paper(docs):
    language_models = docs["span_language_models.md"]._.scicls_labels
    assert language_models["erc_domain"] == ["PE"]
    assert "cs" in language_models["arxiv_archive"]
    knee = docs["knee_surgery_trial.txt"]._.scicls_labels
    assert knee["erc_domain"] == ["LS"]
    assert "Musculoskeletal" in knee["hrcs_hc"]
    drought = docs["drought_europe.txt"]._.scicls_labels
    assert drought["erc_domain"] == ["PE"]
    # a taxonomy gives no label to a paper from outside its field
    assert knee["arxiv"] == []
    assert language_models["hrcs_hc"] == [] and language_models["hrcs_rac"] == []
    assert drought["hrcs_hc"] == [] and drought["hrcs_rac"] == []
    for doc in docs.values():
        assert all(0.0 <= score <= 1.0 for score in doc.cats.values())
        assert set(doc._.scicls_certainty) >= {"erc", "arxiv", "hrcs_rac", "hrcs_hc"}


def test_climate_entities_in_the_drought_paper(docs):
    found = {(ent.text.lower(), ent.label_) for ent in docs["drought_europe.txt"].ents}
    assert ("cmip6", "model") in found
    assert any(text == "precipitation" for text, _ in found)
    assert {label for _, label in found} >= {"model", "variable"}


@pytest.mark.slow
def test_scicls_annotate_uses_the_default_pipeline(tmp_path):
    out = tmp_path / "examples.jsonl"
    result = subprocess.run(
        [sys.executable, "-m", "spacy_scicls", "annotate", str(PAPERS), "--output", str(out), "--quiet"],
        capture_output=True, text=True, env={"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PATH": ""},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    records = [json.loads(line) for line in out.read_text(encoding="utf8").splitlines()]
    assert len(records) == 4
    assert [r["id"] for r in records][2:] == ["span_language_models.md", "span_language_models.pdf"]
    for record in records:
        assert record["sections"] and record["cats"] and "labels" in record


def test_a_bare_abstract_is_categorised_as_without_the_section_head(nlp):
    """The category heads were trained on bare title + abstract docs: the section
    head that takes such a doc as one section must not change what they read."""
    text = (
        "Arthroscopic surgery versus physiotherapy for knee pain\n"
        "We will randomise 320 adults with degenerative knee pain to surgery or physiotherapy "
        "and compare pain, function and costs to the health service at two years."
    )
    with nlp.select_pipes(disable=["sections"]):
        without = nlp(text)
        # however the section head labels the one section (the heads read
        # "abstract" and "introduction" sections, and the first tokens otherwise)
        for label in ("abstract", "introduction", "results"):
            doc = nlp.make_doc(text)
            doc.spans["sections"] = [Span(doc, 0, len(doc), label=label)]
            doc = nlp(doc)
            for key, score in without.cats.items():
                assert abs(doc.cats[key] - score) < 1e-5, (label, key)
    assert len(nlp(text).spans["sections"]) == 1


def test_the_example_annotations_use_the_pipelines_labels(nlp):
    """examples/annotations.json (hand-made, read by benchmarks/pipelines.py) names entity types
    and section labels as the shipped pipeline does."""
    annotations = json.loads((REPO / "examples" / "annotations.json").read_text(encoding="utf8"))
    entity_labels = set(nlp.get_pipe("entities").labels)
    section_labels = set(nlp.get_pipe("sections").labels)
    for name, paper in annotations.items():
        if name.startswith("_"):
            continue
        assert (PAPERS / name).is_file(), name
        assert {label for _, label in paper["entities"]} <= entity_labels, name
        assert set(paper["section_labels"]) <= section_labels, name
