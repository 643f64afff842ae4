"""Heads trained in separate pipelines on one frozen encoder, assembled into one."""
import sys
from pathlib import Path

import pytest
import spacy

import spacy_scicls  # noqa: F401
from spacy_scicls.assembly import HEAD_ORDER, AssemblyError, assemble_pipeline, compare_with_sources
from spacy_scicls.pipeline.frozen_transformer import ENCODER_FILE, FrozenTransformer

from conftest import build_full_pipeline
from test_frozen_transformer import TEXTS, train_heads
from tiny_data import write_tiny_bert

REPO = Path(__file__).resolve().parents[1]
CATEGORIES = ["erc", "arxiv", "hrcs_rac", "hrcs_hc"]


def train_source(encoder: Path, heads, folder: Path, n_steps: int = 3, rename=None) -> Path:
    """A pipeline of the stock transformer and ``heads``, the encoder frozen, as a head's script saves it."""
    nlp = build_full_pipeline(encoder, **{"nlp.pipeline": ["transformer", *heads]})
    train_heads(nlp, n_steps)
    for old, new in (rename or {}).items():
        nlp.rename_pipe(old, new)
    nlp.to_disk(folder)
    return folder


@pytest.fixture(scope="module")
def sources(tiny_bert, tmp_path_factory):
    root = tmp_path_factory.mktemp("heads")
    folders = {
        "sections": train_source(tiny_bert, ["sections"], root / "sections"),
        "categories": train_source(tiny_bert, CATEGORIES, root / "categories"),
        # The entities script names its head "scicls".
        "entities": train_source(tiny_bert, ["entities"], root / "entities", rename={"entities": "scicls"}),
    }
    by_head = {"sections": folders["sections"], "entities": (folders["entities"], "scicls")}
    by_head.update({head: folders["categories"] for head in CATEGORIES})
    return folders, by_head


@pytest.fixture(scope="module")
def assembled(sources):
    return assemble_pipeline(sources[1], config=REPO / "configs" / "full_pipeline.cfg")


def test_assembled_pipeline_predicts_what_each_source_did(sources, assembled, tmp_path):
    _, by_head = sources
    nlp = assembled
    assert nlp.pipe_names == ["transformer", *HEAD_ORDER]
    transformer = nlp.get_pipe("transformer")
    assert isinstance(transformer, FrozenTransformer)
    assert sorted(transformer.listening_components) == sorted(HEAD_ORDER)
    nlp.to_disk(tmp_path / "default")
    assert sorted(p.name for p in (tmp_path / "default" / "transformer").iterdir()) == ["cfg", ENCODER_FILE]
    loaded = spacy.load(tmp_path / "default")
    differences = compare_with_sources(loaded, by_head, TEXTS)
    assert set(differences) == set(HEAD_ORDER)
    assert all(diff <= 1e-5 for diff in differences.values()), differences


def test_compare_with_sources_sees_a_changed_head(sources, assembled):
    _, by_head = sources
    nlp = assembled
    arxiv = nlp.get_pipe("arxiv")
    # Perturb one head's weights: only that head moves.
    import numpy

    saved = arxiv.to_bytes()
    for node in arxiv.model.walk():
        for name in node.param_names:
            if node.has_param(name):
                node.set_param(name, node.get_param(name) + numpy.float32(0.5))
    try:
        differences = compare_with_sources(nlp, by_head, TEXTS[:2])
    finally:
        arxiv.from_bytes(saved)
    assert differences["arxiv"] > 1e-3
    assert differences["erc"] <= 1e-5 and differences["sections"] <= 1e-5


def test_missing_head_pipeline_is_a_clear_error(sources, tmp_path):
    _, by_head = sources
    with pytest.raises(AssemblyError, match=r"entities: no trained pipeline at .*evaluate_entities.py"):
        assemble_pipeline({**by_head, "entities": tmp_path / "nowhere"})
    with pytest.raises(AssemblyError, match="has no component 'entities'"):
        assemble_pipeline({**by_head, "entities": by_head["sections"]})
    with pytest.raises(AssemblyError, match="not 'allenai/specter2_base'"):
        assemble_pipeline(by_head, encoder="allenai/specter2_base")


def test_heads_on_different_encoder_weights_are_refused(sources, tiny_bert, tmp_path):
    import torch

    _, by_head = sources
    other = write_tiny_bert(tmp_path / "other_bert")
    # Same architecture and vocabulary, other weights.
    from transformers import BertModel

    model = BertModel.from_pretrained(str(other))
    with torch.no_grad():
        next(model.parameters()).add_(0.01)
    model.save_pretrained(str(other))
    folder = train_source(other, ["entities"], tmp_path / "entities_other", n_steps=1)
    with pytest.raises(AssemblyError, match="different encoder settings"):
        assemble_pipeline({**by_head, "entities": folder})
    # The same encoder name, other weights (the stock component saved them): refused on the weights.
    config = folder / "config.cfg"
    config.write_text(config.read_text(encoding="utf8").replace(str(other), str(tiny_bert)), encoding="utf8")
    with pytest.raises(AssemblyError, match="different encoder weights"):
        assemble_pipeline({**by_head, "entities": folder})


def test_assemble_script(sources, tmp_path, capsys):
    folders, _ = sources
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import assemble_default
    finally:
        sys.path.pop(0)
    texts = []
    for i, text in enumerate(TEXTS):
        texts.append(tmp_path / f"paper{i}.txt")
        texts[-1].write_text(text, encoding="utf8")
    common = ["--sections", str(folders["sections"]), "--categories", str(folders["categories"]),
              "--threads", "1", "--texts", *map(str, texts)]
    rc = assemble_default.main(common + ["--entities", str(folders["entities"]), "--entities-component", "scicls",
                                         "--output", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert (tmp_path / "out" / "transformer" / ENCODER_FILE).exists()
    for head in HEAD_ORDER:
        assert f"  {head}: largest score difference to its source pipeline" in out
    assert "FAIL" not in out
    rc = assemble_default.main(common + ["--entities", str(tmp_path / "none"), "--output", str(tmp_path / "out2")])
    err = capsys.readouterr().err
    assert rc == 1 and "heads are missing" in err and "entities" in err
    assert not (tmp_path / "out2").exists()
