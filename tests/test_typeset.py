"""Papers typeset in house styles (spacy_scicls.corpora.typeset): the same style gives the same PDF,
the gold is what is printed, and the PDF reader finds the headings of a made-up paper in each style."""
import re

import pytest
import spacy

from spacy_scicls.corpora.pdf_layout import Block
from spacy_scicls.corpora.typeset import (
    HOUSE_STYLES,
    HeadingStyle,
    HouseStyle,
    TypesetPaper,
    draw_style,
    number_label,
    printable,
    shorten,
    typeset,
)
from spacy_scicls.readers import read_paper

SENTENCE = "The made-up soil held its water for three weeks after the rain in every one of the ten summers. "
# long enough for two pages in every style, as a paper is
BLOCKS = [
    Block("heading", "Introduction"),
    Block("paragraph", SENTENCE * 16),
    Block("heading", "Methods"),
    Block("heading", "Study sites", level=2),
    Block("paragraph", SENTENCE * 16),
    Block("heading", "Measurements", level=2),
    Block("paragraph", SENTENCE * 16),
    Block("heading", "Results"),
    Block("paragraph", SENTENCE * 18),
    Block("heading", "Discussion"),
    Block("paragraph", SENTENCE * 16),
]
ABSTRACT = "We measured how long a made-up soil holds its water. " * 4


def _paper():
    return TypesetPaper("Soil Water in Made-up Summers", ABSTRACT, list(BLOCKS))


def test_same_style_same_pdf_and_gold_is_what_is_printed():
    style = HOUSE_STYLES[0]
    first, second = _paper(), _paper()
    assert typeset(first, style) == typeset(second, style)
    assert first.gold == ["Introduction", "Methods", "Study sites", "Measurements", "Results", "Discussion"]
    assert draw_style(7) == draw_style(7) and draw_style(7) != draw_style(8)


def test_numbers_printable_text_and_shortening():
    assert number_label("1.1", [2, 3]) == "2.3" and number_label("I.", [4]) == "IV." and number_label("A.", [1, 2]) == "B."
    assert number_label("none", [3]) == "" and number_label("1.", [3]) == "3."
    assert printable("Lema\u00eetre \u03b1-helix \u2212 x") == "Lema\u00eetre ?-helix ? x"
    short = shorten([Block("heading", "A"), Block("paragraph", "One. " * 300)] + [Block("paragraph", "x")] * 3)
    assert [b.kind for b in short] == ["heading", "paragraph", "paragraph"]
    assert len(short[1].text.split()) <= 121
    with pytest.raises(ValueError):
        HeadingStyle(face="wobbly")
    with pytest.raises(ValueError):
        HouseStyle("x", HeadingStyle(), HeadingStyle(), columns=3)


@pytest.mark.parametrize("name", ["ieee-conference", "run-in-italic", "caps-numbered-tight", "centred-caps"])
def test_reader_finds_the_headings_in_house_styles(name):
    style = next(s for s in HOUSE_STYLES if s.name == name)
    paper = _paper()
    doc = read_paper(typeset(paper, style), spacy.blank("en"), format="pdf")
    assert doc._.scicls_meta["pages"] >= 2
    headings = [s._.heading for s in doc.spans["sections"] if s._.heading != "Abstract"]
    # as printed: numbered ("2.", "IV.", "B."), in capitals, a run-in heading without its full stop
    unnumbered = [re.sub(r"^(?:\d+(?:\.\d+)*\.?|[IVX]+\.|[A-H]\.)\s+", "", h).lower() for h in headings]
    assert unnumbered == [g.lower() for g in paper.gold]
    assert doc._.scicls_meta["title"] == "Soil Water in Made-up Summers"
