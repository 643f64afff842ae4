"""The reviewer-labelled ERC set: its file is read and checked, split the same way every time, and
scored as "top panel right" (primary or alternative panel) and "domain right"; the training script's
balancing weights."""
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from _erc_reviewed import (  # noqa: E402
    REVIEWED, Reviewed, ReviewedSetError, read_reviewed, reviewed_figures, split_of,
)

HEADER = "# made for this test\nid,source,panel,alt_panel,note\n"


def write(tmp_path, rows: str) -> Path:
    path = tmp_path / "reviewed.csv"
    path.write_text(HEADER + rows, encoding="utf-8")
    return path


def test_the_shipped_set_reads_and_both_halves_hold_pe_and_ls_panels():
    items = read_reviewed(REVIEWED)
    assert len(items) >= 120
    assert len({item.id for item in items}) == len(items)
    halves = {split: [i for i in items if split_of(i) == split] for split in ("dev", "test")}
    assert all(len(h) >= 0.3 * len(items) for h in halves.values())
    panels = {item.panel for item in items}
    assert {f"PE{n}" for n in range(1, 12)} <= panels and {f"LS{n}" for n in range(1, 10)} <= panels
    assert any(p.startswith("SH") for p in panels)


def test_rows_are_read_with_comments_quotes_and_an_optional_alternative(tmp_path):
    path = write(tmp_path, '"craft:BMC Genomics-2-_-57980","papers/craft_pmc_jats/x.nxml",LS2,,genes\n'
                           "arxiv_2007:1,cats/arxiv_2007/arxiv_data.csv,PE3,PE2,a, note with a comma\n")
    items = read_reviewed(path)
    assert items[0].id == "craft:BMC Genomics-2-_-57980" and items[0].panels == ["LS2"]
    assert items[1].panels == ["PE3", "PE2"] and items[1].corpus == "cats/arxiv_2007"


@pytest.mark.parametrize("rows, match", [
    ("a:1,cats/x/y.csv,PE99,,\n", "line 3: 'PE99' is not an ERC 2024 panel"),
    ("a:1,cats/x/y.csv,PE1,XX,\n", "line 3: 'XX' is not an ERC 2024 panel"),
    ("a:1,cats/x/y.csv,PE1,,\na:1,cats/x/y.csv,PE2,,\n", "line 4: duplicate id 'a:1' \\(first on line 3\\)"),
    (",cats/x/y.csv,PE1,,\n", "line 3: id and panel are required"),
])
def test_malformed_rows_name_the_line(tmp_path, rows, match):
    with pytest.raises(ReviewedSetError, match=match):
        read_reviewed(write(tmp_path, rows))


def test_a_header_without_panel_is_refused(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("id,source\na:1,x\n", encoding="utf-8")
    with pytest.raises(ReviewedSetError, match="line 1: the header needs id, source and panel"):
        read_reviewed(path)


def test_the_split_depends_on_the_id_and_seed_only():
    item = Reviewed("plos:journal.x", "papers/plos_jats/x.xml", "LS1")
    assert split_of(item) == split_of(Reviewed("plos:journal.x", "elsewhere", "PE1"))
    assert {split_of(Reviewed(f"a:{i}", "s", "PE1")) for i in range(40)} == {"dev", "test"}


def test_top_panel_right_counts_the_alternative_and_domain_right_the_domains():
    items = [Reviewed("a:1", "cats/arxiv_2007/f.csv", "PE3", "PE2"), Reviewed("a:2", "cats/arxiv_2007/f.csv", "LS7"),
             Reviewed("b:1", "papers/jose_pdf_jats/x.jats", "SH3", "PE6"), Reviewed("b:2", "papers/plos/x", "LS1")]
    figures = reviewed_figures(items, ["PE2", "LS4", "PE6", None])
    assert figures["all"] == {"n": 4, "panel": 0.5, "domain": 0.75}
    assert figures["PE+LS"] == {"n": 3, "panel": 1 / 3, "domain": 2 / 3}
    assert figures["papers/jose_pdf_jats"] == {"n": 1, "panel": 1.0, "domain": 1.0}


def test_balancing_weights_favour_the_rare_primary_labels():
    from types import SimpleNamespace

    from train_categories import balancing_weights

    records = [SimpleNamespace(labels={"erc": ["PE9"]})] * 3 + [SimpleNamespace(labels={"erc": ["PE10", "PE9"]}),
                                                                 SimpleNamespace(labels={})]
    weights = balancing_weights(records, "erc", 1.0)
    assert weights.tolist() == pytest.approx([2 / 3, 2 / 3, 2 / 3, 2.0, 1.0])  # mean count 2; out-of-field 1
    assert balancing_weights(records, "erc", 0.0).tolist() == [1.0] * 5
