"""The SpanMarker entity adapter against ``SpanMarkerModel.predict`` on a tiny local model."""
import shutil

import pytest
import spacy
from spacy.tokens import Span

import spacy_scicls  # noqa: F401 (registers the factories)
from spacy_scicls.adapters import ModelLoadError
from spacy_scicls.adapters.span_marker_entities import SpanMarkerEntities
from tiny_seed_models import write_tiny_span_marker

SENTENCES = [
    "Rainfall in Europe increased by 20 % over several decades .",
    "El Nino drives the monsoon and heat wave days in Asia .",
    "The trial compares surgery and drug treatment .",
]


@pytest.fixture(scope="module")
def span_marker_path(tmp_path_factory):
    return write_tiny_span_marker(tmp_path_factory.mktemp("clirener") / "model")


@pytest.fixture(scope="module")
def reference(span_marker_path):
    from span_marker import SpanMarkerModel

    return SpanMarkerModel.from_pretrained(str(span_marker_path))


def build(path, sentencizer=True, **config):
    nlp = spacy.blank("en")
    if sentencizer:
        nlp.add_pipe("sentencizer")
    nlp.add_pipe("scicls_span_marker_entities", name="entities", config={"model": str(path), **config})
    nlp.initialize()
    return nlp


def as_tuples(doc):
    return [(ent.start, ent.end, ent.label_) for ent in doc.ents]


def test_entities_equal_span_marker_predict(span_marker_path, reference):
    nlp = build(span_marker_path)
    docs = list(nlp.pipe(SENTENCES, batch_size=2))
    expected = reference.predict([s.split(" ") for s in SENTENCES])
    found = 0
    for doc, entities in zip(docs, expected):
        # Sentences are single-space separated: spaCy tokens are the words.
        assert [t.text for t in doc] == doc.text.split(" ")
        assert as_tuples(doc) == [(e["word_start_index"], e["word_end_index"], e["label"]) for e in entities]
        scores = [ent._.entity_score for ent in doc.ents]
        assert scores == pytest.approx([e["score"] for e in entities], abs=1e-5)
        found += len(entities)
    assert found > 0


def test_whitespace_tokens_keep_entities_on_their_words(span_marker_path, reference):
    """Extra spaces become whitespace tokens in spaCy; no entity is shifted or lost."""
    nlp = build(span_marker_path)
    text = "Rainfall  in Europe   increased by 20 %  over several decades ."
    doc = nlp(text)
    words = [t for t in doc if not t.is_space]
    expected = reference.predict([t.text for t in words] + [])  # one pre-tokenized sentence
    expected = expected[0] if expected and isinstance(expected[0], list) else expected
    assert len(expected) > 0
    got = [(ent.text, ent.label_) for ent in doc.ents]
    assert [(" ".join(e["span"]), e["label"]) for e in expected] == [(" ".join(t.split()), label) for t, label in got]
    assert all(not ent[0].is_space and not ent[-1].is_space for ent in doc.ents)


def test_batches_across_docs(span_marker_path, monkeypatch):
    nlp = build(span_marker_path, batch_size=4)
    one_by_one = [as_tuples(nlp(text)) for text in SENTENCES * 3]
    adapter = nlp.get_pipe("entities")
    calls = []
    original = adapter.model.predict
    monkeypatch.setattr(adapter.model, "predict", lambda inputs, **kw: calls.append(len(inputs)) or original(inputs, **kw))
    batched = [as_tuples(doc) for doc in nlp.pipe(SENTENCES * 3, batch_size=9)]
    assert calls == [9]
    assert batched == one_by_one


def test_empty_sentences_and_docs_without_sentences(span_marker_path):
    nlp = build(span_marker_path)
    docs = list(
        nlp.pipe(["", "   ", "\n\n\n", ". . .", "Drought in Europe\n\nAbstract\nWe study drought in Europe ."])
    )
    assert [len(d.ents) for d in docs[:3]] == [0, 0, 0]
    assert len(docs[4].ents) > 0
    assert all("\n" not in ent.text for ent in docs[4].ents)
    # No sentence boundaries at all: the doc is read line by line.
    bare = build(span_marker_path, sentencizer=False)
    doc = bare.make_doc("Rainfall in Europe increased .\nEl Nino drives the monsoon .")
    assert not doc.has_annotation("SENT_START")
    doc = bare(doc)
    assert len(doc.ents) > 0
    assert all("\n" not in ent.text for ent in doc.ents)


def test_long_lines_are_cut_at_max_words(span_marker_path):
    nlp = build(span_marker_path, sentencizer=False, max_words=5)
    doc = nlp.make_doc("Rainfall in Europe increased by 20 % over several decades in Asia")
    chunks = nlp.get_pipe("entities").chunks(doc)
    assert [len(words) for _, words, _ in chunks] == [5, 5, 2]
    assert [i for _, _, indices in chunks for i in indices] == list(range(len(doc)))
    nlp(doc)
    assert all(ent.end - ent.start <= 5 for ent in doc.ents)


def test_ents_policies(span_marker_path):
    text = SENTENCES[0]
    found = as_tuples(build(span_marker_path)(text))
    assert found
    first_start, first_end, _ = found[0]
    for policy in ("keep_existing", "prefer_longest", "replace"):
        nlp = build(span_marker_path, ents_policy=policy)
        doc = nlp.make_doc(text)
        doc = nlp.get_pipe("sentencizer")(doc)
        doc.ents = [Span(doc, first_start, first_end, label="EARLIER")]
        doc = nlp.get_pipe("entities")(doc)
        labels = {(ent.start, ent.end): ent.label_ for ent in doc.ents}
        if policy == "keep_existing":
            assert labels[(first_start, first_end)] == "EARLIER"
            assert as_tuples(doc)[1:] == found[1:]
        elif policy == "replace":
            assert as_tuples(doc) == found
        else:
            # Same span length: the earlier entity wins ties in filter_spans order.
            assert labels[(first_start, first_end)] == "EARLIER"
            assert as_tuples(doc)[1:] == found[1:]
    with pytest.raises(ValueError, match="ents_policy"):
        spacy.blank("en").add_pipe("scicls_span_marker_entities", config={"ents_policy": "merge"})


def test_label_map(span_marker_path):
    nlp = build(span_marker_path, label_map={"Organism": "organism", "Location": "location"})
    assert "organism" in nlp.get_pipe("entities").labels
    labels = {ent.label_ for doc in nlp.pipe(SENTENCES) for ent in doc.ents}
    assert labels and not labels & {"Organism", "Location"}


def test_saved_pipeline_is_self_contained(tmp_path):
    """span-marker's own loader reads the encoder's config and tokenizer from the encoder's
    original name; the adapter's does not, so a saved pipeline needs nothing else."""
    from span_marker import SpanMarkerModel

    source = write_tiny_span_marker(tmp_path / "model")
    nlp = build(source)
    expected = [as_tuples(doc) for doc in nlp.pipe(SENTENCES)]
    nlp.to_disk(tmp_path / "pipeline")
    assert (tmp_path / "pipeline" / "entities" / "model" / "model.safetensors").exists()
    shutil.rmtree(source)  # the model and the encoder it was built on
    loaded = spacy.load(tmp_path / "pipeline")
    assert loaded.get_pipe("entities").is_loaded
    assert [as_tuples(doc) for doc in loaded.pipe(SENTENCES)] == expected
    with pytest.raises(OSError):
        SpanMarkerModel.from_pretrained(str(tmp_path / "pipeline" / "entities" / "model"))


def test_unknown_or_wrong_models(tmp_path):
    nlp = spacy.blank("en")
    nlp.add_pipe("scicls_span_marker_entities", config={"model": "some-org/no-such-ner", "local_files_only": True})
    with pytest.raises(ModelLoadError, match="Could not load the model 'some-org/no-such-ner'"):
        nlp.initialize()
    from tiny_seed_models import write_tiny_sequence_classifier

    classifier = write_tiny_sequence_classifier(tmp_path / "cls", ["a", "b"], problem_type="single_label_classification")
    nlp = spacy.blank("en")
    nlp.add_pipe("scicls_span_marker_entities", config={"model": str(classifier)})
    with pytest.raises(ModelLoadError, match="not a SpanMarker model"):
        nlp.initialize()


def test_factory_builds_without_loading():
    nlp = spacy.blank("en")
    adapter = nlp.add_pipe("scicls_span_marker_entities")
    assert isinstance(adapter, SpanMarkerEntities)
    assert adapter.cfg["model"] == "P0L3/CliReNER-scibert_scivocab_uncased" and not adapter.is_loaded


def test_models_trained_with_document_context_get_it(tmp_path):
    from datasets import Dataset
    from span_marker import SpanMarkerModel

    path = write_tiny_span_marker(tmp_path / "ctx")
    model = SpanMarkerModel.from_pretrained(str(path))
    model.config.trained_with_document_context = True
    model.save_pretrained(str(path), safe_serialization=True)
    nlp = build(path)
    texts = [" ".join(SENTENCES[:2]), SENTENCES[2]]
    docs = list(nlp.pipe(texts))
    sentences = [[t.text for t in sent] for doc in docs for sent in doc.sents]
    expected = SpanMarkerModel.from_pretrained(str(path)).predict(
        Dataset.from_dict({"tokens": sentences, "document_id": [0, 0, 1], "sentence_id": [0, 1, 0]})
    )
    offsets = [0, len(sentences[0]), 0]
    want = [[], []]
    for d, offset, entities in zip([0, 0, 1], offsets, expected):
        want[d] += [(e["word_start_index"] + offset, e["word_end_index"] + offset, e["label"]) for e in entities]
    assert [as_tuples(doc) for doc in docs] == want
    assert any(want)
