"""The README's first command: the demo annotates the example papers with the default pipeline."""
import subprocess
import sys

import pytest

from conftest import REPO


@pytest.mark.slow
def test_demo_prints_sections_categories_and_entities():
    result = subprocess.run(
        [sys.executable, str(REPO / "examples" / "demo.py")],
        capture_output=True,
        text=True,
        env={"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PATH": ""},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    for name in ("drought_europe.txt", "knee_surgery_trial.txt", "span_language_models.md", "span_language_models.pdf"):
        assert f"=== {name}" in out
    assert "introduction  " in out and "related_work  " in out
    for taxonomy in ("erc", "arxiv", "hrcs_rac", "hrcs_hc"):
        assert f"\n  {taxonomy} " in out
    assert "\n  model " in out  # an entity type of the climate set
    assert "annotated 4 papers" in out


def test_demo_names_a_pipeline_that_does_not_load(tmp_path):
    result = subprocess.run(
        [sys.executable, str(REPO / "examples" / "demo.py"), "--model", str(tmp_path / "nothing")],
        capture_output=True, text=True,
    )
    assert result.returncode == 1
    assert "cannot load the pipeline" in result.stderr
