"""Cues of the heading-line scorer that hold up whatever the text's layout (spacy_scicls.segmentation.lines)."""
import numpy

from spacy_scicls.segmentation import heading_spans
from spacy_scicls.segmentation.lines import FEATURES, line_features, line_number_prefixes

COL = {name: i for i, name in enumerate(FEATURES)}
BODY = [f"line {word} of a paragraph that runs on for a while about the {word} samples we kept"
        for word in ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
                     "eleventh", "twelfth")]


def test_manuscript_line_numbers_are_found_and_left_out():
    lines = [f"{i + 1} {line}" for i, line in enumerate(["1 Introduction"] + BODY[:6] + ["2 Methods"] + BODY[6:])]
    prefixes = line_number_prefixes(lines)
    assert prefixes[0] == 2 and lines[0][prefixes[0]:] == "1 Introduction"
    assert lines[7][prefixes[7]:] == "2 Methods"
    X = line_features(lines)
    assert X[0, COL["doc_line_numbered"]] == 1 and X[0, COL["section_number"]] == 1
    # Numbering that starts again at 1 on a new page is still line numbering; tabs and padding too.
    paged = [f"{(i % 5) + 1:>4}\t{line}" for i, line in enumerate(BODY)]
    assert all(line_number_prefixes(paged))


def test_numbered_headings_are_no_line_numbers():
    lines = ["1 Introduction", BODY[0], BODY[1], "2 Methods", BODY[2], "3 Results", BODY[3], "4 Discussion"]
    assert line_number_prefixes(lines) == [0] * len(lines)
    assert line_number_prefixes(["1 a", "2 b", "3 c"]) == [0, 0, 0]  # too short to tell
    assert line_features(lines)[0, COL["doc_line_numbered"]] == 0


class _Flags:
    """A stand-in heading-line model: probability 1 for the lines that end with ``wanted``."""

    threshold = 0.5

    def __init__(self, wanted):
        self.wanted = wanted

    def probabilities(self, lines, features=None):
        return numpy.asarray([float(line.rstrip().endswith(self.wanted)) for line in lines], dtype="float32")


def test_a_heading_span_leaves_the_line_number_out():
    lines = [f"{i + 1}  {line}" for i, line in enumerate(BODY[:3] + ["2.1 Study sites"] + BODY[3:8])]
    text = "\n".join(lines) + "\n"
    spans = heading_spans(text, _Flags("Study sites"))
    assert [text[a:b] for a, b in spans] == ["2.1 Study sites"]


def test_blocks_and_the_layout_of_the_whole_text():
    lines = ["Methods", "", BODY[0], BODY[1], BODY[2], "", "Results", "", BODY[3]]
    X = line_features(lines)
    assert X[0, COL["block_lines_1"]] == 1 and X[0, COL["blank_after"]] == 1 and X[0, COL["blank_before"]] == 0
    assert X[2, COL["block_lines_3"]] == 1 and X[2, COL["block_first"]] == 1 and X[2, COL["block_last"]] == 0
    assert X[4, COL["block_last"]] == 1 and X[3, COL["block_first"]] == 0
    assert abs(X[2, COL["doc_blank_ratio"]] - 3 / 5) < 1e-6  # three of the five gaps between non-empty lines
    assert X[2, COL["next:block_lines_1"]] == 0 and X[6, COL["prev:block_last"]] == 1
    packed = line_features([line for line in lines if line])
    assert packed[0, COL["doc_blank_ratio"]] == 0.0 and packed[0, COL["block_lines_3"]] == 1
    reflowed = line_features(["Methods", " ".join(BODY[:4]), "Results", " ".join(BODY[4:8])])
    assert reflowed[0, COL["doc_long_lines"]] > packed[0, COL["doc_long_lines"]]


def test_running_headers_and_page_numbers_are_seen_and_skipped_as_neighbours():
    lines = []
    for page, topic in enumerate(("rain", "soil", "wind", "heat"), start=1):
        lines += ["Smith et al.", *(line.replace("samples", f"{topic} samples") for line in BODY[:11]),
                  f"Page {page} of 4"]
    X = line_features(lines)
    header = [i for i, line in enumerate(lines) if line == "Smith et al."]
    footer = [i for i, line in enumerate(lines) if line.startswith("Page ")]
    assert all(X[i, COL["repeated"]] == 1 for i in header) and X[1, COL["repeated"]] == 0
    assert all(X[i, COL["page_number"]] == 1 for i in footer) and X[1, COL["page_number"]] == 0
    # The first body line of page 2 reads the last body line of page 1 as its neighbour, not the footer.
    first_of_page_2 = header[1] + 1
    assert X[first_of_page_2, COL["prev_rel_len"]] == X[footer[0] - 1, COL["rel_len"]]
    assert X[first_of_page_2, COL["prev:words_15"]] == X[footer[0] - 1, COL["words_15"]] == 1
    # A run of figure text is no running header.
    figure = ["Chromosome 1", "Chromosome 2", "Chromosome 3", BODY[0]]
    assert not line_features(figure)[:, COL["repeated"]].any()
    for line in ("12", "- 3 -", "Page 4 of 12", "p. 7"):
        assert line_features([BODY[0], line, BODY[1]])[1, COL["page_number"]] == 1


def test_training_on_a_share_of_the_other_lines_is_seeded():
    import numpy
    import pytest

    from spacy_scicls.segmentation.lines import train_two_pass

    paper = (["1 Introduction", "", *BODY[:5], "", "2 Methods", "", *BODY[5:]],
             [1.0, 0.0] + [0.0] * 5 + [0.0, 1.0, 0.0] + [0.0] * 7)
    papers = [paper] * 4
    first = train_two_pass(papers, hidden=2, epochs=20, folds=2, negative_rate=0.5, seed=3)
    again = train_two_pass(papers, hidden=2, epochs=20, folds=2, negative_rate=0.5, seed=3)
    assert all(numpy.array_equal(first[1][k], again[1][k]) for k in first[1])
    for rate in (0.0, 1.5):
        with pytest.raises(ValueError, match="negative_rate"):
            train_two_pass(papers, negative_rate=rate)
    with pytest.raises(ValueError, match="labels for"):
        train_two_pass([(["a", "b"], [1.0])])
