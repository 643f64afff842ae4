import json

import numpy
import pytest
import spacy

from spacy_scicls.corpora.climateie import climateie_doc, read_climateie, strip_headings
from spacy_scicls.corpora.entities import (
    ALL_ENTITIES_KEY,
    AlignmentCounts,
    bio_spans,
    docs_from_char_entities,
    read_biodivner,
    read_scierc,
    seeded_split,
)
from spacy_scicls.entities.frozen import chunk_bounds, chunk_doc, pooled_token_vectors, token_level_trf_data


@pytest.fixture
def nlp():
    return spacy.blank("en")


def ents(doc):
    return [(e.text, e.label_) for e in doc.ents]


def test_char_offsets_on_token_boundaries_are_exact(nlp):
    counts = AlignmentCounts()
    doc = docs_from_char_entities(nlp, "Heat waves hit Europe.", [(0, 10, "hazard"), (15, 21, "location")], counts)
    assert ents(doc) == [("Heat waves", "hazard"), ("Europe", "location")]
    assert counts["exact"] == 2 and counts["split_tokens"] == 0


def test_offsets_inside_a_token_split_it_and_are_counted(nlp):
    counts = AlignmentCounts()
    text = "NorESM2model runs"
    doc = docs_from_char_entities(nlp, text, [(0, 7, "model")], counts)
    assert doc.text == text
    assert ents(doc) == [("NorESM2", "model")]
    assert counts["split_tokens"] == 1 and counts["exact"] == 0


def test_whitespace_in_offsets_is_trimmed_and_bad_offsets_counted(nlp):
    counts = AlignmentCounts()
    text = "The  ENSO index"
    doc = docs_from_char_entities(nlp, text, [(3, 9, "teleconnection"), (40, 50, "x"), (5, 5, "x"), (3, 4, "x")], counts)
    assert ents(doc) == [("ENSO", "teleconnection")]
    assert counts["trimmed_whitespace"] == 2  # " ENSO" and the whitespace-only span
    assert counts["out_of_range"] == 1 and counts["empty"] == 2


def test_overlapping_gold_spans_keep_the_longest_in_ents_and_all_in_spans(nlp):
    counts = AlignmentCounts()
    text = "sea surface temperature rose"
    gold = [(0, 23, "variable"), (0, 11, "location"), (0, 23, "variable")]
    doc = docs_from_char_entities(nlp, text, gold, counts)
    assert ents(doc) == [("sea surface temperature", "variable")]
    assert sorted((s.text, s.label_) for s in doc.spans[ALL_ENTITIES_KEY]) == [
        ("sea surface", "location"), ("sea surface temperature", "variable")
    ]
    assert counts["overlap_dropped"] == 1 and counts["duplicate"] == 1


def test_empty_text_gives_an_empty_doc(nlp):
    doc = docs_from_char_entities(nlp, "", [(0, 1, "x")], AlignmentCounts())
    assert len(doc) == 0 and not doc.ents


def test_climateie_record_strips_headings_and_keeps_offsets(nlp):
    text = "Title line\n<heading>INTRODUCTION</heading>\nRainfall over Africa.\n<heading>METHODS</heading>\nWe ran CMIP6."
    africa = text.index("Africa")
    cmip = text.index("CMIP6")
    record = {"text": text, "entities": {
        "1": {"begin": africa, "end": africa + 6, "label": "location"},
        "2": {"begin": cmip, "end": cmip + 5, "label": "model"},
        "3": {"begin": 0, "label": "broken"},
    }}
    counts = AlignmentCounts()
    doc = climateie_doc(nlp, record, counts)
    assert "<heading>" not in doc.text and "INTRODUCTION\nRainfall" in doc.text
    assert ents(doc) == [("Africa", "location"), ("CMIP6", "model")]
    assert counts["malformed"] == 1
    sections = doc.spans["sections"]
    assert [s._.heading for s in sections] == [None, "INTRODUCTION", "METHODS"]
    assert sections[1].text.startswith("INTRODUCTION") and sections[2].text.startswith("METHODS")
    assert sections[-1].end == len(doc)
    # no entity crosses a section boundary
    for ent in doc.ents:
        assert any(s.start <= ent.start and ent.end <= s.end for s in sections)


def test_strip_headings_offset_map():
    clean, new_offset, headings = strip_headings("<heading>A</heading>\nxy")
    assert clean == "A\nxy"
    assert headings == [(0, 1, "A")]
    assert clean[new_offset[21] : new_offset[23]] == "xy"


def test_read_climateie_folder_and_bad_file(nlp, tmp_path):
    (tmp_path / "b.json").write_text(json.dumps({"text": "Drought.", "entities": {}}), encoding="utf8")
    (tmp_path / "a.json").write_text(json.dumps({"text": "<heading>X</heading>\nFlood.", "entities": {}}), encoding="utf8")
    docs = read_climateie(tmp_path, nlp)
    assert [d.user_data["paper_id"] for d in docs] == ["a", "b"]
    (tmp_path / "c.json").write_text("{not json", encoding="utf8")
    with pytest.raises(ValueError, match="not JSON"):
        read_climateie(tmp_path, nlp)
    with pytest.raises(ValueError, match="no ClimateIE"):
        read_climateie(tmp_path / "missing", nlp)


def test_read_scierc_token_offsets_inclusive_end(nlp, tmp_path):
    record = {"doc_key": "X1", "sentences": [["We", "use", "neural", "nets", "."], ["BLEU", "improves"]],
              "ner": [[[2, 3, "Method"]], [[5, 5, "Metric"], [5, 6, "Generic"]]]}
    path = tmp_path / "scierc.json"
    path.write_text(json.dumps(record) + "\n\n", encoding="utf8")
    counts = AlignmentCounts()
    (doc,) = read_scierc(path, nlp.vocab, counts)
    assert ents(doc) == [("neural nets", "Method"), ("BLEU improves", "Generic")]
    assert [s.text for s in doc.sents] == ["We use neural nets .", "BLEU improves"]
    assert counts["overlap_dropped"] == 1 and len(doc.spans[ALL_ENTITIES_KEY]) == 3
    assert doc.user_data["doc_key"] == "X1"


def test_bio_spans_repair_orphan_inside_tags():
    counts = AlignmentCounts()
    assert bio_spans(["B-A", "I-A", "O", "I-B", "I-B", "B-B", "I-A"], counts) == [
        (0, 2, "A"), (3, 5, "B"), (5, 6, "B"), (6, 7, "A")
    ]
    assert counts["bio_repaired"] == 2
    with pytest.raises(ValueError, match="BIO"):
        bio_spans(["X-A"])


def test_read_biodivner_groups_sentences_and_repairs_mojibake(nlp, tmp_path):
    broken = "timberline—the".encode("utf8").decode("cp1252")
    rows = ["Sentence #,Word,Tag", "Sentence: 0,Insect,B-Organism", ",pollination,B-Phenomena", f",{broken},O",
            "Sentence: 1,in,O", ",China,B-Location", "Sentence: 2,Soil,B-Matter"]
    path = tmp_path / "bio.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf8")
    counts = AlignmentCounts()
    docs = read_biodivner(path, nlp.vocab, counts, sentences_per_doc=2)
    assert len(docs) == 2
    assert ents(docs[0]) == [("Insect", "Organism"), ("pollination", "Phenomena"), ("China", "Location")]
    assert "timberline—the" in docs[0].text and counts["mojibake_repaired"] == 1
    assert len(list(docs[0].sents)) == 2


def test_seeded_split_is_deterministic_and_complete():
    items = list(range(20))
    a = seeded_split(items, (0.6, 0.15, 0.25), seed=3)
    assert a == seeded_split(items, (0.6, 0.15, 0.25), seed=3)
    assert [len(p) for p in a] == [12, 3, 5] and sorted(sum(a, [])) == items
    assert a != seeded_split(items, (0.6, 0.15, 0.25), seed=4)
    with pytest.raises(ValueError):
        seeded_split(items, (0.9, 0.9))


def test_chunks_never_cut_an_entity(nlp):
    text = " ".join(f"w{i}" for i in range(100))
    spans = [(text.index(f"w{i} "), text.index(f"w{i} ") + len(f"w{i} w{i + 1} w{i + 2}"), "x") for i in (8, 18, 38)]
    doc = docs_from_char_entities(nlp, text, spans)
    bounds = chunk_bounds(doc, 10)
    assert bounds[0][0] == 0 and bounds[-1][1] == len(doc)
    assert all(a < b for a, b in bounds) and all(b1 == a2 for (_, b1), (a2, _) in zip(bounds, bounds[1:]))
    vectors = numpy.arange(len(doc) * 2, dtype="float32").reshape(-1, 2)
    pieces = chunk_doc(doc, vectors, 10, [ALL_ENTITIES_KEY])
    assert sum(len(p.ents) for p, _ in pieces) == 3
    assert sum(len(p.spans[ALL_ENTITIES_KEY]) for p, _ in pieces) == 3
    assert numpy.array_equal(numpy.concatenate([v for _, v in pieces]), vectors)


def test_pooled_token_vectors_round_trip():
    vectors = numpy.random.RandomState(0).normal(size=(5, 4)).astype("float32")
    data = token_level_trf_data(vectors)
    assert numpy.allclose(pooled_token_vectors(data, 5), vectors)
    with pytest.raises(ValueError, match="aligned"):
        pooled_token_vectors(data, 6)
