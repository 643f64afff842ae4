"""``scicls annotate`` end to end: subprocesses on a mixed folder, and kill -9 then --resume."""
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli_corpus import MIXED_EXPECTED, write_mixed_folder, write_records
from spacy_scicls.cli import run_annotate

REPO = Path(__file__).resolve().parents[1]
CONTRACT_KEYS = {"id", "text", "sections", "cats", "labels", "certainty", "ents", "error"}


@pytest.fixture(scope="module")
def one_thread():
    """Torch on one thread, as in the subprocesses, so that in-process runs give the same floats."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def pipeline_dir(trained, tmp_path_factory) -> Path:
    nlp, _, _ = trained
    path = tmp_path_factory.mktemp("cli") / "pipeline"
    nlp.to_disk(path)
    return path


def scicls(*args: str) -> list:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return [sys.executable, "-m", "spacy_scicls", "annotate", *args], env


def read_jsonl(path: Path) -> list:
    return [json.loads(line) for line in path.read_text(encoding="utf8").splitlines()]


@pytest.mark.slow
def test_mixed_folder_two_processes(pipeline_dir, tmp_path, one_thread):
    folder = write_mixed_folder(tmp_path / "mixed")
    out = tmp_path / "out.jsonl"
    cmd, env = scicls(str(folder), "--output", str(out), "--model", str(pipeline_dir), "--n-process", "2", "--batch-size", "4")
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr  # finished, with failed records
    records = read_jsonl(out)
    assert [(r["id"]) for r in records] == [rid for rid, _ in MIXED_EXPECTED]
    for record, (rid, reason) in zip(records, MIXED_EXPECTED):
        assert set(record) == CONTRACT_KEYS
        if reason is None:
            assert record["error"] is None, record
        else:
            assert record["error"], record
            if reason != "*":
                assert record["error"].startswith(reason), record
    n_failed = sum(1 for _, reason in MIXED_EXPECTED if reason)
    assert f"{len(records) - n_failed} annotated, {n_failed} failed" in proc.stderr
    assert "empty text (2)" in proc.stderr and "not UTF-8 text (2)" in proc.stderr
    assert "k_figure.png" in proc.stderr  # skipped, and said so

    by_id = {r["id"]: r for r in records}
    # A .txt paper's text is the file's content exactly (CRLF and all); offsets index it.
    crlf = by_id["b_crlf.txt"]
    assert crlf["text"] == (folder / "b_crlf.txt").read_bytes().decode("utf8")
    assert "\r\n" in crlf["text"] and "Niño" in crlf["text"]
    for record in records:
        if record["error"]:
            continue
        text = record["text"]
        sections = record["sections"]
        assert sections, record["id"]
        for section in sections:
            assert 0 <= section["start_char"] < section["end_char"] <= len(text)
            assert 0.0 <= section["score"] <= 1.0
        for ent in record["ents"]:
            assert text[ent["start_char"] : ent["end_char"]] == ent["text"]
        assert set(record["labels"]) == {"erc", "erc_domain", "arxiv", "arxiv_archive", "hrcs_rac", "hrcs_rag", "hrcs_hc"}
        assert set(record["certainty"]) == {"erc", "arxiv", "hrcs_rac", "hrcs_hc"}
        assert all(key.split("/")[0] in record["certainty"] for key in record["cats"])
    headings = [s["heading"] for s in by_id["a_paper.txt"]["sections"]]
    assert "2 Methods" in headings
    assert by_id["A1"]["text"] == 'Surgery trial\n\nPatients, surgery and "drug" treatment.'

    # --n-process 2 wrote exactly what one process writes.
    single = tmp_path / "single.jsonl"
    # One torch/BLAS thread, as each worker has: other thread counts sum floats in another order.
    code = run_annotate([str(folder)], single, model=str(pipeline_dir), batch_size=4, quiet=True, threads=1)
    assert code == 1
    assert out.read_bytes() == single.read_bytes()


def _count_lines(path: Path) -> int:
    try:
        with path.open("rb") as file:
            return file.read().count(b"\n")
    except FileNotFoundError:
        return 0


@pytest.mark.slow
def test_kill_and_resume_gives_the_uninterrupted_output(pipeline_dir, tmp_path, one_thread):
    records = tmp_path / "records.jsonl"
    ids = write_records(records, 1000)
    reference = tmp_path / "reference.jsonl"
    assert run_annotate([str(records)], reference, model=str(pipeline_dir), batch_size=16, quiet=True, threads=1) == 1

    out = tmp_path / "out.jsonl"
    rng = random.Random(7)
    kill_points = sorted(rng.sample(range(40, 900), 2))
    cmd, env = scicls(str(records), "--output", str(out), "--model", str(pipeline_dir), "--batch-size", "16", "--resume", "--threads", "1", "-q")
    killed_at = []
    for target in kill_points:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 240
        while _count_lines(out) < target and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed"
        killed_at.append(_count_lines(out))
        # As if the kill had come in the middle of a write: a torn last line.
        reference_lines = reference.read_bytes().splitlines(keepends=True)
        with out.open("ab") as file:
            file.write(reference_lines[killed_at[-1]][:37])
    assert killed_at[0] < killed_at[1] < 1000

    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr
    resumed_from = killed_at[1] // 16 * 16  # a resumed run starts on a batch boundary
    assert f"{1000 - resumed_from:,} records in" in proc.stderr
    assert f"{resumed_from:,} already in the output (--resume)" in proc.stderr
    written = read_jsonl(out)
    expected = read_jsonl(reference)
    assert [r["id"] for r in written] == ids
    for got, want in zip(written, expected):
        assert got == want
    assert out.read_bytes() == reference.read_bytes()
    assert sum(1 for r in written if r["error"]) == sum(1 for i in range(1000) if i % 97 == 13)


def test_csv_output_holds_the_decided_labels_of_the_jsonl(pipeline_dir, tmp_path, one_thread):
    import csv

    from tiny_data import PAPERS

    inputs = tmp_path / "awards.csv"
    with inputs.open("w", encoding="utf8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["AwardID", "AwardTitle", "AwardAbstract"])
        for i, (text, *_) in enumerate(PAPERS):
            title, _, abstract = text.partition("\n\n")
            writer.writerow([f"A{i}", title, abstract])
        writer.writerow(["A-empty", "", ""])
    options = dict(model=str(pipeline_dir), text_columns=["AwardTitle", "AwardAbstract"], id_column="AwardID", quiet=True)
    assert run_annotate([str(inputs)], tmp_path / "out.jsonl", **options) == 1
    assert run_annotate([str(inputs)], tmp_path / "out.csv", **options) == 1
    records = read_jsonl(tmp_path / "out.jsonl")
    with (tmp_path / "out.csv").open(encoding="utf8", newline="") as file:
        rows = list(csv.DictReader(file))
    taxonomies = ["erc", "erc_domain", "arxiv", "arxiv_archive", "hrcs_rac", "hrcs_rag", "hrcs_hc"]
    assert list(rows[0]) == ["id"] + [f"labels_{t}" for t in taxonomies] + [
        f"certainty_{t}" for t in ("erc", "arxiv", "hrcs_rac", "hrcs_hc")
    ] + ["error"]
    assert [row["id"] for row in rows] == [r["id"] for r in records] == ["A0", "A1", "A2", "A3", "A-empty"]
    for row, record in zip(rows, records):
        for taxonomy in taxonomies:
            assert row[f"labels_{taxonomy}"] == "; ".join(record["labels"].get(taxonomy, []))
        if record["certainty"].get("erc") is not None:
            assert float(row["certainty_erc"]) == record["certainty"]["erc"]
    assert rows[-1]["error"] == "empty text" and rows[0]["error"] == ""
    assert records[0]["text"].startswith(PAPERS[0][0].partition("\n\n")[0] + "\n\n")
