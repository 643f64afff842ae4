"""project.yml: it parses, its workflow runs dry, and its commands call scripts
with options those scripts have."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def project():
    from weasel.util import load_project_config

    return load_project_config(REPO)


def script_options(path: Path) -> set:
    return set(re.findall(r"add_argument\(\s*\"(--[a-z0-9-]+)\"", path.read_text(encoding="utf8")))


def test_commands_call_existing_scripts_with_their_options(project):
    commands = {c["name"]: c for c in project["commands"]}
    assert set(project["workflows"]["all"]) <= set(commands)
    checked = 0
    for command in commands.values():
        for line in command["script"]:
            words = line.split()
            if len(words) > 1 and words[0] == "python" and words[1].startswith("scripts/"):
                script = REPO / words[1]
                assert script.exists(), line
                used = {w for w in words[2:] if w.startswith("--")}
                missing = used - script_options(script)
                assert not missing, f"{command['name']}: {script.name} has no {sorted(missing)}"
                checked += 1
    assert checked >= 6


def test_every_data_dependency_is_a_declared_asset(project):
    dests = [a["dest"] for a in project["assets"]]
    for asset in project["assets"]:
        assert asset["git"]["repo"].startswith("https://github.com/")
        assert asset["dest"].startswith("assets/")
    for command in project["commands"]:
        for dep in command.get("deps", []):
            if dep.startswith("assets/"):
                assert any(d.startswith(dep) or dep.startswith(d) for d in dests), dep


def test_every_packed_asset_is_unpacked_by_the_data_command(project):
    # The readers take the data folder's layout unpacked (a local data folder holds it so): an asset
    # fetched packed that the data command does not unpack would stop the workflow after `assets`.
    data = next(c for c in project["commands"] if c["name"] == "data")
    packed = [a["dest"] for a in project["assets"] if a["dest"].endswith((".gz", ".tgz", ".tar"))]
    assert packed
    for dest in packed:
        assert any(dest in line for line in data["script"]), dest
        assert dest in data["deps"], dest


def test_heads_and_assembly_share_the_encoder_var(project):
    assemble = next(c for c in project["commands"] if c["name"] == "assemble")
    assert f"--encoder {project['vars']['encoder']}" in assemble["script"][0]
    train_entities = next(c for c in project["commands"] if c["name"] == "train-entities")
    assert f"--encoder {project['vars']['encoder']}" in train_entities["script"][0]


def test_workflow_runs_dry():
    result = subprocess.run(
        [sys.executable, "-m", "weasel", "run", "all", str(REPO), "--dry"],
        capture_output=True, text=True, cwd=str(REPO),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    for name in ("train-sections", "train-categories", "train-entities", "assemble", "package", "evaluate-pdf"):
        assert f"= {name} =" in re.sub(r"=+", "=", result.stdout), name


def test_every_dependency_and_output_stays_one_path_after_the_vars_are_filled(project):
    """weasel fills ${vars...} by writing the config out and reading it back; a list entry that ends in
    a variable followed by one that starts with one came back as ONE path joined by a comma, so that
    `spacy project run evaluate-pdf` refused to run ("Missing dependency") with every file there."""
    import yaml

    raw = {c["name"]: c for c in yaml.safe_load((REPO / "project.yml").read_text(encoding="utf8"))["commands"]}
    for command in project["commands"]:
        for key in ("deps", "outputs", "script"):
            filled = command.get(key, [])
            assert len(filled) == len(raw[command["name"]].get(key, [])), (command["name"], key, filled)
            assert not any(", " in item for item in filled if key != "script"), (command["name"], key, filled)
