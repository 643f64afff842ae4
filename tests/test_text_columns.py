"""Two columns set side by side in plain text (spacy_scicls.readers.text_columns) and the text reader's use of it."""
import pytest
import spacy

from spacy_scicls.readers import read_paper
from spacy_scicls.readers.text_columns import ColumnText, column_edge, read_columns

#: Two columns of running text written for these tests, each with a heading.
LEFT = [
    "1 Introduction",
    "Soil moisture controls how much of the",
    "rain that falls on a field runs off and",
    "how much of it is stored for the crops of",
    "the following season. We measured it at",
    "forty sites over three years with two",
    "kinds of probe and a rain gauge each.",
    "",
    "2 Methods",
    "The forty sites lie between two rivers on",
    "loam and on sandy soil. Each site had a",
    "capacitance probe at three depths.",
]
RIGHT = [
    "a logger that sent its data once a day",
    "over the mobile network to the office,",
    "where it was checked every morning.",
    "",
    "3 Results",
    "Loam held water for about twice as long",
    "as sand after each storm, and the gap",
    "grew with depth: at the deepest probe the",
    "loam fields were still wet a week after",
    "the rain, while the sandy fields dried.",
    "",
    "4 Discussion",
]


def side_by_side(left, right, gutter=6, margin=4, width=42):
    rows = []
    for k in range(max(len(left), len(right))):
        a = left[k] if k < len(left) else ""
        b = right[k] if k < len(right) else ""
        rows.append((" " * margin + a.ljust(width + gutter) + b).rstrip())
    return rows


PAGE = side_by_side(LEFT, RIGHT)
TITLE = "              Soil Moisture Memory in Forty Fields Between Two Rivers"


@pytest.mark.parametrize("gutter", [2, 3, 6, 12])
def test_side_by_side_page_is_read_left_column_then_right(gutter):
    text = "\n".join(side_by_side(LEFT, RIGHT, gutter=gutter)) + "\n"
    columns = read_columns(text)
    assert columns.pages == [1]
    assert columns.lines == sum(1 for a, b in zip(LEFT, RIGHT) if a and b)
    lines = [line.strip() for line in columns.text.splitlines()]
    assert lines == [line.strip() for line in LEFT + RIGHT]
    assert columns.meta() == {"pages": [1], "lines": columns.lines}


def test_a_title_across_the_gutter_stays_above_both_columns():
    text = "\n".join([TITLE, ""] + PAGE) + "\n"
    lines = [line.strip() for line in read_columns(text).text.splitlines() if line.strip()]
    assert lines[0] == TITLE.strip()
    assert lines[1:] == [line for line in LEFT + RIGHT if line]


def test_pages_split_at_form_feeds_each_read_on_its_own():
    one_column = "A page of one column whose lines run across the whole width of the page, as a\n" \
                 "paper's appendix might, with no gutter anywhere in it at all for anyone to see.\n"
    text = "\n".join(PAGE) + "\n\f" + one_column + "\f" + "\n".join(PAGE) + "\n"
    columns = read_columns(text)
    assert columns.pages == [1, 3]
    pages = columns.text.split("\f")
    assert len(pages) == 3 and pages[1] == one_column
    assert [line.strip() for line in pages[2].splitlines()] == [line.strip() for line in LEFT + RIGHT]


def test_last_page_with_a_short_right_column_takes_the_usual_gutter():
    short = side_by_side(LEFT, ["where it was checked every morning by two", "of the technicians."])
    text = "\n".join(PAGE) + "\n\f" + "\n".join(short) + "\n"
    columns = read_columns(text)
    assert columns.pages == [1, 2]
    assert columns.text.split("\f")[1].rstrip().endswith("of the technicians.")


def test_columns_on_separate_lines_get_no_empty_lines_between_them():
    # pdfplumber sets lines of the two columns that do not share a baseline on lines of their own.
    rows = []
    for a, b in zip([a for a in LEFT if a], [b for b in RIGHT if b]):
        rows.append("    " + a)
        rows.append(" " * 52 + b)
    rows.extend(side_by_side(LEFT[:6], RIGHT[:6]))  # a few that do share one
    columns = read_columns("\n".join(rows) + "\n")
    assert columns.pages == [1]
    lines = columns.text.splitlines()
    left = lines[: lines.index(RIGHT[0])]
    # No empty line in the left column for each line that held the right column only.
    assert "" not in left and len(left) == 10 + 6


ONE_COLUMN = """1 Introduction

Soil moisture controls how much of the rain that falls on a field runs off and how much of it is
stored for the crops of the following season. We measured it at forty sites over three years.
  An indented line, and   a line with   several spaces   inside it   for emphasis.

2 Methods
The sites lie between two rivers on loam and on sandy soil.
"""

TABLE = """Table 1. Water held after each storm.

Depth        Loam       Sand       Clay
10 cm        0.31       0.18       0.40
20 cm        0.29       0.15       0.38
30 cm        0.27       0.12       0.37
40 cm        0.25       0.10       0.35
50 cm        0.24       0.09       0.33
"""

TABLE_IN_TEXT = ("Loam held water for about twice as long as sand after each storm, and the difference grew\n"
                 "with depth, as the table below shows for each of the five probes of a site.\n\n"
                 + TABLE + "\nThe pattern held in each of the three years, on every site and at every depth we\n"
                 "measured, whatever the weather of the summer before had been.\n")

CODE = """def water_left(depth, soil):
    held = TABLE[soil][depth]        # the share of the storm's rain held
    if held is None:                 # a depth the probes do not reach
        return 0.0
    return held * RAIN_MM            # millimetres of water in the column
print(water_left(10, "loam"))        # prints the water held at 10 cm
"""

POEM = """The rain comes late to the sandy field,
        and leaves it early;
the loam holds on        to every drop
        for weeks.
What the probe says        at thirty centimetres
        no gauge can tell.
"""

GLOSSARY_LINES = """Term          Meaning
loam          a soil of sand, silt and clay
probe         an instrument in the soil
gauge         a rain gauge
"""


def _justified(text, width=64):
    """One column set justified with two spaces or more between words, as a layout-keeping tool prints it."""
    import textwrap

    out = []
    for line in textwrap.wrap(text, width):
        words = line.split()
        spaces = [2] * (len(words) - 1)
        for k in range(width - len(line)):
            spaces[k % len(spaces)] += 1
        out.append("".join(word + " " * space for word, space in zip(words, spaces + [0])))
    return "\n".join(out) + "\n"


JUSTIFIED = _justified(" ".join(line for line in LEFT + RIGHT if line and not line[0].isdigit()) * 3)
LINE_NUMBERED = "\n".join(f"{n:>4}  {line}" for n, line in enumerate(
    ["1 Introduction"] + [line for line in LEFT + RIGHT if line and not line[0].isdigit()] * 2, 1)) + "\n"


@pytest.mark.parametrize("text", [ONE_COLUMN, TABLE, TABLE_IN_TEXT, CODE, POEM, GLOSSARY_LINES, LINE_NUMBERED, JUSTIFIED,
                                  "", "\f", "one line", ONE_COLUMN.replace("\n", "\r\n") + "\f" + TABLE,
                                  "\n".join(PAGE).replace("    1 Introduction", "\t1 Introduction")])
def test_one_column_tables_code_and_verse_come_through_unchanged(text):
    columns = read_columns(text)
    assert columns.text == text
    assert columns.pages == [] and columns.lines == 0 and not columns.changed


def test_column_edge_is_the_right_columns_left_edge():
    assert column_edge(PAGE) == 4 + 42 + 6
    assert column_edge(TABLE.splitlines()) is None
    assert column_edge([]) is None


def test_found_spans_map_back_to_the_source_lines():
    text = "\n".join([TITLE] + PAGE) + "\n"
    columns = read_columns(text)
    start = columns.text.index("3 Results")
    (source,) = columns.source_spans([(start, start + len("3 Results"))])
    assert text[source[0]:source[1]] == "3 Results"
    # A span over two lines of a column becomes one span per source line.
    start = columns.text.index("as sand after")
    end = columns.text.index("grew with") + len("grew with")
    pieces = columns.source_spans([(start, end)])
    assert [text[a:b] for a, b in pieces] == ["as sand after each storm, and the gap", "grew with"]
    # Unchanged text maps to itself.
    assert ColumnText("abc").source_spans([(0, 2)]) == [(0, 2)]


def test_text_reader_reads_columns_and_says_so_in_the_meta():
    nlp = spacy.blank("en")
    text = "\n".join([TITLE, ""] + PAGE) + "\n"
    doc = read_paper(text, nlp, format="text", name="columns.txt")
    assert doc.text == read_columns(text).text
    assert doc._.scicls_meta["columns_split"] == {"pages": [1], "lines": read_columns(text).lines}
    plain = read_paper(ONE_COLUMN, nlp, format="text")
    assert plain.text == ONE_COLUMN
    assert plain._.scicls_meta["columns_split"] == {"pages": [], "lines": 0}


def test_sections_of_a_side_by_side_text_are_found_column_by_column():
    from spacy_scicls.segmentation.lines import LineModelSegmenter

    nlp = spacy.blank("en")
    text = "\n".join([TITLE, ""] + PAGE) + "\n"
    headings = [s.heading for s in LineModelSegmenter()(read_paper(text, nlp, format="text")) if s.heading]
    assert headings == ["1 Introduction", "2 Methods", "3 Results", "4 Discussion"]


def test_layout_text_of_a_two_column_pdf(tmp_path):
    """pdfplumber's layout text of a two-column PDF the test writes (skipped without pdfplumber)."""
    pdfplumber = pytest.importorskip("pdfplumber")
    from pdf_papers import SECTIONS, write_paper

    from spacy_scicls.segmentation.lines import LineModelSegmenter

    path = write_paper(tmp_path / "two.pdf", columns=2, numbered=False)
    with pdfplumber.open(str(path)) as pdf:
        text = "\f".join(page.extract_text(layout=True, x_density=4) or "" for page in pdf.pages) + "\f"
    doc = read_paper(text, spacy.blank("en"), format="text")
    assert doc._.scicls_meta["columns_split"]["pages"]
    headings = [s.heading for s in LineModelSegmenter()(doc) if s.heading]
    assert [h for h in headings if h in dict(SECTIONS)] == [name for name, _ in SECTIONS]


# -- ligatures and TeX's separate accents (spacy_scicls.readers.text_glyphs) -------------------------------------


def test_ligatures_and_tex_accents_become_letters_and_are_counted():
    from spacy_scicls.readers.text_glyphs import normalise_glyphs

    glyphs = normalise_glyphs("3. The Lema\u02c6\u0131tre\u2013Tolman model\nClassi\ufb01cation of e\ufb00ects in Schr\u00a8odinger's G\u00b4omez, Wi\u00b4sniewski")
    assert glyphs.text == ("3. The Lema\u00eetre\u2013Tolman model\nClassification of effects in Schr\u00f6dinger's "
                           "G\u00f3mez, Wi\u015bniewski")
    assert (glyphs.ligatures, glyphs.accents) == (2, 4)
    assert glyphs.meta() == {"ligatures": 2, "accents": 4}


@pytest.mark.parametrize("text", ["x^2 and `code` stay", "don\u00b4t", "it\u00b4s, we\u00b4re, I\u00b4ll, I\u00b4ve, I\u00b4m, she\u00b4d", "an accent \u00b4 alone", "\u02c6 2", "plain text", ""])
def test_text_without_ligatures_or_tex_accents_is_unchanged(text):
    from spacy_scicls.readers.text_glyphs import normalise_glyphs

    glyphs = normalise_glyphs(text)
    assert glyphs.text == text and glyphs.meta() == {"ligatures": 0, "accents": 0}


def test_text_reader_writes_ligatures_as_letters_and_says_so():
    doc = read_paper("1 Introduction\nThe classi\ufb01cation of Lema\u02c6\u0131tre models.\n", spacy.blank("en"), format="text")
    assert doc.text == "1 Introduction\nThe classification of Lema\u00eetre models.\n"
    assert doc._.scicls_meta["glyphs_normalised"] == {"ligatures": 1, "accents": 1}
