"""Reader docs and plain text through the section component (tiny BERT)."""
from pathlib import Path

import pytest
import spacy

import spacy_scicls  # noqa: F401
from spacy_scicls.labels import IMRAD_LABELS
from spacy_scicls.readers import read_paper

PAPERS = Path(__file__).parent / "fixtures" / "papers"


@pytest.fixture(scope="module")
def sections_nlp(tiny_bert):
    from test_components import pipeline_with

    nlp = pipeline_with(tiny_bert, "scicls_sections", "sections")
    nlp.initialize()
    return nlp


@pytest.mark.parametrize("name", ["paper.jats.xml", "paper.tei.xml", "paper.unarxive.jsonl", "paper.s2orc.json", "paper.md"])
def test_reader_sections_keep_boundaries_headings_and_levels(sections_nlp, name):
    doc = read_paper(PAPERS / name, sections_nlp)
    before = [(s.start, s.end, s._.heading, s._.section_level) for s in doc.spans["sections"]]
    doc = sections_nlp(doc)
    after = doc.spans["sections"]
    assert [(s.start, s.end, s._.heading, s._.section_level) for s in after] == before
    assert all(s.label_ in IMRAD_LABELS for s in after)
    assert all(0.0 <= s._.section_score <= 1.0 for s in after)
    assert doc._.scicls_meta["format"] in name or name.endswith((".md", ".jsonl", ".json"))


def test_plain_text_paper_is_cut_at_its_headings(sections_nlp):
    doc = sections_nlp((PAPERS / "paper.txt").read_text())
    spans = doc.spans["sections"]
    assert [s._.heading for s in spans] == [
        "Abstract", "1 Introduction", "2 Methods", "2.1. Photographs", "3 RESULTS AND DISCUSSION",
        "Acknowledgements",
    ]
    assert [s._.section_level for s in spans] == [1, 1, 1, 2, 1, 1]


def test_empty_paper_through_the_pipeline(sections_nlp):
    for doc in (sections_nlp(""), sections_nlp(read_paper(PAPERS / "empty.txt", sections_nlp)),
                sections_nlp(read_paper(b"<article/>", sections_nlp, format="jats", name="e"))):
        assert len(doc.spans["sections"]) == 0
