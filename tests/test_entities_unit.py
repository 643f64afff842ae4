import numpy
import pytest
import spacy
from spacy.tokens import Span

from spacy_scicls.entities import candidate_spans, greedy_decode, merge_entities


@pytest.fixture
def nlp():
    return spacy.blank("en")


def test_candidates_are_linear_in_length(nlp):
    doc = nlp(" ".join(["word"] * 1000))
    candidates = candidate_spans(doc, max_width=8)
    assert len(candidates) == sum(min(8, 1000 - i) for i in range(1000))
    assert len(candidates) <= len(doc) * 8
    assert (candidates[:, 1] - candidates[:, 0]).max() == 8


def test_candidates_never_cross_a_line_break_or_touch_space(nlp):
    doc = nlp("Heat wave\n\nEurope drought")
    spans = {doc[s:e].text for s, e in candidate_spans(doc, 8)}
    assert "Heat wave" in spans and "Europe drought" in spans
    assert not any("\n" in text for text in spans)


def test_candidates_respect_sentences_when_present(nlp):
    doc = nlp("Rain falls. Europe dries")
    for token in doc:
        token.is_sent_start = token.i in (0, 3)
    spans = {doc[s:e].text for s, e in candidate_spans(doc, 8)}
    assert "falls. Europe" not in spans
    assert "Rain falls." in spans


def test_empty_doc_has_no_candidates(nlp):
    assert candidate_spans(nlp(""), 8).shape == (0, 2)


def test_greedy_decode_takes_best_first_without_overlap():
    candidates = numpy.asarray([[0, 1], [0, 2], [1, 2], [2, 3]])
    probs = numpy.asarray(
        [
            [0.3, 0.7, 0.0],  # "a": label 1 at 0.7
            [0.1, 0.0, 0.9],  # "a b": label 2 at 0.9  -> wins over both parts
            [0.2, 0.8, 0.0],  # "b": overlaps the winner
            [0.6, 0.4, 0.0],  # "c": below threshold
        ]
    )
    assert greedy_decode(candidates, probs, 0.5) == [(0, 2, 2, 0.9)]
    assert greedy_decode(candidates, probs, 0.3) == [(0, 2, 2, 0.9), (2, 3, 1, 0.4)]
    assert greedy_decode(numpy.zeros((0, 2), dtype=int), numpy.zeros((0, 3)), 0.5) == []


@pytest.mark.parametrize(
    "policy,expected",
    [
        ("keep_existing", [("Heat", "ORG"), ("Europe", "LOC")]),
        ("prefer_longest", [("Heat wave", "HAZARD"), ("Europe", "LOC")]),
        ("replace", [("Heat wave", "HAZARD")]),
    ],
)
def test_policies_towards_existing_entities(nlp, policy, expected):
    doc = nlp("Heat wave in Europe")
    doc.ents = [Span(doc, 0, 1, label="ORG"), Span(doc, 3, 4, label="LOC")]
    merge_entities(doc, [Span(doc, 0, 2, label="HAZARD")], policy)
    assert [(e.text, e.label_) for e in doc.ents] == expected
    assert all(token.ent_iob_ for token in doc)  # every token annotated afterwards


def test_unknown_policy_is_an_error(nlp):
    with pytest.raises(ValueError, match="keep_existing"):
        merge_entities(nlp("x"), [], "overwrite")
