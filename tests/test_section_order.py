"""The order of a paper's labels: transitions learned from label sequences, decoded together."""
import numpy
import pytest
import spacy

import spacy_scicls  # noqa: F401
from spacy_scicls.labels import IMRAD_LABELS
from spacy_scicls.ml.section_order import decode, learn_transitions
from spacy_scicls.segmentation import Segment

INTRO, METHODS, RESULTS, DISCUSSION = (IMRAD_LABELS.index(x) for x in ("introduction", "methods", "results", "discussion"))


def test_transitions_count_the_order_of_the_training_papers():
    papers = [[INTRO, METHODS, RESULTS, DISCUSSION], [INTRO, None, METHODS, RESULTS]]
    T = learn_transitions(papers, len(IMRAD_LABELS), smoothing=0.5)
    assert T.shape == (len(IMRAD_LABELS) + 1, len(IMRAD_LABELS))
    assert numpy.allclose(numpy.exp(T).sum(axis=1), 1.0)
    start = numpy.exp(T[-1])
    assert start.argmax() == INTRO  # both papers open with the introduction
    # the unlabelled section is skipped: introduction -> methods twice
    assert numpy.exp(T[INTRO, METHODS]) == pytest.approx((2 + 0.5) / (2 + 0.5 * len(IMRAD_LABELS)))
    assert T[METHODS, RESULTS] > T[METHODS, INTRO]
    with pytest.raises(ValueError, match="smoothing"):
        learn_transitions(papers, len(IMRAD_LABELS), smoothing=0)


def test_decoding_follows_the_order_where_a_section_is_unsure():
    T = learn_transitions([[INTRO, METHODS, RESULTS, DISCUSSION]] * 20, len(IMRAD_LABELS))
    probs = numpy.full((4, len(IMRAD_LABELS)), 0.02)
    probs[0, INTRO] = probs[1, METHODS] = probs[3, DISCUSSION] = 0.8
    # the third section is unsure between discussion and results, leaning the wrong way
    probs[2, DISCUSSION], probs[2, RESULTS] = 0.45, 0.35
    assert [int(k) for k in probs.argmax(axis=1)] == [INTRO, METHODS, DISCUSSION, DISCUSSION]
    assert decode(probs, T, weight=0.0) == [INTRO, METHODS, DISCUSSION, DISCUSSION]
    assert decode(probs, T, weight=1.0) == [INTRO, METHODS, RESULTS, DISCUSSION]
    # a fixed label is kept whatever the order says
    assert decode(probs, T, 1.0, fixed=[None, None, DISCUSSION, None])[2] == DISCUSSION
    assert decode(numpy.zeros((0, len(IMRAD_LABELS))), T) == []
    with pytest.raises(ValueError, match="do not fit"):
        decode(probs, T[:3], 1.0)


def test_component_decodes_with_its_transitions_and_keeps_them(tmp_path):
    nlp = spacy.blank("en")
    pipe = nlp.add_pipe("scicls_sections")
    doc = nlp.make_doc("Background\nWhy.\n\nStep one\nHow.\n\nWhat we saw\nThis.\n\nDiscussion\nSo.")
    segments, offset = [], 0
    for block in doc.text.split("\n\n"):
        heading = block.split("\n")[0]
        span = doc.char_span(offset, offset + len(block))
        segments.append(Segment(span.start, span.end, doc.char_span(offset, offset + len(heading)).end, heading))
        offset += len(block) + 2
    probs = numpy.full((4, len(IMRAD_LABELS)), 0.02, dtype="float32")
    probs[0, INTRO] = probs[1, METHODS] = 0.8
    probs[2, DISCUSSION], probs[2, RESULTS] = 0.45, 0.35
    probs[3, METHODS] = 0.9  # the heading "Discussion" decides, whatever the content says

    def labels(component):
        d = nlp.make_doc(doc.text)
        component.set_annotations([d], ([segments], probs.copy()))
        return [s.label_ for s in d.spans["sections"]]

    assert labels(pipe) == ["introduction", "methods", "discussion", "discussion"]
    pipe.set_transitions(learn_transitions([[INTRO, METHODS, RESULTS, DISCUSSION]] * 20, len(IMRAD_LABELS)))
    assert labels(pipe) == ["introduction", "methods", "results", "discussion"]
    pipe.to_disk(tmp_path / "sections")
    fresh = spacy.blank("en").add_pipe("scicls_sections")
    assert fresh.cfg["transitions"] is None
    fresh.from_disk(tmp_path / "sections")
    assert labels(fresh) == ["introduction", "methods", "results", "discussion"]
    off = spacy.blank("en").add_pipe("scicls_sections", config={"order_weight": 0.0})
    off.set_transitions(numpy.asarray(pipe.cfg["transitions"]))
    assert labels(off) == ["introduction", "methods", "discussion", "discussion"]
    with pytest.raises(ValueError, match="transitions must be"):
        pipe.set_transitions(numpy.zeros((3, 3)))
    with pytest.raises(ValueError, match="order_weight"):
        spacy.blank("en").add_pipe("scicls_sections", config={"order_weight": -1.0})


def test_training_script_reads_each_papers_label_sequence():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    from train_sections import paper_sequences

    owners = numpy.asarray([0, 0, 0, 1, 1, 2, 2])
    y = numpy.asarray([INTRO, -1, METHODS, RESULTS, DISCUSSION, INTRO, RESULTS])
    blind = numpy.asarray([False, False, False, True, True, False, False])
    # the docs with headings only: each paper's labels in reading order, unlabelled sections as None
    assert paper_sequences(owners, y, ~blind) == [[INTRO, None, METHODS], [INTRO, RESULTS]]
    T = learn_transitions(paper_sequences(owners, y, ~blind), len(IMRAD_LABELS))
    assert numpy.exp(T[INTRO, METHODS]) > numpy.exp(T[INTRO, DISCUSSION])
