"""Each head on its own: labels, errors for bad training data, edge cases."""
import pytest
from spacy.tokens import Span
from spacy.training import Example
from thinc.api import Adam, fix_random_seed

from conftest import blank_with_transformer
from spacy_scicls.taxonomies import UnknownLabelError


def pipeline_with(tiny_bert, factory, name, config=None):
    nlp = blank_with_transformer(tiny_bert)
    nlp.add_pipe(factory, name=name, config=config or {})
    return nlp


@pytest.mark.parametrize(
    "text,cats,error,message",
    [
        # a label the taxonomy does not know
        ("A paper about language models.", {"erc/PE99": 1.0}, UnknownLabelError, "PE99"),
        # no label of the head's taxonomy anywhere in the training data
        ("A paper.", {"arxiv/cs.CL": 1.0}, ValueError, "no labels for taxonomy 'erc'"),
    ],
)
def test_doc_categories_bad_training_labels_are_clear_errors(tiny_bert, text, cats, error, message):
    # A head that learns only from labelled docs (v3): the default head (v6) also
    # scores by the labels' descriptions and needs no training labels.
    model = {"@architectures": "spacy_scicls.DocClassifier.v3", "hidden_width": 0,
             "tok2vec": {"@architectures": "spacy-transformers.TransformerListener.v1",
                         "pooling": {"@layers": "reduce_mean.v1"}}}
    nlp = pipeline_with(tiny_bert, "scicls_doc_categories", "erc", {"taxonomy": "erc", "model": model})
    doc = nlp.make_doc(text)
    doc.cats = cats
    with pytest.raises(error, match=message):
        nlp.initialize(lambda: [Example(nlp.make_doc(doc.text), doc)])


def test_unknown_taxonomy_name_is_a_clear_error(tiny_bert):
    with pytest.raises(ValueError, match="erc"):
        pipeline_with(tiny_bert, "scicls_doc_categories", "x", {"taxonomy": "nonsense"})


def test_exclusive_doc_categories_decide_one_label(tiny_bert):
    nlp = pipeline_with(
        tiny_bert,
        "scicls_doc_categories",
        "arxiv",
        {"taxonomy": "arxiv", "model": {"@architectures": "spacy_scicls.DocClassifier.v2", "exclusive_classes": True,
                                        "tok2vec": {"@architectures": "spacy-transformers.TransformerListener.v1",
                                                    "pooling": {"@layers": "reduce_mean.v1"}}}},
    )
    examples = []
    for text, code in [("language models read text", "cs.CL"), ("drought rainfall climate", "physics.ao-ph")]:
        doc = nlp.make_doc(text)
        doc.cats = {f"arxiv/{code}": 1.0}
        examples.append(Example(nlp.make_doc(text), doc))
    nlp.initialize(lambda: examples)
    doc = nlp("neural language models")  # three words that carry meaning: fewer get no label
    assert abs(sum(doc.cats.values()) - 1.0) < 1e-4
    assert len(doc._.scicls_labels["arxiv"]) == 1
    assert nlp.get_pipe("arxiv").cfg["multi_label"] is False


def test_section_label_outside_the_imrad_set_is_a_clear_error(tiny_bert):
    nlp = pipeline_with(tiny_bert, "scicls_sections", "sections")
    doc = nlp.make_doc("1 Introduction\nText.")
    doc.spans["sections"] = [Span(doc, 0, len(doc), label="intro")]
    with pytest.raises(ValueError, match="'intro'"):
        nlp.initialize(lambda: [Example(nlp.make_doc(doc.text), doc)])


def test_sections_from_a_reader_keep_their_boundaries(tiny_bert):
    nlp = pipeline_with(tiny_bert, "scicls_sections", "sections")
    gold = nlp.make_doc("Background\nSome text here.\nOur data\nMore text.")
    first, second = Span(gold, 0, 5, label="introduction"), Span(gold, 5, len(gold), label="methods")
    first._.heading, second._.heading = "Background", "Our data"
    gold.spans["sections"] = [first, second]
    nlp.initialize(lambda: [Example(nlp.make_doc(gold.text), gold)])
    # A doc whose sections a structured reader already found: boundaries and
    # headings are kept (the rules would not call "Our data" a heading).
    doc = nlp.make_doc(gold.text)
    span = Span(doc, 5, len(doc))
    span._.heading = "Our data"
    doc.spans["sections"] = [Span(doc, 0, 5), span]
    doc = nlp(doc)
    assert [(s.start, s.end, s._.heading) for s in doc.spans["sections"]] == [(0, 5, None), (5, len(doc), "Our data")]
    assert all(s.label_ for s in doc.spans["sections"])


def train_entities(nlp, docs, steps=80):
    fix_random_seed(0)
    examples = [Example(nlp.make_doc(doc.text), doc) for doc in docs]
    nlp.initialize(lambda: examples)
    optimizer = Adam(0.01)
    for _ in range(steps):
        nlp.update(examples, sgd=optimizer)
    return examples


def test_entities_with_one_label_at_the_very_start_and_end(tiny_bert):
    nlp = pipeline_with(tiny_bert, "scicls_entities", "entities", {"threshold": 0.5})
    gold = nlp.make_doc("drought hits the sea and europe")
    gold.set_ents([Span(gold, 0, 1, label="hazard"), Span(gold, 5, 6, label="hazard")], default="outside")
    train_entities(nlp, [gold])
    assert nlp.get_pipe("entities").labels == ("hazard",)
    doc = nlp(gold.text)
    assert [(e.start, e.end, e.label_) for e in doc.ents] == [(0, 1, "hazard"), (5, 6, "hazard")]
    assert all(0.5 <= e._.entity_score <= 1.0 for e in doc.ents)
    assert len(nlp("").ents) == 0


def test_overlapping_gold_entities_train_and_decode_without_overlap(tiny_bert):
    nlp = pipeline_with(tiny_bert, "scicls_entities", "entities")
    gold = nlp.make_doc("the sea surface temperature rises")
    # Overlapping gold spans can only live in a span group; the head's
    # training reads doc.ents, so overlaps are resolved before they reach it.
    gold.spans["overlapping"] = [Span(gold, 1, 4, label="variable"), Span(gold, 1, 2, label="location")]
    gold.set_ents([Span(gold, 1, 4, label="variable")], default="outside")
    train_entities(nlp, [gold])
    doc = nlp(gold.text)
    starts = sorted((e.start, e.end) for e in doc.ents)
    assert all(a[1] <= b[0] for a, b in zip(starts, starts[1:]))


def test_invalid_entity_policy_in_config_is_rejected(tiny_bert):
    with pytest.raises(ValueError, match="ents_policy"):
        pipeline_with(tiny_bert, "scicls_entities", "entities", {"ents_policy": "overwrite"})


def test_entities_on_docs_without_entity_annotation_learn_nothing_and_crash_nothing(tiny_bert):
    nlp = pipeline_with(tiny_bert, "scicls_entities", "entities")
    annotated = nlp.make_doc("drought in europe")
    annotated.set_ents([Span(annotated, 0, 1, label="hazard")], default="outside")
    unannotated = nlp.make_doc("a paper with categories only")
    examples = [Example(nlp.make_doc(d.text), d) for d in (annotated, unannotated)]
    nlp.initialize(lambda: examples)
    losses = nlp.update(examples, sgd=Adam(0.001))
    assert losses["entities"] > 0
    only_unannotated = nlp.update(examples[1:], sgd=Adam(0.001))
    assert only_unannotated["entities"] == 0.0
