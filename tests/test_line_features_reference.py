"""line_features, and the second pass's context_features and reference_cues, compute every cue over all lines
at once: they must give, value for value, the float32 matrices of the per-line reference
(tests/line_features_reference.py) on texts that exercise every cue."""
import re

import numpy
import pytest

from line_features_reference import (
    _CHEMICAL, _COMPOUND_LABEL, _CONTINUES, _VERBS, per_line_context_features, per_line_reference_cues,
    reference_is_heading_line, reference_line_features,
)
from spacy_scicls.segmentation.lines import (
    BASE_FEATURES, CONTEXT_FEATURES, FEATURES, HeadingLineModel, _AnyCase, context_features, forward,
    line_features, reference_cues, reflowed_cues,
)
from spacy_scicls.segmentation.rule_based import is_heading_line

PARAGRAPH = [
    "The samples were collected at three sites along the river and kept at 4 C until they were",
    "analysed; each was weighed (in mg) and measured twice by two of us, and the mean of the two",
    "readings is reported here as the value of that sample for the analysis that follows in the",
    "next section of this paper.",
]
HEADINGS = [
    "1 Introduction", "2. Materials and methods", "2.1 Study sites", "2.1.3. Sampling design", "3 Results",
    "IV. RESULTS", "II Data", "A. Set-up", "B. Second part", "## Methods", "# Results and discussion",
    "ABSTRACT", "Acknowledgements", "References", "Conclusions:", "Materials and methods used in the survey",
    "Background.", "Quantitative analysis of", "neural networks", "Related work and", "■ Discussion", "• Funding",
    "7 mg of salt were added", "12 0.5 0.7 0.9 1.3",
]
CAPTIONS = ["Figure 1. Map of the sites.", "Fig. 2: Counts per site", "Table 3 Samples", "TABLE IV", "Eq. 5",
            "Algorithm 1 Training", "Listing 2"]
CHEMISTRY = [
    "1-(2-Iodo-5-nitrophenyl)ethanone 26.", "(8b)", "( 12a )", "(R)-12a.", "(S)-3", "2,4-dimethylpyridine",
    "N-methyl-N-ethylamine and its hydroxy derivative", "tert-butyl carbonate (2R)", "TRIAZOLE AMIDE", "Oxo-Phenyl",
    "the compound 3a", "sodium chloride and potassium iodide", "(see compound 12a) then (  3b  ).", "x (R)-7",
    "label (12)(b)", "(a) (b) ( c )", "ratio 1234b", "ratio 123a.", "in 2021.", "(\t7\t)",
]
UNITS = ["We added 5 mg of it to 10 ml.", "About 30% of the cells", "a 3 µm film at 50 Hz", "a 12 kDa protein",
         "x = 3 ± 0.2", "the mean (see above).", "[1] {2} (3)", "Chromosome 1", "Chromosome 2", "Chromosome 3"]
ENDINGS = ["Effects of rain and", "the brand", "a", "A", "Results:", "values, measured;", "long-", "the pre\u2010",
           "R&", "from", "With", "AND", "x)", "y]", "12", "One?", "\"quoted\"", "it said \u201cyes\u201d"]
NON_ASCII = [
    "Résumé des résultats", "ÉTUDE DES SOLS", "Ωμέγα and the Ψ field were", "Ergebnisse und Diskussion",
    "数据与方法", "ⓐ NOTES ON ⓑ", "İSTANBUL and the ſtudy", "\u212aELVIN scale of", "x² + y² = z²",
    "3 Métodos", "Ⅳ. Resultados", "\u00a0indented by a no-break space\u00a0", "tab\tseparated\tcolumns",
    "bad byte \udc80 in the middle", "\u2014 3 \u2014", "naïve approach with", "ﬁnal results",
]
FURNITURE = ["Smith et al.", "Page 3 of 12", "- 4 -", "p. 7", "17", "Journal of Rain 2021; 3: 1-12", "■"]
LONG = ["word " * 120, "Supercalifragilisticexpialidociouslyunderstood", "x" * 300,
        " ".join(["aVeryLongIdentifierOfThirtyLetters"] * 3)]


def _manuscript(rng: numpy.random.Generator, n: int, blank_rate: float) -> list:
    """Lines drawn from every group above, with paragraphs, furniture every page and empty lines."""
    groups = [PARAGRAPH, HEADINGS, CAPTIONS, CHEMISTRY, UNITS, ENDINGS, NON_ASCII, LONG]
    lines = []
    for i in range(n):
        if i % 25 == 0:
            lines.append(FURNITURE[0])
        if i % 25 == 24:
            lines.append(f"Page {i // 25 + 1} of 9")
        if rng.random() < blank_rate:
            lines.append("" if rng.random() < 0.8 else "   ")
        group = groups[0] if rng.random() < 0.4 else groups[int(rng.integers(len(groups)))]
        lines.append(group[int(rng.integers(len(group)))])
    return lines


def _texts() -> list:
    rng = numpy.random.default_rng(18)
    every_line = PARAGRAPH + HEADINGS + CAPTIONS + CHEMISTRY + UNITS + ENDINGS + NON_ASCII + FURNITURE + LONG
    numbered = [f"{i + 1} {line}" for i, line in enumerate(PARAGRAPH * 3 + HEADINGS[:6] + PARAGRAPH)]
    paged_numbers = [f"{(i % 7) + 1:>4}\t{line}" for i, line in enumerate(PARAGRAPH * 4)]
    blocks = ["Methods", "", *PARAGRAPH, "", "Results", "", PARAGRAPH[0], "", "", "2 Data", PARAGRAPH[1], ""]
    return [
        [], [""], ["", "  ", "\t"], ["Results"], [PARAGRAPH[0]], ["1 Introduction", PARAGRAPH[0]], ["■", "", "|"],
        every_line, numbered, paged_numbers, blocks, NON_ASCII, LONG, FURNITURE * 4,
        _manuscript(rng, 400, 0.0), _manuscript(rng, 400, 0.3), _manuscript(rng, 60, 0.6),
        [line.upper() for line in every_line], [line.lower() for line in every_line],
    ]


@pytest.mark.parametrize("k", range(len(_texts())))
def test_line_features_give_the_reference_matrix(k):
    lines = _texts()[k]
    expected = reference_line_features(lines)
    found = line_features(lines)
    assert found.dtype == expected.dtype == numpy.float32 and found.shape == (len(lines), len(FEATURES))
    differ = sorted({FEATURES[c] for c in numpy.flatnonzero((found != expected).any(axis=0))})
    assert not differ, f"cues that differ: {differ}"
    assert numpy.array_equal(found, expected)


def test_the_texts_exercise_every_cue():
    """Each cue (and its neighbours' copies) is not zero on some line, and not the same on every line."""
    X = numpy.vstack([line_features(lines) for lines in _texts()])
    quiet = [name for c, name in enumerate(FEATURES) if not X[:, c].any()]
    assert not quiet
    constant = [name for c, name in enumerate(BASE_FEATURES) if name != "bias_like" and
                len(numpy.unique(X[X[:, 0] > 0, c])) < 2]
    assert not constant


def test_the_heading_rule_gives_the_reference_answer():
    lines = [line for text in _texts() for line in text]
    assert [is_heading_line(line) for line in lines] == [reference_is_heading_line(line) for line in lines]
    assert sum(map(is_heading_line, lines)) > 20


def test_faster_searches_find_what_a_plain_search_finds():
    from spacy_scicls.segmentation import lines as package

    lines = [line for text in _texts() for line in text]
    lines += ["Ethyl", "METHYL", "ETHYL)", "\u212a", "ſe", "SHOWS", "Wıth", "İs", "N-", "(2Z)", "1,2"]
    for line in lines:
        assert package._VERBS.found(line) == bool(_VERBS.search(line)), line
        assert package._CHEMICAL.count(line) == len(_CHEMICAL.findall(line)), line
        stripped = line.strip()
        if stripped:
            assert package._ends_compound_label(stripped) == bool(_COMPOUND_LABEL.search(stripped)), stripped
            assert bool(_CONTINUES.search(stripped, max(len(stripped) - 5, 0))) == bool(_CONTINUES.search(stripped))
    # The package's patterns are those of the reference, written in lower case (in a character class,
    # where re.IGNORECASE makes "[NOS]" and "[nos]" the same).
    assert package._VERBS.pattern.pattern == _VERBS.pattern and package._VERBS.pattern.flags == _VERBS.flags
    assert package._CHEMICAL.pattern.pattern == _CHEMICAL.pattern.lower()
    assert package._CHEMICAL.pattern.flags == _CHEMICAL.flags
    outside_classes = re.sub(r"\[[^\]]*\]", "", _CHEMICAL.pattern)
    assert outside_classes == outside_classes.lower()
    assert package._CONTINUES.pattern == _CONTINUES.pattern and package._CONTINUES.flags == _CONTINUES.flags
    with pytest.raises(ValueError, match="lower case"):
        _AnyCase(r"\bWe\b")


CITED = [
    "References", "1. Smith J, Doe A. Rain in Europe. J Rain. 2019;3:12-19.", "doi: 10.1000/xyz", "(2004) and",
    "see https://example.org", "pp. 3", "vol. 7", "Smith et al. 2019.", "12 \u2013 19", "1999.", "3-4.",
    "2019: 5", "Bibliography", "Literature cited", "x (2020a)", "Vol.\t2 pp.  9", "in 2001. Then 3-4 more",
    "12-19.  ", "pp.\u00a05 and DOI",
]


def _second_pass_texts() -> list:
    blank_list = ["Results", "", *PARAGRAPH, "", "References", "", *CITED, "", "Appendix A", PARAGRAPH[0]]
    numbered = [f"{i + 1:>3} {line}" for i, line in enumerate(PARAGRAPH + ["2 Data"] + CITED)]
    return _texts() + [CITED, blank_list, numbered, CITED[1:] + ["References"] + CITED[1:]]


def _first_passes(lines, X):
    """The shipped first pass's probabilities, and random ones (seeded) that make many lines sure headings."""
    model = HeadingLineModel.from_disk()
    empty = numpy.asarray([not line.strip() for line in lines], dtype=bool)
    shipped = forward(model.params, X)
    drawn = numpy.random.default_rng(len(lines)).random(len(lines)).astype("float32")
    for first in (shipped, drawn):
        first[empty] = 0.0
        yield model, first


@pytest.mark.parametrize("k", range(len(_second_pass_texts())))
def test_the_second_pass_cues_give_the_reference_matrix(k):
    lines = _second_pass_texts()[k]
    X = line_features(lines)
    for model, first in _first_passes(lines, X):
        assert numpy.array_equal(reference_cues(lines, first), per_line_reference_cues(lines, first))
        units = reflowed_cues(lines, model.params, first)
        expected = per_line_context_features(lines, X, first, units)
        found = context_features(lines, X, first, units)
        assert found.dtype == expected.dtype == numpy.float32
        assert found.shape == (len(lines), len(FEATURES) + len(CONTEXT_FEATURES))
        differ = sorted({(FEATURES + CONTEXT_FEATURES)[c] for c in numpy.flatnonzero((found != expected).any(0))})
        assert not differ, f"cues that differ: {differ}"


def test_the_second_pass_texts_exercise_its_cues():
    """Every context cue, and both reference cues, are not zero on some line of the texts."""
    rows = []
    for lines in _second_pass_texts():
        X = line_features(lines)
        for model, first in _first_passes(lines, X):
            rows.append(context_features(lines, X, first, reflowed_cues(lines, model.params, first)))
    C = numpy.vstack(rows)[:, len(FEATURES):]
    assert not [name for c, name in enumerate(CONTEXT_FEATURES) if not C[:, c].any()]
    marks = C[:, CONTEXT_FEATURES.index("citation_marks")]
    assert {0.0, 0.5, 1.0} <= set(marks.tolist())
