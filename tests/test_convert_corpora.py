"""scripts/convert_corpora.py: the data sets as .spacy files, with the scripts' splits."""
import csv
import json
import sys

import pytest
import spacy
from spacy.tokens import DocBin

from conftest import REPO

sys.path.insert(0, str(REPO / "scripts"))

import convert_corpora  # noqa: E402


def write_csv(path, header, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


@pytest.fixture
def data_dir(tmp_path):
    data = tmp_path / "data"
    write_csv(data / "cats" / "arxiv_2007" / "arxiv_data.csv", ["id", "title", "abstract", "categories"],
              [[f"704.{i:04d}", f"Photon pairs {i}", "A calculation.", "hep-ph"] for i in range(12)])
    write_csv(data / "cats" / "arxiv_ml" / "arxiv_data.csv", ["titles", "summaries", "terms"],
              [[f"Segmenting images {i}", "We segment images.", "['cs.CV', 'cs.LG']"] for i in range(6)])
    write_csv(data / "cats" / "hrcs_nihr" / "nihr-summary-view.csv",
              ["Project_ID", "Project_Title", "Scientific_Abstract", "HRCS _Health_Category", "UKCRC_Value_RAC"],
              [[f"{i}/1", f"A coil trial {i}", "A trial of a coil.", "Stroke", "6.3 Medical devices"] for i in range(6)])
    climate = data / "papers" / "climateie" / "human_corpus"
    climate.mkdir(parents=True)
    for i in range(4):
        text = "<heading>Introduction</heading>\nDrought hits Europe."
        start = text.index("Drought")
        (climate / f"p{i}.json").write_text(
            json.dumps({"text": text, "entities": {"T1": {"label": "natural hazard", "begin": start, "end": start + 7}}}),
            encoding="utf8",
        )
    return data


def read(path):
    nlp = spacy.blank("en")
    return list(DocBin().from_disk(path).get_docs(nlp.vocab))


def test_writes_every_split_and_skips_missing_sets(data_dir, tmp_path, capsys):
    out = tmp_path / "corpus"
    assert convert_corpora.main(["--data-dir", str(data_dir), "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "entities scierc: skipped (no folder" in printed and "entities biodivner: skipped" in printed
    cats = {split: read(out / f"cats-{split}.spacy") for split in ("train", "dev", "test")}
    assert sum(len(docs) for docs in cats.values()) == 24  # every record, in exactly one split
    hrcs = [doc for docs in cats.values() for doc in docs if "hrcs_hc/Stroke" in doc.cats]
    assert len(hrcs) == 6 and all(doc.cats["hrcs_rac/6.3"] == 1.0 for doc in hrcs)
    climate = [doc for split in ("train", "dev", "test") for doc in read(out / f"entities-climateie-{split}.spacy")]
    assert len(climate) == 4
    assert all([(e.text, e.label_) for e in doc.ents] == [("Drought", "natural hazard")] for doc in climate)
    assert not list(out.glob("sections-*.spacy"))  # no paper collections in this data folder


def test_a_malformed_file_stops_with_its_name(data_dir, tmp_path):
    (data_dir / "papers" / "climateie" / "human_corpus" / "bad.json").write_text("{not json", encoding="utf8")
    with pytest.raises(ValueError, match="bad.json"):
        convert_corpora.main(["--data-dir", str(data_dir), "--output", str(tmp_path / "c"), "--sets", "entities"])
