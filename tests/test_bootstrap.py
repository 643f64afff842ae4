"""spacy_scicls.bootstrap: F1 over test papers drawn again with replacement."""
import numpy
import pytest

from spacy_scicls.bootstrap import describe, micro_f1, paper_bootstrap


def test_micro_f1_sums_the_papers_before_dividing():
    # Paper 1: tp 8, fp 2, fn 0; paper 2: tp 0, fp 0, fn 10 -> 2*8 / (16 + 2 + 10)
    counts = numpy.asarray([[8, 2, 0], [0, 0, 10]])
    assert micro_f1(counts) == pytest.approx(16 / 28)
    assert micro_f1(numpy.zeros((2, 3))) == 0.0


def test_bootstrap_draws_papers_with_replacement():
    counts = [[8, 2, 0], [0, 0, 10]]
    draws = paper_bootstrap(counts, 400, seed=3)
    # A draw holds paper 1 twice (F1 16/18), paper 2 twice (0) or one of each (16/28).
    assert set(numpy.round(draws, 6)) == {round(16 / 18, 6), 0.0, round(16 / 28, 6)}
    assert numpy.array_equal(draws, paper_bootstrap(counts, 400, seed=3))


def test_one_paper_always_draws_itself():
    assert numpy.allclose(paper_bootstrap([[3, 1, 1]], 50), 6 / 8)
    assert "leaving one paper out" not in describe([[3, 1, 1]], 50)


def test_describe_gives_the_range_with_one_paper_left_out():
    line = describe([[8, 2, 0], [0, 0, 10]], 100)
    assert line.startswith("F1 0.571;") and "leaving one paper out: 0.000 to 0.889" in line
