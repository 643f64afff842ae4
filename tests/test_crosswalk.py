"""The crosswalk that gives silver ERC panels to arXiv- and HRCS-labelled text."""
import pytest

from spacy_scicls import load_taxonomy
from spacy_scicls.taxonomies.crosswalk import ErcCrosswalk, load_crosswalk, silver_erc_panels


def test_every_arxiv_category_and_health_category_maps_to_erc_panels():
    crosswalk = load_crosswalk()
    erc = load_taxonomy("erc")
    assert crosswalk.coverage("arxiv") == []
    assert crosswalk.coverage("hrcs_hc") == []
    for source in ("arxiv", "hrcs_hc"):
        for code in load_taxonomy(source).codes:
            assert all(panel in erc for panel in crosswalk.panels(source, code))


@pytest.mark.parametrize(
    "source,code,panels",
    [
        ("arxiv", "cs.CL", ("PE6",)),  # archive default
        ("arxiv", "cs.RO", ("PE7",)),  # category override
        ("arxiv", "hep-ph", ("PE2",)),
        ("arxiv", "astro-ph.CO", ("PE9",)),
        ("arxiv", "astro-ph", ("PE9",)),  # legacy bare archive
        ("arxiv", "q-bio.NC", ("LS5",)),
        ("arxiv", "q-fin.ST", ("SH1",)),
        ("hrcs_hc", "Infection", ("LS6",)),
        ("hrcs_hc", "Cancer", ("LS4", "LS7")),  # alias of "Cancer and neoplasms"
        ("hrcs_rac", "6.1", ()),  # no crosswalk for activity codes
    ],
)
def test_panels_of_a_code(source, code, panels):
    assert load_crosswalk().panels(source, code) == panels


def test_silver_panels_follow_the_order_of_the_labels_without_duplicates():
    assert silver_erc_panels({"arxiv": ["hep-ph", "astro-ph.CO", "hep-th"]}) == ["PE2", "PE9"]
    assert silver_erc_panels({"hrcs_hc": ["Stroke"], "hrcs_rac": ["6.1"]}) == ["LS5"]
    assert silver_erc_panels({}) == []


def test_a_crosswalk_with_an_unknown_panel_or_code_fails_loudly():
    with pytest.raises(ValueError, match="PE99"):
        ErcCrosswalk({"target": "erc", "sources": {"arxiv": {"categories": {"cs.CL": ["PE99"]}}}})
    with pytest.raises(ValueError, match="cs.XX"):
        ErcCrosswalk({"target": "erc", "sources": {"arxiv": {"categories": {"cs.XX": ["PE6"]}}}})
    with pytest.raises(ValueError, match="not a group"):
        ErcCrosswalk({"target": "erc", "sources": {"arxiv": {"archives": {"nonsense": ["PE6"]}}}})
    with pytest.raises(ValueError, match="no panel"):
        ErcCrosswalk({"target": "erc", "sources": {"hrcs_hc": {"categories": {"Ear": []}}}})
