import pytest
import spacy

from spacy_scicls.segmentation import RuleBasedSegmenter, find_heading_lines
from spacy_scicls.segmentation.rule_based import is_heading_line


@pytest.mark.parametrize(
    "line",
    [
        "1 Introduction",
        "2.3. Experimental setup",
        "2.3 Experimental Setup",
        "IV. RESULTS",
        "MATERIALS AND METHODS",
        "Results and Discussion",
        "Abstract",
        "Acknowledgements",
        "# A Markdown title",
        "### Data",
        "3 Our Approach",
    ],
)
def test_heading_lines(line):
    assert is_heading_line(line)


@pytest.mark.parametrize(
    "line",
    [
        "Figure 2. Rainfall anomalies over Africa",
        "Table 1 Results on the test set",
        "Fig. 3: Model architecture",
        "We propose a new method.",
        "1 2 3 4 5 0.91 0.88",
        "12.5 13.7 14.2",
        "This line is far too long to be a heading because it goes on and on and on and keeps going",
        "",
        "   ",
        "DOI",
        "the results show that",
    ],
)
def test_lines_that_are_not_headings(line):
    assert not is_heading_line(line)


def test_segments_cover_the_text_in_order():
    nlp = spacy.blank("en")
    text = "A title\nSome authors\n\n1 Introduction\nText here.\n\nFigure 1. A caption\n\n2 Methods\nMore text.\n"
    doc = nlp(text)
    segments = RuleBasedSegmenter()(doc)
    assert [s.heading for s in segments] == [None, "1 Introduction", "2 Methods"]
    assert doc[segments[1].start : segments[1].heading_end].text == "1 Introduction"
    assert "Figure 1. A caption" in doc[segments[1].start : segments[1].end].text
    assert all(a.end <= b.start for a, b in zip(segments, segments[1:]))
    assert find_heading_lines(text) == [(text.index("1 Intro"), text.index("1 Intro") + 14), (text.index("2 Meth"), text.index("2 Meth") + 9)]


def test_no_text_no_segments():
    nlp = spacy.blank("en")
    assert RuleBasedSegmenter()(nlp("")) == []
    assert RuleBasedSegmenter()(nlp(" \n\n ")) == []
