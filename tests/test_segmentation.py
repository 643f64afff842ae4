import pytest
import spacy

from spacy_scicls.segmentation import RuleBasedSegmenter, find_heading_lines
from spacy_scicls.segmentation.rule_based import is_front_matter, is_heading_line


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
    # The title and authors are front matter: no section covers them.
    assert [s.heading for s in segments] == ["1 Introduction", "2 Methods"]
    assert doc[segments[0].start : segments[0].heading_end].text == "1 Introduction"
    assert "Figure 1. A caption" in doc[segments[0].start : segments[0].end].text
    assert all(a.end <= b.start for a, b in zip(segments, segments[1:]))
    assert find_heading_lines(text) == [(text.index("1 Intro"), text.index("1 Intro") + 14), (text.index("2 Meth"), text.index("2 Meth") + 9)]


def test_unheaded_text_before_the_first_heading_is_a_section_unless_front_matter():
    nlp = spacy.blank("en")
    abstract = "A title\n\nWe study drought. It gets worse.\n\n1 Introduction\nText here.\n"
    segments = RuleBasedSegmenter()(nlp(abstract))
    assert [s.heading for s in segments] == [None, "1 Introduction"]
    assert is_front_matter("Compound drought risk over Europe\nA. Author, B. Author\n")
    assert not is_front_matter("Compound drought risk.\nWe study drought. It gets worse.")
    assert not is_front_matter(" ".join(["word"] * 30))
    assert not is_front_matter("")


def test_no_text_no_segments():
    nlp = spacy.blank("en")
    assert RuleBasedSegmenter()(nlp("")) == []
    assert RuleBasedSegmenter()(nlp(" \n\n ")) == []


# -- the heading-line scorer of plain text ------------------------------------

from pathlib import Path  # noqa: E402

import numpy  # noqa: E402

from spacy_scicls.corpora.plain_text import normalise_line, split_of, tei_plain_text  # noqa: E402
from spacy_scicls.segmentation import HeadingLineModel, LineModelSegmenter, heading_spans  # noqa: E402
from spacy_scicls.segmentation.lines import UNIT_FEATURES, paragraph_units, reflowed_units, unit_features  # noqa: E402
from spacy_scicls.segmentation.lines import FEATURES, forward, line_features, train_network  # noqa: E402

PAPERS = Path(__file__).parent / "fixtures" / "papers"


def test_packaged_heading_lines_on_a_tricky_paper():
    text = (PAPERS / "paper.txt").read_text()
    nlp = spacy.blank("en")
    doc = nlp(text)
    segments = LineModelSegmenter()(doc)
    assert [s.heading for s in segments] == [
        "Abstract", "1 Introduction", "2 Methods", "2.1. Photographs", "3 RESULTS AND DISCUSSION",
        "Acknowledgements",
    ]
    # Captions, table rows and a line of numbers stay in their section.
    photographs = doc[segments[3].start : segments[3].end].text
    assert "Figure 1. Photographs per decade" in photographs and "Site A 12.5 13.7 14.2" in photographs


class StartsWith:
    """A stand-in heading-line model: probability 1 for a line that starts with one of ``starts``."""

    threshold = 0.5

    def __init__(self, *starts, partial=()):
        self.starts, self.partial = starts, partial

    def probabilities(self, lines, features=None):
        return numpy.asarray([1.0 if line.startswith(self.starts) else 0.3 if line.startswith(self.partial) else 0.0
                              for line in lines], dtype="float32")


def test_wrapped_heading_is_one_heading():
    body = "Body text of a paragraph that runs on to the end of the column."
    text = f"Comparison of profiles in microdissected\ntissues and cell lines\n{body}\nResults\n{body}"
    spans = heading_spans(text, StartsWith("Comparison", "tissues", "Results"))
    assert [text[a:b] for a, b in spans] == ["Comparison of profiles in microdissected\ntissues and cell lines", "Results"]


def test_section_number_on_its_own_line_joins_its_title():
    text = "Body text ends here.\n2.1\nData\nThe data are.\n3.\nResults\nMore.\n"
    spans = heading_spans(text, StartsWith("Data", "Results"))
    assert [text[a:b] for a, b in spans] == ["2.1\nData", "3.\nResults"]
    # A lone integer can be a page number: joined only where the paper sets its numbers apart twice.
    text = "Body text ends here.\n7\nResults\nMore text.\n"
    assert [text[a:b] for a, b in heading_spans(text, StartsWith("Results"))] == ["Results"]
    text = "Body.\n1\nIntroduction\nText.\n2\nMethods\nText.\n"
    assert [text[a:b] for a, b in heading_spans(text, StartsWith("Introduction", "Methods"))] == [
        "1\nIntroduction", "2\nMethods"]


def test_rest_of_a_wrapped_heading_joins_it():
    # The second line of a heading the model is unsure of alone joins a heading line that ends on "of".
    text = "Earlier text ends here.\nQuantitative analysis of\nneural rosettes\nRosette centres were drawn.\n"
    spans = heading_spans(text, StartsWith("Quantitative", partial=("neural",)))
    assert [text[a:b] for a, b in spans] == ["Quantitative analysis of\nneural rosettes"]


def test_each_line_reads_the_paragraph_it_is_in_reflowed():
    # A heading wrapped in a narrow column: two short-ish lines between paragraphs that fill the column.
    body = "a line of running text that fills its column"
    lines = [body] * 4 + ["ends here.", "Radial organization is associated with", "rosette size", body, body,
                          "and ends."]
    units, texts = reflowed_units(lines)
    assert units[1] == [5, 6] and texts[1] == "Radial organization is associated with rosette size"
    unit_first = numpy.asarray([0.1, 0.9, 0.05], dtype="float32")
    first = numpy.asarray([0.0] * 5 + [0.3, 0.2] + [0.0] * 3, dtype="float32")
    U = unit_features(len(lines), units, unit_first, first)
    col = {name: k for k, name in enumerate(UNIT_FEATURES)}
    for i in (5, 6):
        assert U[i, col["unit_p"]] == pytest.approx(0.9) and U[i, col["unit_lines_2"]] == 1.0
        assert U[i, col["unit_prev_p"]] == pytest.approx(0.1) and U[i, col["unit_next_p"]] == pytest.approx(0.05)
        assert U[i, col["unit_min_line_p"]] == pytest.approx(0.2) and U[i, col["unit_max_line_p"]] == pytest.approx(0.3)
        assert U[i, col["unit_next_longer"]] == 1.0
    assert U[5, col["unit_first"]] == 1.0 and U[6, col["unit_first"]] == 0.0
    assert U[0, col["unit_lines_5"]] == 1.0 and U[0, col["unit_next_longer"]] == 0.0
    # A line the first pass is sure of alone starts a paragraph: a label that runs to the column's edge is not
    # read as one line with the heading under it; the rest of a wrapped heading still is.
    labelled = [body] * 3 + ["which ends here.", "Keywords: answer validation, textual entailment, synthesis and",
                             "1 Introduction"] + [body] * 3
    assert reflowed_units(labelled)[0][1] == [4, 5]
    sure = [0.0] * 5 + [0.99] + [0.0] * 3
    assert reflowed_units(labelled, sure)[0][1:3] == [[4], [5]]
    assert reflowed_units(lines, [0.0] * 5 + [0.99] + [0.0] * 4)[0][1] == [5, 6]
    # A manuscript's line numbers are left out of the reflowed text.
    numbered = [f"{k + 1} {line}" for k, line in enumerate(lines)]
    assert reflowed_units(numbered)[1][1] == "Radial organization is associated with rosette size"


def test_in_a_text_of_short_lines_a_heading_is_a_paragraph_of_its_own():
    lines = ["Summary", "The book teaches.", "", "1.1 Statement of need", "Teachers lack it.", "",
             "1.2 Acknowledgements", "We thank."]
    assert paragraph_units(lines)[1:3] == [[1], [3]]


def test_the_last_line_of_a_reference_is_no_heading_after_the_reference_list_heading():
    text = "\n".join([
        "Conclusion.", "We conclude here.", "References",
        "Smith, J. (2019). A book about many things. New York:", "Guilford Publications.",
        "EUMETSAT. (2019). Meteosat third generation. https://www.eumetsat.int/x",
        "Acknowledgements.", "We thank the reviewers.", "A. Proofs of the lemmas", "The proofs follow.",
        "Appendix B. More data.", "Further tables.",
    ]) + "\n"
    model = StartsWith("Conclusion", "References", "Guilford", "EUMETSAT", "Acknowledgements", "A. Proofs",
                       "Appendix B")
    found = [text[a:b] for a, b in heading_spans(text, model)]
    assert found == ["Conclusion.", "References", "Acknowledgements.", "A. Proofs of the lemmas",
                     "Appendix B. More data."]
    # Before a reference list's heading, a heading ending in a full stop stays one.
    assert [text[a:b] for a, b in heading_spans(text, StartsWith("Conclusion", "Guilford"))] == [
        "Conclusion.", "Guilford Publications."]


_SURNAMES = ("Okafor", "Lindqvist", "Chen", "Tanaka", "Rossi", "Haddad", "Kim", "Dubois", "Nguyen", "Patel")
_TITLES = ("Rain and runoff on farmland", "Capacitance probes in the field", "Soil moisture at forty sites",
           "Storage of water in loam and sand", "Drainage of clay soils", "Evaporation from bare ground")
_JOURNALS = ("Hydrol Lett", "Soil Sci Soc Am J", "Water Resour Res", "Geoderma", "J Hydrol")


def narrow_paper_with_references() -> str:
    """A made-up paper as a two-column PDF's text gives it: four numbered sections, then "References" and
    20 numbered entries in the Vancouver style, all wrapped at 40 characters, so that an entry's first line
    ("3. Kim A, Dubois A, Nguyen A. Soil") is short, numbered, capitalised and counts up from the one before."""
    import textwrap

    rng = numpy.random.default_rng(0)
    words = ("loam held water for about twice as long as sand after each storm and the difference grew with "
             "depth so that irrigation on the loam fields can wait several days longer than on sandy ones").split()
    lines = []
    for heading in ("1 Introduction", "2 Methods", "3 Results", "4 Discussion"):
        paragraph = " ".join(rng.permutation(words * 3).tolist()).capitalize() + "."
        lines += [heading] + textwrap.wrap(paragraph, 40)
    lines.append("References")
    for k in range(20):
        authors = ", ".join(f"{_SURNAMES[(3 * k + j) % 10]} {'AB'[: 1 + k % 2]}" for j in range(1 + k % 5))
        entry = f"{k + 1}. {authors}. {_TITLES[k % 6]}. {_JOURNALS[k % 5]}. {1995 + k};{k + 3}:{7 * k + 1}-{7 * k + 9}."
        lines += textwrap.wrap(entry, 40)
    return "\n".join(lines) + "\n"


def test_shipped_weights_read_a_numbered_reference_list_in_a_narrow_column_as_no_headings():
    # Weights trained without reference lists took the first lines of two of the 20 entries for headings.
    text = narrow_paper_with_references()
    found = [text[a:b] for a, b in heading_spans(text, HeadingLineModel.from_disk())]
    assert found == ["1 Introduction", "2 Methods", "3 Results", "4 Discussion", "References"]


def test_reference_cues_mark_the_lines_after_a_list_heading_and_count_citation_marks():
    from spacy_scicls.segmentation.lines import REFERENCE_CUES, reference_cues

    lines = ["4 Discussion", "We compare (2019) with earlier work.", "", "References",
             "1. Okafor A, Chen B. Rain and runoff. Hydrol Lett. 2019;4:1-9.",
             "2. Smith, J. (2020). Soil. https://doi.org/10.1/x", "Appendix A. Data"]
    first = numpy.asarray([0.9, 0.0, 0.0, 0.9, 0.1, 0.1, 0.8], dtype="float32")
    R = reference_cues(lines, first)
    after, marks = REFERENCE_CUES.index("after_reference_heading"), REFERENCE_CUES.index("citation_marks")
    assert R[:, after].tolist() == [0, 0, 0, 0, 1, 1, 1]  # from the line after the list's heading on
    assert R[1, marks] == 0.5 and R[4, marks] == 1.0 and R[5, marks] == 1.0 and R[6, marks] == 0.0
    # A list heading the first pass does not take for a heading starts nothing.
    assert reference_cues(lines, numpy.zeros(7, dtype="float32"))[:, after].sum() == 0


def test_a_heading_ending_in_a_colon_or_followed_by_a_long_line_takes_no_more_lines():
    body = "Body text of a paragraph that runs on to the end of the column."
    text = f"Author contributions:\nmj and dlr designed the code.\n{body}\n"
    assert [text[a:b] for a, b in heading_spans(text, StartsWith("Author", partial=("mj",)))] == ["Author contributions:"]
    text = f"Summary\nevolved is an open-source R package for teaching evolution through virtual inquiries\n{body}\n"
    assert [text[a:b] for a, b in heading_spans(text, StartsWith("Summary", partial=("evolved",)))] == ["Summary"]


def test_line_features_shape_and_empty_lines():
    X = line_features(["1 Introduction", "", "Some text of a paragraph that goes on."])
    assert X.shape == (3, len(FEATURES))
    assert not X[1].any()
    assert line_features([]).shape == (0, len(FEATURES))
    assert HeadingLineModel.from_disk().probabilities([]).shape == (0,)


def test_network_learns_and_round_trips(tmp_path):
    rng = numpy.random.default_rng(0)
    X = rng.normal(size=(400, len(FEATURES))).astype("float32")
    y = (X[:, 1] + X[:, 2] > 0).astype("float64")
    params = train_network(X, y, hidden=4, epochs=300, learn_rate=0.05)
    accuracy = ((forward(params, X) >= 0.5) == (y > 0)).mean()
    assert accuracy > 0.95
    model = HeadingLineModel(params, threshold=0.4)
    model.to_disk(tmp_path / "m.json")
    again = HeadingLineModel.from_disk(tmp_path / "m.json")
    assert again.threshold == 0.4
    lines = ["1 Introduction", "A line of text."]
    assert numpy.allclose(again.probabilities(lines), model.probabilities(lines), atol=1e-6)


def test_model_refuses_other_features():
    with pytest.raises(ValueError, match="another feature set"):
        HeadingLineModel({}, features=("a", "b"))


def test_tei_plain_text_lays_out_pdf_lines():
    tei = (
        b"<tei><teiHeader/><text><head>1. INTRODUCTION<lb/></head><p>First line<lb/> second line.</p>"
        b"<figure>Figure 1. A caption</figure><div><head>Methods<lb/> Preparation</head><p>x</p></div></text></tei>"
    )
    text, gold = tei_plain_text(tei)
    assert text.splitlines() == ["1. INTRODUCTION", "First line", "second line.", "Figure 1. A caption",
                                 "Methods", "Preparation", "x"]
    assert gold == {0, 4, 5}
    assert normalise_line("  a \t b ") == "a b"


def test_split_is_fixed_by_name():
    assert split_of("a/b/paper1.xml") == split_of("paper1.xml")
    assert {split_of(f"p{i}.xml") for i in range(20)} == {"train", "test"}


# -- the second pass over the neighbours' probabilities ------------------------------------------------------------

import json  # noqa: E402

from spacy_scicls.segmentation.lines import CONTEXT_FEATURES, context_features, train_two_pass  # noqa: E402

_BODY = (
    "The samples were collected over three seasons and stored at four degrees before analysis",
    "in the laboratory, where each was weighed twice and the mean of the two weights was kept",
    "for the comparison with the reference material described in the previous work.",
)


def _synthetic_paper(rng, n_sections=6):
    """Paragraph lines with headings, some wrapped over two lines (the second in lower case)."""
    lines, labels = [], []
    for k in range(n_sections):
        words = ["Analysis", "Sampling", "Effects", "Models", "Validation", "Outcomes"]
        heading = f"{k + 1} {words[rng.integers(len(words))]} of {words[rng.integers(len(words))].lower()}"
        if rng.random() < 0.5:
            lines += [heading + " across", "seasons and sites"]
            labels += [1.0, 1.0]
        else:
            lines.append(heading)
            labels.append(1.0)
        for _ in range(int(rng.integers(2, 5))):
            lines += list(_BODY)
            labels += [0.0] * len(_BODY)
    return lines, labels


def test_context_features_read_the_neighbours():
    lines = ["1 Introduction", "", "Some text of a paragraph.", "More text."]
    X = line_features(lines)
    first = numpy.asarray([0.9, 0.0, 0.2, 0.1], dtype="float32")
    C = context_features(lines, X, first, numpy.zeros((4, len(UNIT_FEATURES)), dtype="float32"))
    assert C.shape == (4, len(FEATURES) + len(CONTEXT_FEATURES))
    cols = {name: len(FEATURES) + i for i, name in enumerate(CONTEXT_FEATURES)}
    # The empty line is skipped: the paragraph's previous line is the heading.
    assert C[2, cols["p_prev"]] == pytest.approx(0.9) and C[2, cols["p_self"]] == pytest.approx(0.2)
    assert C[0, cols["p_next"]] == pytest.approx(0.2) and C[0, cols["p_prev"]] == 0.0
    assert not C[1].any()


def test_two_pass_model_learns_wrapped_headings_and_round_trips(tmp_path):
    rng = numpy.random.default_rng(0)
    train = [_synthetic_paper(rng) for _ in range(12)]
    test = [_synthetic_paper(rng) for _ in range(4)]
    params, context_params = train_two_pass(train, hidden=4, epochs=300, folds=3)
    model = HeadingLineModel(params, context_params=context_params)
    tp = fp = fn = 0
    for lines, labels in test:
        pred = numpy.asarray(model.heading_lines(lines))
        gold = numpy.asarray(labels) > 0
        tp, fp, fn = tp + (pred & gold).sum(), fp + (pred & ~gold).sum(), fn + (~pred & gold).sum()
    assert tp / (tp + fn) > 0.95 and tp / (tp + fp) > 0.95
    model.to_disk(tmp_path / "m.json")
    again = HeadingLineModel.from_disk(tmp_path / "m.json")
    assert again.context_params is not None
    lines = test[0][0]
    assert numpy.allclose(again.probabilities(lines), model.probabilities(lines), atol=1e-6)
    # Weights of a second pass made for other cues are refused.
    data = json.loads((tmp_path / "m.json").read_text())
    data["context_features"] = ["p_self"]
    (tmp_path / "bad.json").write_text(json.dumps(data))
    with pytest.raises(ValueError, match="second-pass"):
        HeadingLineModel.from_disk(tmp_path / "bad.json")


def test_train_two_pass_needs_papers():
    with pytest.raises(ValueError, match="no papers"):
        train_two_pass([])


def test_weights_say_how_much_each_line_counts():
    # the same cues, labelled heading on 30 lines and not on 10: weighting the
    # ten three times over (and the thirty once) balances them
    X = numpy.zeros((40, len(FEATURES)), dtype="float32")
    X[:, 0] = 1.0
    y = numpy.r_[numpy.ones(30), numpy.zeros(10)]
    plain = forward(train_network(X, y, hidden=2, l2=0.0, epochs=300, learn_rate=0.05), X[:1])[0]
    weighted = forward(train_network(X, y, hidden=2, l2=0.0, epochs=300, learn_rate=0.05,
                                     weights=numpy.r_[numpy.ones(30), numpy.full(10, 3.0)]), X[:1])[0]
    assert plain == pytest.approx(0.75, abs=0.03) and weighted == pytest.approx(0.5, abs=0.03)
    with pytest.raises(ValueError, match="weights must be"):
        train_network(X, y, weights=numpy.ones(3))
    papers = [(["1 Introduction", "Text of the paper."], [1.0, 0.0])] * 3
    with pytest.raises(ValueError, match="paper weights"):
        train_two_pass(papers, paper_weights=[1.0])


def test_packaged_weights_have_both_passes():
    model = HeadingLineModel.from_disk()
    assert model.context_params is not None and model.meta.get("passes") == 2
    text = (
        "The cells were grown for two days and then counted twice by two people who did not know the group.\n"
        "Each count was repeated and the mean was kept for the analysis of the growth rates below.\n"
        "3.2 Inhibition of growth in cell culture and characterisation of the\n"
        "mechanism of action\n"
        "We treated the cells with each compound at three doses and measured the growth after two days.\n"
        "The doses were chosen from the previous screen, where each compound was tested at one dose.\n"
    )
    flags = model.heading_lines(text.splitlines())
    assert flags == [False, False, True, True, False, False]


# -- cues of the neighbouring lines, runs of same-shape lines, compound names -------------------------------------

from spacy_scicls.segmentation.lines import BASE_FEATURES, NEIGHBOUR_CUES  # noqa: E402


def test_each_line_reads_its_neighbours_cues():
    lines = ["2 Methods", "", "We measured the rainfall at ten stations over the decade.", "Results"]
    X = line_features(lines)
    col = {name: i for i, name in enumerate(FEATURES)}
    assert FEATURES[: len(BASE_FEATURES)] == BASE_FEATURES and len(FEATURES) == len(BASE_FEATURES) + 2 * len(NEIGHBOUR_CUES)
    for cue in NEIGHBOUR_CUES:
        # the empty line is skipped: the paragraph's neighbours are the two headings
        assert X[2, col[f"prev:{cue}"]] == X[0, col[cue]]
        assert X[2, col[f"next:{cue}"]] == X[3, col[cue]]
    assert X[0, col["prev:numbered"]] == 0 and X[2, col["prev:numbered"]] == 1
    assert not X[3, len(BASE_FEATURES) + len(NEIGHBOUR_CUES):].any()  # no next line


def test_runs_of_same_shape_lines_and_compound_names():
    lines = ["Chromosome 1", "Chromosome 2", "Chromosome 3", "1-(2-Iodo-5-nitrophenyl)ethanone 26.", "(8b)",
             "A mixture of the two compounds was stirred overnight at room temperature and then filtered."]
    X = line_features(lines)
    col = {name: i for i, name in enumerate(FEATURES)}
    assert list(X[:3, col["same_shape_next"]]) == [1, 1, 0] and list(X[:3, col["same_shape_prev"]]) == [0, 1, 1]
    assert X[1, col["similar_in_window"]] > X[4, col["similar_in_window"]]
    assert X[3, col["ends_compound_label"]] == 1 and X[4, col["ends_compound_label"]] == 1
    assert X[5, col["ends_compound_label"]] == 0
    assert X[3, col["chemical"]] > 0 and X[5, col["chemical"]] == 0


# -- the paper's numbering, the column's width, the paper's heading style ----------------------------------------

from spacy_scicls.segmentation.lines import heading_number, number_sequence  # noqa: E402


def test_section_numbers_are_read_in_every_scheme():
    assert heading_number("2.1 Data") == ("arabic", (2, 1))
    assert heading_number("3. Results") == ("arabic", (3,))
    assert heading_number("IV. Discussion") == ("roman", (4,))
    assert heading_number("B. Set-up") == ("letter", (2,))
    # a number must be followed by a word: a table row or a value is no section number
    assert heading_number("12 0.5 0.7") is None and heading_number("Results") is None
    assert heading_number("2.1") is None


def test_numbers_that_follow_each_other_are_a_sequence():
    texts = ["1 Introduction", "Some text with 3 samples.", "2 Methods", "2.1 Data", "7 mg of salt were added",
             "2.2 Models", "3 Results", "", "IV. Other"]
    follows, followed = number_sequence(texts)
    assert follows == [False, False, True, True, False, True, True, False, False]
    assert followed == [True, False, True, True, False, True, False, False, False]
    # "2.3" is followed by "3" (the next top-level section) as well as by "2.4" or "2.3.1"
    assert number_sequence(["2.3 Fits", "3 Results"]) == ([False, True], [True, False])
    assert number_sequence(["2.3 Fits", "2.3.1 Priors"])[1] == [True, False]
    assert number_sequence(["II. Data", "III. Models", "C. Extra"]) == ([False, True, False], [True, False, False])


def test_line_length_against_the_column_around_it():
    narrow = ["A narrow column of text that wraps", "at about forty characters in all of",
              "its lines, as a two-column page does."] * 4
    wide = ["A wide column of text that wraps at about ninety characters on each of its lines, as one"] * 12
    lines = narrow + ["Results"] + wide
    X = line_features(lines)
    col = {name: i for i, name in enumerate(FEATURES)}
    assert X[0, col["local_rel_len"]] == pytest.approx(1.0, abs=0.15)
    assert X[len(narrow) - 1, col["rel_len"]] < 0.6  # against the whole text's width it looks short
    assert X[len(narrow), col["local_rel_len"]] < 0.2


def test_the_papers_heading_style_is_a_second_pass_cue():
    lines = ["1 Introduction", "Text of the paper goes on here.", "2 Methods", "Text of the paper goes on here.",
             "3 Results", "Text of the paper goes on here."]
    X = line_features(lines)
    first = numpy.asarray([0.9, 0.1, 0.2, 0.1, 0.8, 0.1], dtype="float32")
    C = context_features(lines, X, first, numpy.zeros((6, len(UNIT_FEATURES)), dtype="float32"))
    cols = {name: len(FEATURES) + i for i, name in enumerate(CONTEXT_FEATURES)}
    # "2 Methods", unsure itself, shares its style with both sure headings
    assert C[2, cols["style_share"]] == pytest.approx(1.0)
    assert C[2, cols["style_mean"]] == pytest.approx(0.85)
    # the paragraph lines share theirs with none of them
    assert C[1, cols["style_share"]] == 0.0 and C[1, cols["style_mean"]] == pytest.approx(0.1)


@pytest.mark.parametrize("n", [0, 1, 5, 21, 22, 300])
def test_local_widths_are_the_75th_percentile_of_each_window(n):
    from spacy_scicls.segmentation.lines import local_widths

    lengths = numpy.random.default_rng(n).integers(0, 120, n).tolist()
    assert local_widths(lengths) == [float(numpy.percentile(lengths[max(0, k - 10) : k + 11], 75)) for k in range(n)]
