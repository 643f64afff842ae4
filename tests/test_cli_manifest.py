"""The manifest beside an output: what made its records, and the refusal of a resume that differs."""
import json

import pytest
import spacy

from spacy_scicls.cli.manifest import (
    ManifestMismatch,
    RecordOptions,
    check_resume,
    differences,
    make_manifest,
    manifest_path,
    pipeline_fingerprint,
    read_manifest,
    write_manifest,
)


def _ruler_nlp(pattern: str = "drought"):
    nlp = spacy.blank("en")
    nlp.add_pipe("entity_ruler").add_patterns([{"label": "hazard", "pattern": pattern}])
    return nlp


def test_fingerprint_is_stable_across_loads_and_follows_the_weights(tmp_path):
    _ruler_nlp().to_disk(tmp_path / "a")
    first = pipeline_fingerprint(spacy.load(tmp_path / "a"))
    again = pipeline_fingerprint(spacy.load(tmp_path / "a"))
    assert first == again
    other = pipeline_fingerprint(_ruler_nlp("flood"))
    assert other["sha256"] != first["sha256"]
    assert other["config"] == first["config"]  # same config, other state
    assert other["components"]["entity_ruler"] != first["components"]["entity_ruler"]


def test_differences_name_what_differs(tmp_path):
    nlp = _ruler_nlp()
    inputs = [str(tmp_path / "in.jsonl")]
    base = make_manifest(nlp, inputs=inputs, options=RecordOptions(batch_size=32), output_format="jsonl")
    assert differences(base, base) == []
    other = make_manifest(
        _ruler_nlp("flood"),
        inputs=inputs + ["more.jsonl"],
        options=RecordOptions(batch_size=16, include_text=False, max_chars=500),
        output_format="jsonl",
    )
    found = differences(base, other)
    assert "the pipeline's fingerprint differs (component 'entity_ruler')" in found
    assert "option batch_size: 32 in the output, 16 now" in found
    assert "option include_text: true in the output, false now" in found
    assert "option max_chars: null in the output, 500 now" in found
    assert any(d.startswith("inputs ") for d in found)
    blank = make_manifest(spacy.blank("en"), inputs=inputs, options=RecordOptions(), output_format="jsonl")
    assert any("its components (entity_ruler in the output; " in d for d in differences(base, blank))


def test_check_resume_reads_the_saved_manifest(tmp_path):
    out = tmp_path / "out.jsonl"
    manifest = make_manifest(_ruler_nlp(), inputs=["x"], options=RecordOptions(), output_format="jsonl")
    with pytest.raises(ManifestMismatch, match="has no out.jsonl.manifest.json"):
        check_resume(out, manifest)
    write_manifest(out, manifest)
    assert manifest_path(out).name == "out.jsonl.manifest.json"
    assert read_manifest(out) == json.loads(json.dumps(manifest))
    check_resume(out, manifest)
    changed = make_manifest(_ruler_nlp(), inputs=["x"], options=RecordOptions(device="gpu"), output_format="jsonl")
    with pytest.raises(ManifestMismatch, match='option device: "cpu" in the output, "gpu" now.*--overwrite'):
        check_resume(out, changed)
    manifest_path(out).write_text("not json", encoding="utf8")
    with pytest.raises(ManifestMismatch, match="is not a manifest"):
        check_resume(out, manifest)


def test_fingerprint_of_a_transformer_pipeline_is_stable_across_loads(trained, tmp_path):
    # torch.save writes an id of its own into every archive: the fingerprint must not depend on it.
    nlp, _, _ = trained
    nlp.to_disk(tmp_path / "pipeline")
    first = pipeline_fingerprint(spacy.load(tmp_path / "pipeline"))
    assert pipeline_fingerprint(spacy.load(tmp_path / "pipeline")) == first
    assert set(first["components"]) == set(nlp.pipe_names)
