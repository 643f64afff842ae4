"""The README's first command: the demo trains, saves, reloads and annotates the example papers."""
import subprocess
import sys

import pytest

from conftest import REPO


@pytest.mark.slow
def test_demo_runs_end_to_end(tmp_path):
    result = subprocess.run(
        [sys.executable, str(REPO / "examples" / "demo.py"), "--steps", "2", "--output", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        env={"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PATH": ""},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for name in ("drought_europe.txt", "knee_surgery_trial.txt", "span_language_models.md"):
        assert f"=== {name}" in result.stdout
    assert "section  " in result.stdout and "erc      " in result.stdout
    assert (tmp_path / "demo" / "config.cfg").exists()
