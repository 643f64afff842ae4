"""scripts/cv_entity_boundaries.py and cv_entity_boundary_decoding.py: the functions behind the boundary
error counts and the boundary-side decoding changes of docs/entities.md."""
import sys
from types import SimpleNamespace

import numpy
import pytest

from conftest import REPO


@pytest.fixture
def scripts():
    sys.path.insert(0, str(REPO / "scripts"))
    import cv_entity_boundaries
    import cv_entity_boundary_decoding

    return cv_entity_boundaries, cv_entity_boundary_decoding


def test_entities_map_to_token_spans(scripts):
    boundaries, _ = scripts
    # "the zonal winds ." with tokens at characters 0-3, 4-9, 10-15, 16-17
    scored = SimpleNamespace(token_starts=numpy.asarray([0, 4, 10, 16]), token_ends=numpy.asarray([3, 9, 15, 17]))
    assert boundaries.token_spans(scored, {(4, 15, "variable"), (10, 15, "variable")}) == {
        (1, 3, "variable"), (2, 3, "variable")}
    # an entity that does not fall on token boundaries is left out
    assert boundaries.token_spans(scored, {(5, 15, "variable")}) == set()


def test_edge_differences_are_classed(scripts):
    boundaries, _ = scripts
    assert boundaries.edge_class(["the"]) == "determiner"
    assert boundaries.edge_class(["(", "qbo", ")"]) == "parentheses"
    assert boundaries.edge_class(["and", "ice"]) == "coordination or comma"
    assert boundaries.edge_class(["."]) == "punctuation"
    assert boundaries.edge_class(["models"]) == "1 word ending in -s"
    assert boundaries.edge_class(["zonal"]) == "1 word(s)"
    assert boundaries.edge_class(["a1", "b2", "c3", "d4"]) == "3+ word(s)"
    assert boundaries.edge_class([]) is None


def test_width_bonus_changes_which_overlapping_candidate_wins(scripts):
    _, decoding = scripts
    candidates = numpy.asarray([[0, 1], [0, 2], [3, 4]])
    probs = numpy.asarray([[0.1, 0.9], [0.15, 0.85], [0.4, 0.6]], dtype="float32")
    assert decoding.rank_decode(candidates, probs, 0.5, 0.0) == [(0, 1, 1), (3, 4, 1)]
    assert decoding.rank_decode(candidates, probs, 0.5, 0.1) == [(0, 2, 1), (3, 4, 1)]
    # the threshold applies to the score, not to score plus bonus
    assert decoding.rank_decode(candidates, probs, 0.7, 1.0) == [(0, 2, 1)]


def test_touching_entities_of_one_label_merge(scripts):
    _, decoding = scripts
    candidates = numpy.asarray([[0, 1], [1, 2], [0, 2]])
    probs = numpy.asarray([[0.1, 0.9, 0.0], [0.1, 0.9, 0.0], [0.5, 0.4, 0.1]], dtype="float32")
    chosen = [(0, 1, 1), (1, 2, 1)]
    assert decoding.merge_touching(chosen, candidates, probs, 0.3) == [(0, 2, 1)]
    assert decoding.merge_touching(chosen, candidates, probs, 0.5) == chosen
    assert decoding.merge_touching([(0, 1, 1), (1, 2, 2)], candidates, probs, 0.3) == [(0, 1, 1), (1, 2, 2)]


def test_edge_counts(scripts):
    _, decoding = scripts
    words = ["zonal", "mean", "winds", "and", "mean", "ozone"]
    starts, ends, holds = decoding.edge_counts([(words, {(0, 3, "v"), (4, 6, "v")})])
    assert starts == {"zonal": 1, "mean": 1}
    assert ends == {"winds": 1, "ozone": 1}
    assert holds["mean"] == 2 and holds["and"] == 0
