import math

import numpy

import pytest
import spacy

from spacy_scicls import load_taxonomy
from spacy_scicls.decisions import certainty, decide, roll_up, too_little_text, write_decisions


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


def test_at_least_one_takes_the_most_probable_label_when_none_passes():
    assert decide([0.2, 0.4, 0.1], [0.5, 0.5, 0.5], multi_label=True) == []
    assert decide([0.2, 0.4, 0.1], [0.5, 0.5, 0.5], multi_label=True, at_least_one=True) == [1]
    assert decide([0.6, 0.9, 0.1], [0.5, 0.5, 0.5], multi_label=True, at_least_one=True) == [1, 0]


def test_at_least_one_min_leaves_an_out_of_field_document_without_label():
    kwargs = dict(multi_label=True, at_least_one=True, at_least_one_min=0.3)
    assert decide([0.2, 0.4, 0.1], [0.5, 0.5, 0.5], **kwargs) == [1]
    assert decide([0.2, 0.25, 0.1], [0.5, 0.5, 0.5], **kwargs) == []
    assert decide([0.2, 0.6, 0.1], [0.5, 0.5, 0.5], **kwargs) == [1]


def test_fit_at_least_one_min_on_in_and_out_of_field_rows():
    from spacy_scicls.pipeline.doc_categories import fit_at_least_one_min

    thresholds = numpy.full(3, 0.5)
    # in-field docs whose label stays under its threshold at 0.35-0.45, out-of-field docs topping at 0.1-0.2
    probs = numpy.array([[0.45, 0.1, 0.0], [0.1, 0.35, 0.0], [0.2, 0.1, 0.1], [0.1, 0.15, 0.1]])
    truths = numpy.array([[1, 0, 0], [0, 1, 0], [0, 0, 0], [0, 0, 0]], dtype="float32")
    floor = fit_at_least_one_min(probs, truths, thresholds)
    assert 0.2 < floor <= 0.35
    # with in-field rows only, forcing the top label never hurts: no floor
    assert fit_at_least_one_min(probs[:2], truths[:2], thresholds) == 0.0


def test_write_decisions_abstains_for_a_doc_with_nothing_to_decide_on():
    nlp = spacy.blank("en")
    doc = nlp("")
    rac = load_taxonomy("hrcs_rac")
    decided = write_decisions(doc, rac, ["6.1", "2.3"], [0.9, 0.8], [0.5, 0.5], multi_label=True,
                              at_least_one=True, abstain=True)
    assert decided == []
    assert doc._.scicls_labels == {"hrcs_rac": [], "hrcs_rag": []}
    assert doc._.scicls_certainty == {"hrcs_rac": None}


@pytest.mark.parametrize("text,min_words,too_little", [
    ("", 3, True), ("N/A", 3, True), ("Advertisement", 3, True), ("Abstract not available.", 3, True),
    ("Drought in Europe under warming", 3, False), ("Drought in Europe", 3, True), ("Drought in Europe", 2, False),
    ("N/A", 0, False),
])
def test_too_little_text_counts_the_words_that_carry_meaning(text, min_words, too_little):
    assert too_little_text(spacy.blank("en")(text), min_words) is too_little


# -- calibration -------------------------------------------------------------
from spacy_scicls.calibration import (  # noqa: E402
    apply_temperature,
    expected_calibration_error,
    fit_temperature,
    micro_macro_f1,
    tune_thresholds,
)


def test_fit_temperature_undoes_overconfidence():
    import numpy

    rng = numpy.random.RandomState(0)
    true_p = rng.uniform(0.05, 0.95, size=(4000, 1))
    truths = (rng.uniform(size=true_p.shape) < true_p).astype(float)
    overconfident = apply_temperature(true_p, 1 / 3, multi_label=True)  # logits tripled
    t = fit_temperature(overconfident, truths, multi_label=True)
    assert 2.5 < t < 3.6
    fixed = apply_temperature(overconfident, t, multi_label=True)
    assert expected_calibration_error(fixed, truths) < expected_calibration_error(overconfident, truths) / 2


def test_temperature_of_an_exclusive_head_keeps_rows_summing_to_one():
    import numpy

    probs = numpy.asarray([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    hot = apply_temperature(probs, 2.0, multi_label=False)
    numpy.testing.assert_allclose(hot.sum(axis=1), 1.0)
    assert (hot.argmax(axis=1) == probs.argmax(axis=1)).all() and hot.max() < probs.max()
    with pytest.raises(ValueError, match="temperature"):
        apply_temperature(probs, 0.0, multi_label=False)


def test_tune_thresholds_per_label_and_fallback_for_rare_labels():
    import numpy

    # label 0 separates at 0.3, label 1 at 0.7; label 2 has one positive only
    probs = numpy.asarray([[0.35, 0.75, 0.9], [0.32, 0.72, 0.1], [0.2, 0.6, 0.1], [0.1, 0.2, 0.2]])
    truths = numpy.asarray([[1, 1, 1], [1, 1, 0], [0, 0, 0], [0, 0, 0]])
    thresholds, global_t = tune_thresholds(probs, truths, min_positives=2)
    assert 0.2 < thresholds[0] <= 0.32
    assert 0.6 < thresholds[1] <= 0.72
    assert thresholds[2] == global_t
    pred = probs >= thresholds
    assert micro_macro_f1(pred[:, :2], truths[:, :2])["micro_f"] == 1.0


def test_micro_macro_f1_counts():
    import numpy

    pred = numpy.asarray([[1, 0], [1, 1], [0, 0]], dtype=bool)
    gold = numpy.asarray([[1, 0], [0, 1], [0, 1]])
    scores = micro_macro_f1(pred, gold)
    assert scores["micro_f"] == pytest.approx(2 * 2 / (2 * 2 + 1 + 1))
    assert scores["macro_f"] == pytest.approx((2 / 3 + 2 / 3) / 2)
