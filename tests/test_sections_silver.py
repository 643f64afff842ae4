"""Silver IMRaD labels from headings, sub-section inheritance, and the
section docs the training and evaluation scripts build."""
from pathlib import Path

import numpy
import pytest
import spacy

import spacy_scicls  # noqa: F401
from spacy_scicls.corpora.sections import (
    heading_label,
    label_counts,
    load_nlm_heading_map,
    normalise_heading,
    section_doc,
    section_roles,
    silver_labels,
)
from spacy_scicls.readers import read_paper
from spacy_scicls.segmentation import Segment
from spacy_scicls.segmentation.segments import heading_level

PAPERS = Path(__file__).parent / "fixtures" / "papers"


@pytest.mark.parametrize("heading,label", [
    ("1 Introduction", "introduction"),
    ("I. INTRODUCTION", "introduction"),
    ("\u25a0 INTRODUCTION", "introduction"),
    ("2.3. Experimental setup", "methods"),
    ("MATERIALS AND METHODS", "methods"),
    ("3 Our Approach", "methods"),
    ("Patients and methods", "methods"),
    ("5 Experiments", "results"),
    ("Experimental Results", "results"),
    ("Results and Discussion", "results"),
    ("Discussion and Conclusions", "discussion"),
    ("Background and Related Work", "introduction"),
    ("4. Related Work", "related_work"),
    ("Concluding remarks", "conclusion"),
    ("6 Conclusions and Future Work", "conclusion"),
    ("Acknowledgements", "other"),
    ("Data availability", "other"),
    ("Appendix A. Proofs", "other"),
    ("Author contributions", "other"),
    ("## Abstract", "abstract"),
])
def test_heading_label(heading, label):
    assert heading_label(heading) == label


@pytest.mark.parametrize("heading", [
    None, "", "2 Structure of The Literature Graph", "A model of rainfall", "Sensitivity analysis",
    "Effect of the model size", "3.2 Why sleep matters",
])
def test_headings_that_name_no_role(heading):
    assert heading_label(heading) is None


@pytest.mark.parametrize("heading,label", [
    ("Objectives", "introduction"), ("Overview of the approach", "introduction"), ("2 Motivation", "introduction"),
    ("Scientific background", "introduction"), ("Learning Objectives", "introduction"), ("Study aims", "introduction"),
    # "objective" and "overview" inside a heading name a part of the method, not the paper's opening
    ("2.3 Citation-Based Pretraining Objective", None), ("System overview", None),
])
def test_objective_and_overview_must_begin_the_heading(heading, label):
    assert heading_label(heading) == label


def test_a_sub_section_heading_does_not_take_its_parents_role_away():
    headings = ["Abstract", "1 Introduction", "1.1 Background", "2 Model", "2.1 Overview",
                "2.2 Background: Transformers", "2.3 Summary", "3 Methods", "3.1 Analysis", "4 Results and Discussion", "4.1 Results", "4.2 Discussion",
                "5 Experiments", "5.1 Experimental setup", "6 Our approach", "6.1 Background", "Acknowledgements"]
    levels = [1, 1, 2, 1, 2, 2, 2, 1, 2, 1, 2, 2, 1, 2, 1, 2, 1]
    assert section_roles(headings, levels) == [
        "abstract", "introduction", "introduction", "methods", None, None, None, "methods", None, "results",
        "results", "discussion", "results", "methods", "methods", None, "other"]
    # a role the parent's heading names too stays; a parent that names no role rules nothing out
    assert section_roles(["2 Methods and Results", "2.1 Results"], [1, 2]) == ["methods", "results"]
    assert section_roles(["2 Citation graphs", "2.1 Overview"], [1, 2]) == [None, "introduction"]
    # a "Summary" that holds the whole paper (as some journals nest it) rules nothing out
    assert section_roles(["Summary", "Introduction", "Methods"], [1, 2, 2]) == ["abstract", "introduction", "methods"]
    # the nearest ancestor that names a role decides
    assert section_roles(["2 Methods", "2.1 Sites", "2.1.1 Overview"], [1, 2, 3]) == ["methods", None, None]


def test_normalise_heading():
    assert normalise_heading("  2.1.  Data  Sources: ") == "data sources"
    assert normalise_heading("A. Methods") == "methods"
    assert normalise_heading("A model") == "a model"


def test_nlm_map(tmp_path):
    path = tmp_path / "labels.txt"
    path.write_text("STUDY DESIGN|METHODS|N|2010\nMAIN OUTCOME MEASURES|RESULTS|Y|2010\nKEY WORDS|UNASSIGNED|N|2010\n")
    nlm = load_nlm_heading_map(path)
    assert nlm == {"STUDY DESIGN": "methods", "MAIN OUTCOME MEASURES": "results"}
    assert heading_label("Main outcome measures") is None
    assert heading_label("Main outcome measures", nlm) == "results"


def test_silver_labels_inherit_and_keep_reader_labels():
    nlp = spacy.blank("en")
    doc = read_paper(PAPERS / "paper.jats.xml", nlp)
    # JATS sec-types and back matter kept; "Study sites" (no role) inherits
    # methods from its parent; the combined heading takes its first role.
    assert silver_labels(doc) == ["abstract", "introduction", "methods", "methods", "results", "other"]
    tei = read_paper(PAPERS / "paper.tei.xml", nlp)
    assert silver_labels(tei) == ["abstract", "introduction", "methods", "methods", "results", "other"]
    counts = label_counts(silver_labels(tei) + [None])
    assert counts["methods"] == 2 and counts["none"] == 1


def test_section_doc_withholds_headings_and_truncates():
    nlp = spacy.blank("en")
    doc = read_paper(PAPERS / "paper.unarxive.jsonl", nlp)
    labels = silver_labels(doc)
    full = section_doc(doc, nlp, labels)
    assert [s._.heading for s in full.spans["sections"]] == [s._.heading for s in doc.spans["sections"]]
    assert [s.label_ for s in full.spans["sections"]] == ["abstract", "introduction", "methods", "methods", "conclusion"]
    blind = section_doc(doc, nlp, labels, headings=False)
    assert all(s._.heading is None for s in blind.spans["sections"])
    assert "Introduction" not in blind.text and "Tokenization" not in blind.text
    assert blind.spans["sections"][1].text == "Counting is hard [1].\n\nNoise makes it harder."
    short = section_doc(doc, nlp, labels, max_tokens=3)
    assert short.spans["sections"][1].text == "1 Introduction\nCounting is hard"


@pytest.mark.parametrize("heading,level", [
    ("2 Methods", 1), ("2.1 Data", 2), ("2.1.3. Sites", 3), ("Results", 1), (None, 1), ("## 3.2 Fits", 2),
])
def test_heading_level(heading, level):
    assert heading_level(heading) == level


def test_sub_sections_inherit_unless_their_own_evidence_is_strong():
    nlp = spacy.blank("en")
    text = ("2 Methods\nWe sampled.\n\n2.1 Sites\nTwelve islands.\n\n2.2 Counts\nWe found more.\n\n3 Results\n"
            "More birds than before.")
    doc = nlp.make_doc(text)
    pipe = nlp.add_pipe("scicls_sections")
    segments = pipe.segments(doc)
    assert [s.heading for s in segments] == ["2 Methods", "2.1 Sites", "2.2 Counts", "3 Results"]
    labels = list(pipe.labels)
    scores = numpy.full((4, len(labels)), 0.01, dtype="float32")
    scores[0, labels.index("methods")] = 0.9
    scores[1, labels.index("results")] = 0.6     # weak: inherits methods
    scores[2, labels.index("results")] = 0.95    # strong: keeps results
    scores[3, labels.index("results")] = 0.8     # top level: its own label
    pipe.set_annotations([doc], ([segments], scores))
    spans = doc.spans["sections"]
    assert [s.label_ for s in spans] == ["methods", "methods", "results", "results"]
    assert [s._.section_level for s in spans] == [1, 2, 2, 1]
    assert spans[1]._.section_score == pytest.approx(0.01)


def test_no_sub_section_of_a_method_is_labelled_introduction():
    """A CS paper's "2.2 Background" explains its model: however sure the content is that it reads like an
    introduction, a sub-section of a headed section with another label does not open the paper."""
    nlp = spacy.blank("en")
    text = ("1 Introduction\nWe ask.\n\n2 Model\nOurs.\n\n2.1 Overview\nIn short.\n\n"
            "2.2 Background: Transformers\nTransformers read text.\n\n2.3 Pretraining Objective\nA loss.\n\n"
            "3 Results\nIt works.\n\n3.1 Summary\nIn sum it works.")
    doc = nlp.make_doc(text)
    pipe = nlp.add_pipe("scicls_sections")
    pipe.cfg["order_weight"] = 0.0
    segments = pipe.segments(doc)
    assert [s.heading for s in segments][1:5] == ["2 Model", "2.1 Overview", "2.2 Background: Transformers",
                                                  "2.3 Pretraining Objective"]
    labels = list(pipe.labels)
    scores = numpy.full((len(segments), len(labels)), 0.001, dtype="float32")
    for row, label in enumerate(["introduction", "introduction", "introduction", "introduction", "introduction",
                                 "results", "abstract"]):
        scores[row, labels.index(label)] = 0.995  # sure beyond the inheriting threshold
    pipe.set_annotations([doc], ([segments], scores))
    assert [s.label_ for s in doc.spans["sections"]] == [
        "introduction", "methods", "methods", "methods", "methods", "results", "results"]


JATS_WITH_ROLES = """<article><front><article-meta><title-group><article-title>Birds</article-title></title-group>
<abstract><p>We count birds.</p></abstract></article-meta></front>
<body><sec sec-type="materials|methods"><title>Our approach</title><p>We walked.</p>
<sec><title>Overview</title><p>Twelve islands.</p></sec></sec>
<sec><title>Counts</title><p>More birds.</p></sec>
<sec sec-type="conclusions"><title>Discussion</title><p>Birds like islands.</p></sec></body>
<back><app-group><app><title>Proofs</title><p>Lemma one.</p></app></app-group></back></article>"""


def test_the_roles_a_reader_states_are_kept_unless_overwrite():
    """A publisher's sec-type and back matter are better evidence than the model: kept, and passed down."""
    nlp = spacy.blank("en")
    doc = read_paper(JATS_WITH_ROLES, nlp, format="jats")
    assert [s._.heading for s in doc.spans["sections"]] == ["Abstract", "Our approach", "Overview", "Counts",
                                                            "Discussion", "Proofs"]
    assert [s.label_ for s in doc.spans["sections"]] == [
        "abstract", "methods", "unlabelled", "unlabelled", "conclusion", "other"]
    for overwrite, expected in ((False, ["abstract", "methods", "methods", "results", "conclusion", "other"]),
                                (True, ["abstract", "methods", "methods", "results", "discussion", "results"])):
        doc = read_paper(JATS_WITH_ROLES, nlp, format="jats")
        pipe = spacy.blank("en").add_pipe("scicls_sections", config={"overwrite": overwrite, "order_weight": 0.0})
        labels = list(pipe.labels)
        segments = pipe.segments(doc)
        scores = numpy.full((len(segments), len(labels)), 0.01, dtype="float32")
        for row, label in enumerate(["abstract", "results", "introduction", "results", "discussion", "results"]):
            scores[row, labels.index(label)] = 0.9
        pipe.set_annotations([doc], ([segments], scores))
        assert [s.label_ for s in doc.spans["sections"]] == expected, overwrite


def test_a_parent_without_heading_passes_no_label_down():
    """Headings withheld (content only): the parent's label is a guess from its content, the child keeps its own."""
    from spacy_scicls.segmentation import Segment

    nlp = spacy.blank("en")
    doc = nlp.make_doc("We sampled twelve islands.\n\nWe counted the birds.\n\nCounts rose.")
    pipe = nlp.add_pipe("scicls_sections")
    labels = list(pipe.labels)
    scores = numpy.full((3, len(labels)), 0.01, dtype="float32")
    scores[0, labels.index("methods")] = 0.9
    scores[1, labels.index("results")] = 0.6   # weak, but its parent has no heading
    scores[2, labels.index("results")] = 0.6
    pipe.cfg["order_weight"] = 0.0
    for headings, expected in ((None, ["methods", "results", "results"]), ("Methods", ["methods", "methods", "methods"])):
        segments = [Segment(0, 5, 0, None), Segment(5, 11, 5, None), Segment(11, len(doc), 11, None)]
        if headings:
            segments[0] = Segment(0, 5, 0, headings)
        doc.spans["sections"] = [doc[s.start:s.end] for s in segments]
        for span, level in zip(doc.spans["sections"], (1, 2, 2)):
            span._.section_level = level
        pipe.set_annotations([doc], ([segments], scores.copy()))
        assert [s.label_ for s in doc.spans["sections"]] == expected


def test_reader_levels_survive_labelling():
    nlp = spacy.blank("en")
    doc = read_paper(PAPERS / "paper.tei.xml", nlp)
    pipe = nlp.add_pipe("scicls_sections")
    segments = pipe.segments(doc)
    assert [s.heading for s in segments] == [s._.heading for s in doc.spans["sections"]]
    scores = numpy.full((len(segments), len(pipe.labels)), 0.1, dtype="float32")
    scores[:, 0] = 0.3
    pipe.set_annotations([doc], ([segments], scores))
    assert [s._.section_level for s in doc.spans["sections"]] == [1, 1, 1, 2, 1, 1]


def test_section_doc_reports_which_sections_it_kept():
    nlp = spacy.blank("en")
    text = "# Paper\n\n## 1 Introduction\n\nText.\n\n## 2 Methods\n\n### 2.1 Data\n\nRows.\n"
    doc = read_paper(text, nlp, format="markdown")
    assert [s._.heading for s in doc.spans["sections"]] == ["1 Introduction", "2 Methods", "2.1 Data"]
    blind = section_doc(doc, nlp, headings=False)
    assert blind.user_data["section_index"] == [0, 2]
    assert [s.text for s in blind.spans["sections"]] == ["Text.", "Rows."]
    assert section_doc(doc, nlp).user_data["section_index"] == [0, 1, 2]


def test_paper_corpus_gives_silver_examples(capsys):
    from spacy.util import registry

    nlp = spacy.blank("en")
    corpus = registry.readers.get("spacy_scicls.PaperCorpus.v1")(PAPERS, pattern="[pm]*.*")
    examples = list(corpus(nlp))
    # Six good papers (the text paper has no sections); the malformed ones are skipped with a message.
    assert len(examples) == 6
    err = capsys.readouterr().err
    assert "skipped: " in err and "malformed.jats.xml: malformed XML" in err and "malformed.s2orc.json" in err
    by_format = {eg.reference._.scicls_meta["format"]: eg for eg in examples}
    jats = by_format["jats"].reference
    assert [s.label_ for s in jats.spans["sections"]] == ["abstract", "introduction", "methods", "methods", "results", "other"]
    assert by_format["jats"].predicted.text == jats.text
    assert len(by_format["text"].reference.spans["sections"]) == 0


def test_heading_evidence_weighs_against_the_content():
    nlp = spacy.blank("en")
    pipe = nlp.add_pipe("scicls_sections", config={"heading_weight": 0.4})
    doc = nlp.make_doc("Results\nWe sampled.\n\nResults\nWe sampled again.\n\nSea ice and islands\nWe counted the birds on each island twice.")
    segments = pipe.segments(doc)
    labels = list(pipe.labels)
    scores = numpy.full((3, len(labels)), 0.01, dtype="float32")
    scores[0, labels.index("methods")] = 0.6    # unsure content: the heading wins
    scores[1, labels.index("methods")] = 0.95   # sure content: the content wins
    scores[2, labels.index("discussion")] = 0.6  # a heading that names no role: the content decides
    pipe.set_annotations([doc], ([segments], scores))
    spans = doc.spans["sections"]
    assert [s.label_ for s in spans] == ["results", "methods", "discussion"]
    assert spans[0]._.section_score == pytest.approx(0.4 + 0.6 * 0.01)
    assert [s._.heading for s in spans] == ["Results", "Results", "Sea ice and islands"]
    with pytest.raises(ValueError, match="heading_weight must be in"):
        spacy.blank("en").add_pipe("scicls_sections", config={"heading_weight": 1.0})


def test_by_default_a_heading_that_names_a_role_decides():
    nlp = spacy.blank("en")
    pipe = nlp.add_pipe("scicls_sections")
    doc = nlp.make_doc("Results\nWe sampled again.\n\nSea ice and islands\nWe counted the birds on each island twice.")
    segments = pipe.segments(doc)
    labels = list(pipe.labels)
    scores = numpy.full((2, len(labels)), 0.0, dtype="float32")
    scores[0, labels.index("conclusion")] = 0.99   # however sure the content is
    scores[1, labels.index("discussion")] = 0.99   # no role in the heading: the content decides
    pipe.set_annotations([doc], ([segments], scores))
    assert [s.label_ for s in doc.spans["sections"]] == ["results", "discussion"]


def test_a_heading_that_names_a_role_is_not_overridden_by_its_parent():
    nlp = spacy.blank("en")
    text = ("Summary\nThe book teaches.\n\n1.1 Statement of need\nTeachers lack it.\n\n"
            "1.2 Acknowledgements\nWe thank.\n\n4 Results and Discussion\nIt works.\n\n4.1 Discussion\n"
            "Why it works is not yet known.")
    doc = nlp.make_doc(text)
    pipe = nlp.add_pipe("scicls_sections", config={"heading_weight": 0.5, "inherit_threshold": 0.99})
    segments = pipe.segments(doc)
    assert [s.heading for s in segments] == ["Summary", "1.1 Statement of need", "1.2 Acknowledgements",
                                              "4 Results and Discussion", "4.1 Discussion"]
    labels = list(pipe.labels)
    scores = numpy.full((5, len(labels)), 0.01, dtype="float32")
    scores[0, labels.index("abstract")] = 0.9
    scores[1, labels.index("introduction")] = 0.6  # weak, but an abstract is not passed down
    scores[2, labels.index("abstract")] = 0.6      # its heading says other
    scores[3, labels.index("results")] = 0.8
    scores[4, labels.index("results")] = 0.6       # its heading says discussion
    pipe.cfg["order_weight"] = 0.0
    pipe.set_annotations([doc], ([segments], scores))
    spans = doc.spans["sections"]
    assert [s._.section_level for s in spans] == [1, 2, 2, 1, 2]
    assert [s.label_ for s in spans] == ["abstract", "introduction", "other", "results", "discussion"]
