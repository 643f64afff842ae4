"""The v3 section head: v2's vectors, the section's hashed words, its length and place in tokens."""
import numpy
import spacy
from spacy.tokens import Span
from thinc.api import Ragged

import spacy_scicls  # noqa: F401
from spacy_scicls.labels import IMRAD_LABELS
from spacy_scicls.ml.section_classifier import _section_features_v3
from spacy_scicls.ml.section_words import LENGTH_FEATURES, bag_of_words, length_features, word_keys
from test_sections_head_v2 import _docs, train_sections

V3 = {"model": {"@architectures": "spacy_scicls.SectionClassifier.v3", "hidden_width": 16, "word_buckets": 512,
                "tok2vec": {"@architectures": "spacy-transformers.TransformerListener.v1", "grad_factor": 1.0,
                            "upstream": "*", "pooling": {"@layers": "reduce_mean.v1"}}}}


def test_word_keys_read_words_numbers_and_pairs():
    nlp = spacy.blank("en")
    doc = nlp.make_doc("Samples were measured, 12 times (n = 3).")
    keys = word_keys(doc, 0, len(doc), ngram_size=1)
    # punctuation is not a word; every number is the same word
    assert keys[:3] == [doc.vocab.strings["samples"], doc.vocab.strings["were"], doc.vocab.strings["measured"]]
    assert len(keys) == 8 and keys[3] == keys[-1]  # samples were measured 12 times n = 3
    pairs = word_keys(doc, 0, len(doc), ngram_size=2)
    assert len(pairs) == 2 * len(keys) - 1 and pairs[:len(keys)] == keys
    # the pair of two words is not either word, and depends on their order
    assert word_keys(nlp.make_doc("were samples"), 0, 2)[2] != pairs[len(keys)]


def test_bag_of_words_rows_are_unit_length_and_empty_ranges_zero():
    nlp = spacy.blank("en")
    docs = [nlp.make_doc("Cells were incubated and cells were washed."), nlp.make_doc("")]
    B = bag_of_words(docs, [(0, 0, len(docs[0])), (0, 2, 2), (1, 0, 0)], buckets=64)
    assert B.shape == (3, 64)
    assert abs(float(numpy.linalg.norm(B[0])) - 1.0) < 1e-5 and not B[1].any() and not B[2].any()
    # a word seen twice weighs more than one seen once
    once = B[0, doc_bucket(docs[0], "incubated", 64)]
    twice = B[0, doc_bucket(docs[0], "cells", 64)]
    assert twice > once > 0


def doc_bucket(doc, word, buckets):
    return int(doc.vocab.strings[word] % buckets)


def test_length_features_count_tokens_per_paper():
    owners = numpy.asarray([0, 0, 0, 1])
    L = length_features(owners, numpy.asarray([100, 300, 0, 50]))
    assert L.shape == (4, len(LENGTH_FEATURES))
    share, place = L[:, 1], L[:, 2]
    assert numpy.allclose(share, [0.25, 0.75, 0.0, 1.0])
    assert numpy.allclose(place, [0.125, 0.625, 1.0, 0.5])
    assert L[1, 0] > L[0, 0] > L[2, 0] == 0.0


def _v3_pipeline(tiny_bert):
    from test_components import pipeline_with

    nlp = pipeline_with(tiny_bert, "scicls_sections", "sections", V3)
    assert nlp.get_pipe("sections").model.name == "section_classifier_v3"
    return nlp


def _reader_doc(pipeline, reference):
    doc = pipeline.make_doc(reference.text)
    doc.spans["sections"] = [Span(doc, s.start, s.end, label="unlabelled") for s in reference.spans["sections"]]
    for new, old in zip(doc.spans["sections"], reference.spans["sections"]):
        new._.heading, new._.section_level = old._.heading, 1
    return doc


def test_v3_head_trains_and_round_trips_with_identical_scores(tiny_bert, tmp_path):
    nlp = _v3_pipeline(tiny_bert)
    examples = _docs(nlp)
    losses = train_sections(nlp, examples, steps=30)
    assert losses[-1] < losses[0] * 0.85
    doc = nlp(_reader_doc(nlp, examples[0].reference))
    labels = [s.label_ for s in doc.spans["sections"]]
    assert len(labels) == 4 and all(label in IMRAD_LABELS for label in labels)
    nlp.to_disk(tmp_path / "p")
    again = spacy.load(tmp_path / "p")
    assert again.get_pipe("sections").model.attrs["word_buckets"] == 512
    doc_again = again(_reader_doc(again, examples[0].reference))
    assert [s.label_ for s in doc_again.spans["sections"]] == labels
    assert [s._.section_score for s in doc_again.spans["sections"]] == [s._.section_score for s in doc.spans["sections"]]


def test_v3_words_and_length_change_the_prediction(tiny_bert):
    """Same token vectors, different words: the lexical part alone moves the label."""
    nlp = _v3_pipeline(tiny_bert)
    nlp.initialize(lambda: _docs(nlp))
    model = nlp.get_pipe("sections").model
    buckets = model.attrs["word_buckets"]
    methods, results = IMRAD_LABELS.index("methods"), IMRAD_LABELS.index("results")
    # hand-set weights: the word "incubated" votes methods, "significantly" results, through the linear part
    words_linear = model.layers[1].layers[0].layers[1].layers[1]
    output = model.get_ref("output_layer")
    W = numpy.zeros((words_linear.get_dim("nO"), buckets), dtype="float32")
    W[methods, doc_bucket(nlp.make_doc("incubated"), "incubated", buckets)] = 20.0
    W[results, doc_bucket(nlp.make_doc("significantly"), "significantly", buckets)] = 20.0
    words_linear.set_param("W", W)
    words_linear.set_param("b", numpy.zeros_like(words_linear.get_param("b")))
    out_W = numpy.zeros_like(output.get_param("W"))
    hidden = out_W.shape[1] - words_linear.get_dim("nO")
    out_W[:, hidden:] = numpy.eye(len(IMRAD_LABELS), dtype="float32")
    output.set_param("W", out_W)
    output.set_param("b", numpy.zeros_like(output.get_param("b")))
    docs = [nlp.make_doc("The cells were incubated overnight ."), nlp.make_doc("The cells grew significantly faster .")]
    from spacy_scicls.ml.tok2vec import tok2vec_width

    width = tok2vec_width(model.get_ref("tok2vec"))
    Xs = [numpy.ones((len(doc), width), dtype="float32") for doc in docs]
    spans = Ragged(numpy.asarray([[0, len(docs[0]), 0, 1], [0, len(docs[1]), 0, 1]], dtype="int32"),
                   numpy.asarray([1, 1], dtype="int32"))
    F, _ = _section_features_v3(model, [docs[0], docs[1]], Xs, spans)
    # same vectors, so the dense columns agree and only the words differ
    dense = F.shape[1] - buckets - len(LENGTH_FEATURES)
    assert numpy.allclose(F[0, :dense], F[1, :dense])
    probs = model.ops.to_numpy(model.layers[1].predict(F))
    assert probs[0].argmax() == methods and probs[1].argmax() == results
    # the length columns: a longer section gets a larger log length
    short = Ragged(numpy.asarray([[0, 2, 0, 1], [0, len(docs[1]), 0, 1]], dtype="int32"), numpy.asarray([1, 1], dtype="int32"))
    F_short, _ = _section_features_v3(model, [docs[0], docs[1]], Xs, short)
    assert F_short[0, dense] < F[0, dense]


def test_training_script_reads_the_words_as_the_head_does(tiny_bert):
    """train_sections.py makes v3's word, length and place columns from the docs alone, as the head does."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    from evaluate_sections import tokens_read
    from spacy_scicls.ml.tok2vec import tok2vec_width
    from spacy_scicls.pipeline.sections import _to_ragged
    from spacy_scicls.segmentation import segments_from_spans
    from train_sections import extra_sections

    nlp = _v3_pipeline(tiny_bert)
    examples = _docs(nlp)
    nlp.initialize(lambda: examples)
    model = nlp.get_pipe("sections").model
    docs = [eg.reference for eg in examples]
    extra = extra_sections(model, docs)
    spans = _to_ragged(model, [segments_from_spans(doc, list(doc.spans["sections"])) for doc in docs])
    Xs = [numpy.zeros((len(doc), tok2vec_width(model.get_ref("tok2vec"))), dtype="float32") for doc in docs]
    F, _ = _section_features_v3(model, docs, Xs, spans)
    assert extra.shape == (12, len(LENGTH_FEATURES) + 512)
    assert numpy.allclose(F[:, -extra.shape[1]:], extra)
    # the evaluation gives a v3 head whole sections when it reads all of a section's words
    assert tokens_read(model) is None
    model.attrs["words_tokens"] = 64
    assert tokens_read(model) == 128
