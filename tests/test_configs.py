"""spaCy's own checks on every config of the repository: `python -m spacy debug config`."""
from pathlib import Path

import pytest
from spacy.cli.debug_config import debug_config

from conftest import REPO

CONFIGS = sorted((REPO / "configs").glob("*.cfg"))
# debug config resolves the corpora; nothing is read from these paths
PATHS = {"paths.train": "train.spacy", "paths.dev": "dev.spacy"}


def test_the_configs_folder_is_found():
    assert len(CONFIGS) >= 8


@pytest.mark.parametrize("config", CONFIGS, ids=lambda path: path.name)
def test_spacy_debug_config_passes(config: Path, capsys):
    try:
        debug_config(config, overrides=PATHS)
    except SystemExit as error:  # how debug config reports a validation error
        pytest.fail(f"spacy debug config {config.name} failed ({error.code}):\n{capsys.readouterr().out[-3000:]}")
    assert "Config is valid" in capsys.readouterr().out
