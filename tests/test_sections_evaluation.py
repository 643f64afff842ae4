"""scripts/evaluate_sections.py: how a gold top-level section is judged from the labels of its content."""
import sys
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def majority_label():
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    from evaluate_sections import majority_label

    return majority_label


def test_a_section_is_judged_by_most_of_its_tokens_sub_sections_included(majority_label):
    levels = [1, 1, 2, 2, 2, 1]
    # section 1 has no span of its own (headings withheld, no text before its first sub-section)
    labels = {0: "introduction", 2: "introduction", 3: "methods", 4: "methods", 5: "results"}
    tokens = {0: 500, 2: 80, 3: 60, 4: 50, 5: 900}
    assert majority_label(1, levels, labels, tokens) == "methods"
    # the section after the sub-tree is not part of it
    assert majority_label(0, levels, labels, tokens) == "introduction"
    assert majority_label(5, levels, labels, tokens) == "results"


def test_a_tie_goes_to_the_earlier_section(majority_label):
    levels = [1, 2, 2]
    labels = {1: "results", 2: "discussion"}
    tokens = {1: 40, 2: 40}
    assert majority_label(0, levels, labels, tokens) == "results"
