"""The readers on the real paper collections (skipped unless SCICLS_DATA_DIR is set)."""
import os
from pathlib import Path

import pytest
import spacy

import spacy_scicls  # noqa: F401
from spacy_scicls.corpora.papers import iter_papers
from spacy_scicls.readers import read_paper

DATA = os.environ.get("SCICLS_DATA_DIR")
pytestmark = pytest.mark.skipif(not DATA or not (Path(DATA) / "papers").is_dir(), reason="SCICLS_DATA_DIR not set")


@pytest.mark.parametrize("collection", ["plos", "s2orc"])
def test_every_paper_reads_with_sections_starting_at_their_headings(collection, capsys):
    nlp = spacy.blank("en")
    docs = list(iter_papers(DATA, collection, "all", nlp))
    assert "skipped" not in capsys.readouterr().err
    assert len(docs) >= 10
    with_sections = [d for d in docs if len(d.spans["sections"])]
    assert len(with_sections) >= 0.9 * len(docs)
    for doc in with_sections:
        for span in doc.spans["sections"]:
            if span._.heading:
                assert span.text.startswith(span._.heading)


def test_grobid_tei_training_files_read():
    nlp = spacy.blank("en")
    files = sorted((Path(DATA) / "papers" / "grobid_tei" / "corpus_tei").glob("*.tei.xml"))[:10]
    for path in files:
        doc = read_paper(path, nlp)
        assert doc._.scicls_meta["format"] == "tei" and len(doc.spans["sections"]) > 0
