"""Readers of the category corpora, on small CSV fixtures written here (made-up text)."""
import csv
import os
from pathlib import Path

import pytest
import spacy

from spacy_scicls.corpora import (
    read_arxiv_2007,
    read_arxiv_ml,
    read_category_corpora,
    read_hrcs_nihr,
    records_to_docs,
    split_records,
)
from spacy_scicls.corpora.categories import split_of
from spacy_scicls.taxonomies import UnknownLabelError


def write_csv(path: Path, header, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def data_dir(tmp_path):
    write_csv(tmp_path / "cats" / "arxiv_2007" / "arxiv_data.csv", ["id", "title", "abstract", "categories"], [
        ["704.0001", "Photon pairs at  colliders", "  A calculation of\nphoton pairs.", "hep-ph"],
        ["704.0002", "Graph games", "Pebble games on graphs.", "math.CO cs.CG"],
    ])
    write_csv(tmp_path / "cats" / "arxiv_ml" / "arxiv_data.csv", ["titles", "summaries", "terms"], [
        ["Segmenting images", "We segment images.", "['cs.CV', 'cs.LG', 'I.2.6; I.2.7', '68T05']"],
        ["Only class codes", "Nothing arXiv.", "['68T05']"],
    ])
    write_csv(tmp_path / "cats" / "hrcs_nihr" / "nihr-summary-view.csv",
              ["Project_ID", "Project_Title", "Scientific_Abstract", "HRCS _Health_Category", "UKCRC_Value_RAC"], [
        ["1/2/3", "A coil for menorrhagia", "A trial of a coil.", "Reproductive Health and Childbirth",
         "6.3 Medical devices"],
        ["4/5/6", "Carotid surgery", "A trial of surgery.", "Cardiovascular,Stroke",
         "6.3 Medical devices/6.4 Surgery"],
    ])
    return tmp_path


def test_readers_give_canonical_codes_primary_first(data_dir):
    arxiv = read_arxiv_2007(data_dir / "cats" / "arxiv_2007")
    assert [r.labels for r in arxiv] == [{"arxiv": ["hep-ph"]}, {"arxiv": ["math.CO", "cs.CG"]}]
    assert arxiv[0].title == "Photon pairs at colliders"
    assert arxiv[0].text == "Photon pairs at colliders\n\nA calculation of\nphoton pairs."
    ml = read_arxiv_ml(data_dir / "cats" / "arxiv_ml")
    # MSC/ACM class codes are not arXiv categories; a row left with none is skipped
    assert [r.labels for r in ml] == [{"arxiv": ["cs.CV", "cs.LG"]}]
    hrcs = read_hrcs_nihr(data_dir / "cats" / "hrcs_nihr")
    assert hrcs[1].labels == {"hrcs_hc": ["Cardiovascular", "Stroke"], "hrcs_rac": ["6.3", "6.4"]}


def test_silver_erc_labels_come_from_the_crosswalk(data_dir):
    records = read_category_corpora(data_dir, silver_erc=True)
    by_title = {r.title: r.labels for r in records}
    assert by_title["Graph games"]["erc"] == ["PE1", "PE6"]
    assert by_title["Carotid surgery"]["erc"] == ["LS4", "LS5"]
    assert "erc" not in read_category_corpora(data_dir, silver_erc=False)[0].labels


def test_unknown_label_in_the_data_is_a_clear_error_naming_the_row(data_dir):
    write_csv(data_dir / "bad" / "arxiv_data.csv", ["id", "title", "abstract", "categories"], [
        ["1", "ok", "fine", "hep-th"],
        ["2", "bad", "text", "cs.XY"],
    ])
    with pytest.raises(UnknownLabelError, match=r"arxiv_data.csv row 2: 'cs.XY'"):
        read_arxiv_2007(data_dir / "bad")
    write_csv(data_dir / "bad2" / "arxiv_data.csv", ["id", "title", "abstract"], [["1", "t", "a"]])
    with pytest.raises(ValueError, match="categories"):
        read_arxiv_2007(data_dir / "bad2")
    with pytest.raises(FileNotFoundError):
        read_hrcs_nihr(data_dir / "nowhere")
    with pytest.raises(ValueError, match="Unknown category corpus"):
        read_category_corpora(data_dir, ["pubmed"])


def test_splits_are_seeded_stable_and_keep_duplicates_together(data_dir):
    records = read_category_corpora(data_dir) * 40
    for i, r in enumerate(records):
        records[i] = type(r)(id=f"{r.id}-{i}", source=r.source, title=f"{r.title} {i % 37}",
                             abstract=r.abstract, labels=r.labels)
    a = split_records(records, seed=0)
    b = split_records(records, seed=0)
    c = split_records(records, seed=1)
    assert [r.id for r in a["test"]] == [r.id for r in b["test"]]
    assert [r.id for r in a["test"]] != [r.id for r in c["test"]]
    assert sum(len(v) for v in a.values()) == len(records)
    titles = {split: {r.title for r in rs} for split, rs in a.items()}
    assert not (titles["train"] & titles["test"]) and not (titles["dev"] & titles["test"])
    with pytest.raises(ValueError, match="fractions"):
        split_of(records[0], dev=0.6, test=0.5)


def test_gold_docs_carry_namespaced_cats(data_dir):
    nlp = spacy.blank("en")
    docs = records_to_docs(nlp, read_category_corpora(data_dir), taxonomies=["arxiv", "hrcs_hc"])
    assert list(docs[1].cats) == ["arxiv/math.CO", "arxiv/cs.CG"]
    assert docs[-1].cats == {"hrcs_hc/Cardiovascular": 1.0, "hrcs_hc/Stroke": 1.0}


@pytest.mark.skipif(not os.environ.get("SCICLS_DATA_DIR"), reason="SCICLS_DATA_DIR not set")
def test_real_category_corpora_read_without_errors():
    records = read_category_corpora(os.environ["SCICLS_DATA_DIR"])
    sources = {r.source for r in records}
    assert sources == {"arxiv_2007", "arxiv_ml", "hrcs_nihr"}
    assert all(r.labels.get("erc") for r in records)
