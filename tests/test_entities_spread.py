"""The bootstrap over test papers of scripts/evaluate_entities.py ``spread``."""
import sys

import numpy
import pytest

from conftest import REPO

sys.path.insert(0, str(REPO / "scripts"))

import evaluate_entities  # noqa: E402


def test_micro_f1_sums_the_papers_before_dividing():
    # Paper 1: tp 8, fp 2, fn 0; paper 2: tp 0, fp 0, fn 10 -> 2*8 / (16 + 2 + 10)
    counts = numpy.asarray([[8, 2, 0], [0, 0, 10]])
    assert evaluate_entities.micro_f1(counts) == pytest.approx(16 / 28)
    assert evaluate_entities.micro_f1(numpy.zeros((2, 3))) == 0.0


def test_bootstrap_draws_papers_with_replacement():
    counts = numpy.asarray([[8, 2, 0], [0, 0, 10]])
    draws = evaluate_entities.paper_bootstrap(counts, 400, seed=3)
    # A draw holds paper 1 twice (F1 0.889), paper 2 twice (0.0) or one of each (16/28).
    assert set(numpy.round(draws, 6)) == {round(16 / 18, 6), 0.0, round(16 / 28, 6)}
    assert numpy.array_equal(draws, evaluate_entities.paper_bootstrap(counts, 400, seed=3))


def test_one_paper_always_draws_itself():
    draws = evaluate_entities.paper_bootstrap(numpy.asarray([[3, 1, 1]]), 50)
    assert numpy.allclose(draws, 6 / 8)
