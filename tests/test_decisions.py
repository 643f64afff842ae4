import math

import pytest
import spacy

from spacy_scicls import load_taxonomy
from spacy_scicls.decisions import certainty, decide, roll_up, write_decisions


def test_decide_multi_label_uses_each_labels_threshold_most_probable_first():
    assert decide([0.6, 0.9, 0.4], [0.5, 0.95, 0.3], multi_label=True) == [0, 2]


def test_decide_exclusive_takes_the_argmax_even_below_any_threshold():
    assert decide([0.2, 0.3, 0.1], [0.9, 0.9, 0.9], multi_label=False) == [1]
    assert decide([], [], multi_label=False) == []


def test_certainty_is_the_smallest_logit_distance_to_a_threshold():
    value = certainty([0.9, 0.55], [0.5, 0.5], multi_label=True)
    assert value == pytest.approx(math.log(0.55 / 0.45))
    assert certainty([], [], multi_label=True) is None


def test_certainty_of_an_exclusive_head_is_the_log_odds_margin():
    assert certainty([0.6, 0.3, 0.1], 0.5, multi_label=False) == pytest.approx(math.log(2.0))


def test_roll_up_keeps_first_appearance_order():
    rac = load_taxonomy("hrcs_rac")
    assert roll_up(rac, ["6.1", "2.3", "6.4"]) == ["6", "2"]


def test_write_decisions_sets_labels_groups_and_certainty_without_sharing_dicts():
    nlp = spacy.blank("en")
    erc = load_taxonomy("erc")
    first, second = nlp("a"), nlp("b")
    write_decisions(first, erc, ["PE6", "LS2"], [0.8, 0.1], [0.5, 0.5], multi_label=True)
    assert first._.scicls_labels == {"erc": ["PE6"], "erc_domain": ["PE"]}
    assert first._.scicls_certainty["erc"] > 0
    assert second._.scicls_labels is None and second._.scicls_certainty is None
