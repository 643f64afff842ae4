"""Category heads: what they read, fitted thresholds and temperature, empty docs,
several heads trained together and scored under their own keys."""
import numpy
import pytest
import spacy
from spacy.tokens import Span
from spacy.training import Example
from thinc.api import Adam, fix_random_seed

from conftest import blank_with_transformer
from spacy_scicls.ml.doc_classifier import reading_indices, title_end
from spacy_scicls.taxonomies import UnknownLabelError

LISTENER = {
    "@architectures": "spacy-transformers.TransformerListener.v1",
    "pooling": {"@layers": "reduce_mean.v1"},
}

TRAIN = [
    ("Neural language models\n\nWe train a neural network language model on text data.", {"arxiv": ["cs.CL", "cs.LG"]}),
    ("Language model for scientific papers\n\nA neural language model reads papers.", {"arxiv": ["cs.CL"]}),
    ("Drought and rainfall in Africa\n\nClimate simulations of drought and rainfall.", {"arxiv": ["physics.ao-ph"]}),
    ("Heat wave and flood in Europe\n\nClimate data show flood and heat wave trends.", {"arxiv": ["physics.ao-ph"]}),
    ("Surgery for cancer patients\n\nA trial of surgery and drug treatment in cancer.", {"hrcs_hc": ["Cancer and neoplasms"]}),
    ("Drug trial in cancer\n\nPatients with cancer receive a drug in this trial.", {"hrcs_hc": ["Cancer and neoplasms"]}),
    ("Heat and patients with heart disease\n\nA trial of treatment for heart patients.", {"hrcs_hc": ["Cardiovascular"]}),
    ("Surgery for the heart\n\nA surgery trial for cardiovascular patients.", {"hrcs_hc": ["Cardiovascular", "Stroke"]}),
]


def category_pipeline(tiny_bert, heads=("arxiv", "hrcs_hc"), **head_config):
    nlp = blank_with_transformer(tiny_bert)
    for name in heads:
        config = {
            "taxonomy": name,
            "model": {"@architectures": "spacy_scicls.DocClassifier.v2", "hidden_width": 32, "tok2vec": LISTENER},
            **head_config,
        }
        nlp.add_pipe("scicls_doc_categories", name=name, config=config)
    return nlp


def examples_for(nlp, rows=TRAIN):
    examples = []
    for text, labels in rows:
        doc = nlp.make_doc(text)
        doc.cats = {f"{tax}/{code}": 1.0 for tax, codes in labels.items() for code in codes}
        examples.append(Example(nlp.make_doc(text), doc))
    return examples


@pytest.fixture(scope="module")
def trained_two_heads(tiny_bert):
    fix_random_seed(0)
    nlp = category_pipeline(tiny_bert)
    examples = examples_for(nlp)
    nlp.initialize(lambda: examples)
    optimizer = Adam(0.005)
    losses = [nlp.update(examples, sgd=optimizer, drop=0.0) for _ in range(30)]
    return nlp, examples, losses


def test_two_category_heads_train_together_and_score_under_their_own_keys(trained_two_heads):
    nlp, examples, losses = trained_two_heads
    for name in ("arxiv", "hrcs_hc"):
        assert losses[-1][name] < losses[0][name] * 0.5
    scores = nlp.evaluate(examples)
    for name in ("arxiv", "hrcs_hc"):
        assert scores[f"cats_{name}_micro_f"] is not None
        assert scores[f"cats_{name}_micro_f"] > 0.5
    # each head scored only on the docs of its own taxonomy
    assert set(scores["cats_arxiv_f_per_type"]) == {"arxiv/cs.CL", "arxiv/cs.LG", "arxiv/physics.ao-ph"}
    assert "cats_hrcs_hc_f_per_type" in scores


def test_doc_without_text_gets_all_probabilities_and_no_labels(trained_two_heads):
    nlp, _, _ = trained_two_heads
    for text in ("", "   \n\n  "):
        doc = nlp(text)
        for name in ("arxiv", "hrcs_hc"):
            pipe = nlp.get_pipe(name)
            assert all(0.0 <= doc.cats[key] <= 1.0 for key in pipe.cat_keys)
            assert doc._.scicls_labels[name] == []
            assert doc._.scicls_certainty[name] is None
    docs = list(nlp.pipe(["", "Neural language models", ""]))
    assert docs[1]._.scicls_labels["arxiv"] or docs[1].cats["arxiv/cs.CL"] < 0.5


def test_a_doc_with_next_to_no_words_gets_no_labels_unless_min_words_is_0(trained_two_heads):
    """A placeholder in a CSV's abstract column ("N/A") or a page's stray "Advertisement" is nothing to decide on."""
    nlp, _, _ = trained_two_heads
    pipe = nlp.get_pipe("arxiv")
    saved = dict(pipe.cfg)
    try:
        pipe.cfg.update(thresholds={}, threshold=0.0)  # every label would be decided
        for text in ("N/A", "Advertisement", "Abstract not available.", "Not applicable - see 2.1"):
            doc = nlp(text)
            assert doc._.scicls_labels["arxiv"] == [] and doc._.scicls_certainty["arxiv"] is None, text
            assert all(0.0 <= doc.cats[key] <= 1.0 for key in pipe.cat_keys)
        assert len(nlp("Neural language models")._.scicls_labels["arxiv"]) == len(pipe.labels)
        pipe.cfg["min_words"] = 0
        assert len(nlp("Advertisement")._.scicls_labels["arxiv"]) == len(pipe.labels)
    finally:
        pipe.cfg.clear()
        pipe.cfg.update(saved)
    with pytest.raises(ValueError, match="min_words must be 0 or more"):
        spacy.blank("en").add_pipe("scicls_doc_categories", config={"taxonomy": "arxiv", "min_words": -1})


def test_calibration_fits_thresholds_and_temperature_that_survive_to_disk(trained_two_heads, tmp_path):
    nlp, examples, _ = trained_two_heads
    pipe = nlp.get_pipe("arxiv")
    saved = dict(pipe.cfg)
    try:
        report = pipe.calibrate(examples, nlp=nlp, min_positives=1)
        assert report["temperature"] > 0
        assert set(pipe.cfg["thresholds"]) == set(pipe.labels)
        # something to survive: values that are not the defaults
        pipe.cfg["temperature"] = 2.5
        pipe.cfg["thresholds"]["cs.CL"] = 0.83
        text = "Neural language models\n\nA language model."
        before = nlp(text)
        nlp.to_disk(tmp_path / "nlp")
        loaded = spacy.load(tmp_path / "nlp")
        lpipe = loaded.get_pipe("arxiv")
        assert lpipe.temperature == pytest.approx(2.5)
        assert lpipe.cfg["thresholds"]["cs.CL"] == pytest.approx(0.83)
        numpy.testing.assert_allclose(lpipe.thresholds, pipe.thresholds)
        after = loaded(text)
        for key in pipe.cat_keys:
            assert after.cats[key] == pytest.approx(before.cats[key], abs=1e-5)
        assert after._.scicls_labels == before._.scicls_labels
    finally:
        pipe.cfg.clear()
        pipe.cfg.update(saved)


def test_temperature_changes_probabilities_but_not_their_order(trained_two_heads):
    nlp, _, _ = trained_two_heads
    pipe = nlp.get_pipe("hrcs_hc")
    text = "Surgery for cancer patients"
    plain = [nlp(text).cats[k] for k in pipe.cat_keys]
    pipe.cfg["temperature"] = 3.0
    try:
        hot = [nlp(text).cats[k] for k in pipe.cat_keys]
    finally:
        pipe.cfg["temperature"] = 1.0
    assert numpy.argsort(plain).tolist() == numpy.argsort(hot).tolist()
    # a higher temperature pulls probabilities towards 0.5
    assert numpy.all(numpy.abs(numpy.asarray(hot) - 0.5) <= numpy.abs(numpy.asarray(plain) - 0.5) + 1e-9)
    assert not numpy.allclose(hot, plain)


def test_per_label_thresholds_decide_and_the_scorer_uses_them(trained_two_heads):
    nlp, examples, _ = trained_two_heads
    pipe = nlp.get_pipe("arxiv")
    saved = dict(pipe.cfg)
    try:
        pipe.cfg["thresholds"] = {code: 0.999999 for code in pipe.labels}
        doc = nlp("Neural language models\n\nA language model.")
        assert doc._.scicls_labels["arxiv"] == []
        assert nlp.evaluate(examples)["cats_arxiv_micro_f"] == 0.0
        pipe.cfg["at_least_one"] = True
        doc = nlp("Neural language models\n\nA language model.")
        best = max(pipe.labels, key=lambda code: doc.cats[f"arxiv/{code}"])
        assert doc._.scicls_labels["arxiv"] == [best]
        assert doc._.scicls_labels["arxiv_archive"] == [pipe.taxonomy.group_of(best)]
    finally:
        pipe.cfg.clear()
        pipe.cfg.update(saved)


def test_fit_decisions_rejects_scores_of_the_wrong_shape(trained_two_heads):
    pipe = trained_two_heads[0].get_pipe("arxiv")
    with pytest.raises(ValueError, match="must both be"):
        pipe.fit_decisions(numpy.zeros((2, 1)), numpy.zeros((2, 1)))


def test_calibrate_without_dev_labels_of_the_taxonomy_is_a_clear_error(trained_two_heads):
    nlp, examples, _ = trained_two_heads
    hrcs_only = [eg for eg in examples if any(k.startswith("hrcs_hc/") for k in eg.reference.cats)]
    with pytest.raises(ValueError, match="no dev example"):
        nlp.get_pipe("arxiv").calibrate(hrcs_only, nlp=nlp)


def test_unknown_label_in_training_data_is_a_clear_error(tiny_bert):
    nlp = category_pipeline(tiny_bert, heads=("hrcs_hc",))
    examples = examples_for(nlp, [("A trial.", {"hrcs_hc": ["Elbows"]})])
    with pytest.raises(UnknownLabelError, match="'Elbows' is not a label of taxonomy 'hrcs_hc'"):
        nlp.initialize(lambda: examples)


def test_head_reads_title_abstract_and_introduction_when_sections_are_there():
    nlp = spacy.blank("en")
    doc = nlp.make_doc(
        "A title\n\nAbstract\nShort abstract.\n\n1 Introduction\nIntro text.\n\n2 Methods\nMethod text.\n"
    )
    def span_of(heading, label):
        start = next(t.i for t in doc if t.text == heading)
        end = next((t.i for t in doc[start + 1:] if t.text in ("1", "2") and t.i > start), len(doc))
        return Span(doc, start, end, label=label)

    doc.spans["sections"] = [span_of("Abstract", "abstract"), span_of("1", "introduction"), span_of("2", "methods")]
    read = reading_indices(doc, max_tokens=100)
    words = [doc[int(i)].text for i in read]
    assert words[:2] == ["A", "title"]
    assert "Short" in words and "Intro" in words
    assert "Method" not in words
    assert reading_indices(doc, max_tokens=5).tolist() == read[:5].tolist()
    # without sections: the first tokens, and the title is the first line
    bare = nlp.make_doc("A title\n\nAn abstract about things.")
    assert reading_indices(bare, max_tokens=3).tolist() == [0, 1, 2]
    assert title_end(bare) == 2
    assert title_end(nlp.make_doc("Only a title")) == 3
    assert reading_indices(nlp.make_doc(""), max_tokens=3).tolist() == []
    # a bare abstract that the section head took as one abstract section reads as without sections
    one = nlp.make_doc("A title\n\nAn abstract about things.")
    one.spans["sections"] = [Span(one, 0, len(one), label="abstract")]
    assert reading_indices(one, max_tokens=100).tolist() == reading_indices(bare, max_tokens=100).tolist()


def test_v2_head_pools_only_the_tokens_it_reads(trained_two_heads):
    """The pooled row of a sectioned paper is built from title, abstract and introduction alone."""
    nlp, _, _ = trained_two_heads
    text = (
        "Neural language models\n\nAbstract\nA language model.\n\n1 Introduction\nModels read text.\n\n"
        "2 Methods\n" + "drought rainfall climate flood cancer surgery " * 40
    )
    doc = nlp.make_doc(text)
    abstract = next(t.i for t in doc if t.text == "Abstract")
    intro = next(t.i for t in doc if t.text == "1")
    methods = next(t.i for t in doc if t.text == "2")
    doc.spans["sections"] = [
        Span(doc, abstract, intro, label="abstract"),
        Span(doc, intro, methods, label="introduction"),
        Span(doc, methods, len(doc), label="methods"),
    ]
    doc = nlp.get_pipe("transformer")(doc)
    model = nlp.get_pipe("arxiv").model
    X = model.ops.to_numpy(model.get_ref("tok2vec").predict([doc])[0])
    row = model.ops.to_numpy(model.get_ref("reading").predict([doc]))[0]
    width = X.shape[1]
    read = list(range(0, 3)) + list(range(abstract, methods))
    numpy.testing.assert_allclose(row[:width], X[read].mean(axis=0), rtol=1e-5, atol=1e-6)
    numpy.testing.assert_allclose(row[width:2 * width], X[read].max(axis=0), rtol=1e-5, atol=1e-6)
    numpy.testing.assert_allclose(row[2 * width:], X[:3].mean(axis=0), rtol=1e-5, atol=1e-6)
    # the methods section would change the mean if it were read
    assert not numpy.allclose(row[:width], X[: len(read) + 50].mean(axis=0), atol=1e-4)


def test_cross_entropy_loss_gives_logit_gradient_p_minus_y(tiny_bert):
    nlp = category_pipeline(tiny_bert, heads=("hrcs_hc",), loss="cross_entropy")
    pipe = nlp.get_pipe("hrcs_hc")
    scores = numpy.asarray([[0.9, 0.2], [0.3, 0.6]], dtype="float32")
    truths = numpy.asarray([[1.0, 0.0], [1.0, 1.0]], dtype="float32")
    mask = numpy.asarray([[1.0], [0.0]], dtype="float32")  # second doc has no hrcs_hc label
    loss, grad = pipe.loss((truths, mask), scores)
    assert loss == pytest.approx(-(numpy.log(0.9) + numpy.log(0.8)), rel=1e-5)
    logit_grad = grad * scores * (1 - scores)  # what the sigmoid's backward pass makes of it
    numpy.testing.assert_allclose(logit_grad, [[0.9 - 1.0, 0.2], [0.0, 0.0]], atol=1e-6)
    with pytest.raises(ValueError, match="loss must be one of"):
        category_pipeline(tiny_bert, heads=("hrcs_hc",), loss="hinge")
