"""Tests for spacy_scicls.taxonomies.

The data-free tests use hard-written examples. The tests marked by the
``data_dir`` fixture also check every raw label value of the real datasets; they
run only when the environment variable SCICLS_DATA_DIR points at the data folder
(with ``cats/`` and ``taxonomies/`` inside) and are skipped otherwise.
"""

import ast
import csv
import json
import os
import re
from importlib import resources
from pathlib import Path

import pytest

from spacy_scicls.taxonomies import (
    TAXONOMY_NAMES,
    Label,
    Taxonomy,
    UnknownLabelError,
    load_taxonomy,
)

ERC_CODES = (
    [f"PE{i}" for i in range(1, 12)] + [f"LS{i}" for i in range(1, 10)] + [f"SH{i}" for i in range(1, 9)]
)
HC_CODES = [
    "Blood",
    "Cancer and neoplasms",
    "Cardiovascular",
    "Congenital Disorders",
    "Ear",
    "Eye",
    "Infection",
    "Inflammatory and Immune System",
    "Injuries and Accidents",
    "Mental Health",
    "Metabolic and Endocrine",
    "Musculoskeletal",
    "Neurological",
    "Oral and Gastrointestinal",
    "Renal and Urogenital",
    "Reproductive Health and Childbirth",
    "Respiratory",
    "Skin",
    "Stroke",
    "Generic Health Relevance",
    "Disputed aetiology and other",
]
RAC_GROUP_SIZES = {"1": 5, "2": 6, "3": 5, "4": 5, "5": 9, "6": 9, "7": 4, "8": 5}
ARXIV_LEGACY = {"astro-ph", "cond-mat", "q-bio"}


@pytest.fixture(scope="module")
def erc():
    return load_taxonomy("erc")


@pytest.fixture(scope="module")
def arxiv():
    return load_taxonomy("arxiv")


@pytest.fixture(scope="module")
def rac():
    return load_taxonomy("hrcs_rac")


@pytest.fixture(scope="module")
def hc():
    return load_taxonomy("hrcs_hc")


# --------------------------------------------------------------------- loading


def test_names_and_cache():
    assert TAXONOMY_NAMES == ("erc", "arxiv", "hrcs_rac", "hrcs_hc")
    for name in TAXONOMY_NAMES:
        taxonomy = load_taxonomy(name)
        assert isinstance(taxonomy, Taxonomy)
        assert taxonomy.name == name
        assert taxonomy.multi_label is True
        assert load_taxonomy(name) is taxonomy


def test_unknown_taxonomy_name_lists_known_ones():
    with pytest.raises(ValueError) as info:
        load_taxonomy("acm")
    message = str(info.value)
    assert "'acm'" in message
    for name in TAXONOMY_NAMES:
        assert name in message


def test_taxonomy_is_immutable(erc):
    with pytest.raises(AttributeError):
        erc.name = "other"
    groups = erc.groups
    groups["XX"] = "mutated"
    assert "XX" not in erc.groups
    with pytest.raises(Exception):
        erc.labels[0].code = "PE99"


# ---------------------------------------------------------------------- counts


def test_erc_counts_and_order(erc):
    assert len(erc) == 28
    assert list(erc.codes) == ERC_CODES
    assert list(erc) == ERC_CODES
    assert erc.groups == {
        "PE": "Physical Sciences and Engineering",
        "LS": "Life Sciences",
        "SH": "Social Sciences and Humanities",
    }
    assert erc.group_taxonomy == "erc_domain"
    sizes = {g: sum(1 for c in erc.codes if erc.group_of(c) == g) for g in erc.groups}
    assert sizes == {"PE": 11, "LS": 9, "SH": 8}
    assert erc.name_of("PE6") == "Computer Science and Informatics"
    assert erc.name_of("SH8") == "Studies of Cultures and Arts"
    assert erc.name_of("LS3") == "Cell Biology, Development, Stem Cells and Regeneration"


def test_hrcs_rac_counts_and_order(rac):
    assert len(rac) == 48
    assert rac.group_taxonomy == "hrcs_rag"
    assert list(rac.groups) == [str(i) for i in range(1, 9)]
    sizes = {g: sum(1 for c in rac.codes if rac.group_of(c) == g) for g in rac.groups}
    assert sizes == RAC_GROUP_SIZES
    expected = [f"{g}.{i}" for g, n in RAC_GROUP_SIZES.items() for i in range(1, n + 1)]
    assert list(rac.codes) == expected
    assert rac.codes[0] == "1.1" and rac.codes[-1] == "8.5"
    assert rac.name_of("6.1") == "Pharmaceuticals"
    assert rac.name_of("8.4") == "Research design and methodologies (health services)"
    assert rac.groups["6"] == "Evaluation of Treatments and Therapeutic Interventions"


def test_hrcs_hc_counts(hc):
    assert len(hc) == 21
    assert list(hc.codes) == HC_CODES
    assert hc.groups == {}
    assert hc.group_taxonomy is None
    assert all(hc.name_of(code) == code for code in hc.codes)
    assert hc.group_of("Stroke") is None
    assert hc.group_key("Stroke") is None


def test_arxiv_counts_and_legacy(arxiv):
    legacy = {label.code for label in arxiv.labels if label.legacy}
    assert legacy == ARXIV_LEGACY
    assert len(arxiv) == 155 + len(ARXIV_LEGACY)
    assert arxiv.group_taxonomy == "arxiv_archive"
    assert arxiv.name_of("astro-ph") == "Astrophysics"
    assert arxiv.name_of("cs.CL") == "Computation and Language"
    assert arxiv.groups["astro-ph"] == "Astrophysics"
    assert arxiv.groups["hep-th"] == "High Energy Physics - Theory"
    assert len(arxiv.groups) == 20
    assert not any(label.legacy for label in arxiv.labels if label.code == "cs.CL")


def test_arxiv_group_is_archive(arxiv):
    for code in arxiv.codes:
        assert arxiv.group_of(code) == code.split(".", 1)[0]


@pytest.mark.parametrize(
    "name,code,group,group_key",
    [
        ("erc", "PE6", "PE", "erc_domain/PE"),
        ("erc", "LS9", "LS", "erc_domain/LS"),
        ("erc", "SH8", "SH", "erc_domain/SH"),
        ("hrcs_rac", "6.1", "6", "hrcs_rag/6"),
        ("hrcs_rac", "1.5", "1", "hrcs_rag/1"),
        ("arxiv", "cs.CL", "cs", "arxiv_archive/cs"),
        ("arxiv", "math.AG", "math", "arxiv_archive/math"),
        ("arxiv", "astro-ph.GA", "astro-ph", "arxiv_archive/astro-ph"),
        ("arxiv", "astro-ph", "astro-ph", "arxiv_archive/astro-ph"),
        ("arxiv", "hep-th", "hep-th", "arxiv_archive/hep-th"),
        ("arxiv", "physics.ao-ph", "physics", "arxiv_archive/physics"),
        ("arxiv", "q-bio.NC", "q-bio", "arxiv_archive/q-bio"),
    ],
)
def test_group_examples(name, code, group, group_key):
    taxonomy = load_taxonomy(name)
    assert taxonomy.group_of(code) == group
    assert taxonomy.group_key(code) == group_key


def test_cat_key_round_trip():
    for name in TAXONOMY_NAMES:
        taxonomy = load_taxonomy(name)
        keys = [taxonomy.cat_key(code) for code in taxonomy.codes]
        assert len(set(keys)) == len(keys)
        for code, key in zip(taxonomy.codes, keys):
            assert key == f"{name}/{code}"
            assert taxonomy.code_from_cat_key(key) == code
            assert taxonomy.normalise(key) == code
            group_key = taxonomy.group_key(code)
            if taxonomy.group_taxonomy:
                gtax, group = group_key.split("/", 1)
                assert gtax == taxonomy.group_taxonomy
                assert group in taxonomy.groups
            else:
                assert group_key is None


def test_cat_key_examples(erc, hc):
    assert erc.cat_key("PE6") == "erc/PE6"
    assert hc.cat_key("Cancer and neoplasms") == "hrcs_hc/Cancer and neoplasms"
    with pytest.raises(ValueError, match="not a doc.cats key"):
        erc.code_from_cat_key("arxiv/cs.CL")
    with pytest.raises(UnknownLabelError):
        erc.code_from_cat_key("erc/PE99")
    with pytest.raises(UnknownLabelError):
        erc.cat_key("pe6")  # lookups take canonical codes; normalise() takes raw ones


def test_contains_and_labels(rac):
    assert "6.1" in rac
    assert "6" not in rac
    assert "Pharmaceuticals" not in rac
    label = rac.labels[rac.codes.index("6.1")]
    assert isinstance(label, Label)
    assert (label.code, label.group, label.legacy) == ("6.1", "6", False)
    assert "Pharmaceuticals (evaluation of treatments)" in label.aliases


# ------------------------------------------------------------------- normalise

NORMALISE_CASES = [
    # canonical codes and case / whitespace variants
    ("erc", "PE6", "PE6"),
    ("erc", " pe6 ", "PE6"),
    ("erc", "erc/PE6", "PE6"),
    ("erc", "Computer Science and Informatics", "PE6"),
    ("erc", "computer science & informatics", "PE6"),
    ("erc", "PE6 - Computer Science & Informatics", "PE6"),
    ("erc", "PE10 Earth System Science", "PE10"),
    ("erc", "PE1: Mathematics", "PE1"),
    ("erc", "Human Mobility, Environment & Space", "SH7"),
    ("erc", "Integrative Biology: From Genes & Genomes to Systems", "LS2"),
    ("erc", "Cellular, Developmental & Regenerative Biology", "LS3"),
    ("erc", "Neuroscience & Disorders of the Nervous Systems", "LS5"),
    ("hrcs_rac", "6.1", "6.1"),
    ("hrcs_rac", "6.1 Pharmaceuticals", "6.1"),
    ("hrcs_rac", "6.1: Pharmaceuticals", "6.1"),
    ("hrcs_rac", "6.1:Pharmaceuticals", "6.1"),
    ("hrcs_rac", "6.1\u00a0Pharmaceuticals", "6.1"),
    ("hrcs_rac", "hrcs_rac/6.1", "6.1"),
    ("hrcs_rac", "Pharmaceuticals (evaluation of treatments)", "6.1"),
    ("hrcs_rac", "5.1: Pharmaceuticals (development of treatments)", "5.1"),
    ("hrcs_rac", "6.9 Resources and infrastructure (treatment evaluation)", "6.9"),
    ("hrcs_rac", "Resources and infrastructure (treatment evaluation)", "6.9"),
    ("hrcs_rac", "Factors relating to the physical environment", "2.2"),
    ("hrcs_rac", "8.4 Research design and methodologies", "8.4"),
    ("hrcs_rac", "VACCINES", "3.4"),
    ("hrcs_rac", "1.1 Biological", "1.1"),  # hrcs-skos short name: the code decides
    ("hrcs_hc", "Cancer and neoplasms", "Cancer and neoplasms"),
    ("hrcs_hc", "Cancer", "Cancer and neoplasms"),
    ("hrcs_hc", "cancer and neoplasms", "Cancer and neoplasms"),
    ("hrcs_hc", "Other", "Disputed aetiology and other"),
    ("hrcs_hc", "Disputed Aetiology and Other", "Disputed aetiology and other"),
    ("hrcs_hc", "  mental   health ", "Mental Health"),
    ("hrcs_hc", "Caridovascular", "Cardiovascular"),  # typo in hrcs-skos
    ("hrcs_hc", "Neuro", "Neurological"),
    ("hrcs_hc", "Immune", "Inflammatory and Immune System"),
    ("hrcs_hc", "hrcs_hc/Stroke", "Stroke"),
    ("arxiv", "cs.CL", "cs.CL"),
    ("arxiv", "CS.CL", "cs.CL"),
    ("arxiv", "arxiv/cs.CL", "cs.CL"),
    ("arxiv", "Computation and Language", "cs.CL"),
    ("arxiv", "cs.CL Computation and Language", "cs.CL"),
    ("arxiv", "cmp-lg", "cs.CL"),  # defunct archive subsumed by cs.CL
    ("arxiv", "chao-dyn", "nlin.CD"),
    ("arxiv", "astro-ph", "astro-ph"),
    ("arxiv", "astro-ph.GA", "astro-ph.GA"),
    ("arxiv", "hep-th", "hep-th"),
    ("arxiv", "High Energy Physics \u2013 Theory", "hep-th"),
    ("arxiv", "physics.ao-ph", "physics.ao-ph"),
]


@pytest.mark.parametrize("name,raw,expected", NORMALISE_CASES)
def test_normalise(name, raw, expected):
    assert load_taxonomy(name).normalise(raw) == expected


# the 15 raw spellings of grant_hrcs_tagger's hc_mapping.json
HC_MAPPING = {
    "cancer": "Cancer and neoplasms",
    "cardio": "Cardiovascular",
    "congenital": "Congenital Disorders",
    "inflammatory": "Inflammatory and Immune System",
    "inflamation and immune": "Inflammatory and Immune System",
    "inflammatory and immune system": "Inflammatory and Immune System",
    "injuries": "Injuries and Accidents",
    "mental": "Mental Health",
    "metabolic": "Metabolic and Endocrine",
    "muscle": "Musculoskeletal",
    "oral": "Oral and Gastrointestinal",
    "renal": "Renal and Urogenital",
    "reproduction": "Reproductive Health and Childbirth",
    "generic": "Generic Health Relevance",
    "other": "Disputed aetiology and other",
}


@pytest.mark.parametrize("raw,expected", sorted(HC_MAPPING.items()))
def test_normalise_hc_mapping_spellings(hc, raw, expected):
    assert hc.normalise(raw) == expected


def test_every_code_name_and_alias_normalises_to_itself():
    for name in TAXONOMY_NAMES:
        taxonomy = load_taxonomy(name)
        names = [label.name.casefold() for label in taxonomy.labels]
        for label in taxonomy.labels:
            assert taxonomy.normalise(label.code) == label.code
            assert taxonomy.normalise(label.code.upper()) == label.code
            if names.count(label.name.casefold()) == 1:
                assert taxonomy.normalise(label.name) == label.code
                assert taxonomy.normalise(label.name.upper()) == label.code
            for alias in label.aliases:
                assert taxonomy.normalise(alias) == label.code, (name, alias)


@pytest.mark.parametrize(
    "name,raw,codes",
    [
        ("hrcs_rac", "Pharmaceuticals", ("5.1", "6.1")),
        ("arxiv", "Machine Learning", ("cs.LG", "stat.ML")),
        ("arxiv", "cs.CL cs.AI", ("cs.AI", "cs.CL")),  # an unsplit multi-label string
        ("hrcs_rac", "6.1 Surgery", ("5.4", "6.1", "6.4")),  # code and name disagree
    ],
)
def test_ambiguous_labels_are_rejected(name, raw, codes):
    with pytest.raises(UnknownLabelError) as info:
        load_taxonomy(name).normalise(raw)
    message = str(info.value)
    assert "Ambiguous" in message
    assert repr(raw) in message
    assert repr(name) in message
    for code in codes:
        assert code in message
    assert info.value.suggestions == codes


def test_unknown_label_error_message(erc):
    with pytest.raises(UnknownLabelError) as info:
        erc.normalise("Computer Sciense and Informatic")
    err = info.value
    assert isinstance(err, ValueError)
    assert (err.taxonomy, err.raw) == ("erc", "Computer Sciense and Informatic")
    assert err.suggestions[0] == "PE6"
    assert 1 <= len(err.suggestions) <= 3
    message = str(err)
    assert "'erc'" in message
    assert "'Computer Sciense and Informatic'" in message
    assert "PE6 (Computer Science and Informatics" in message


def test_unknown_label_suggests_at_most_three(erc):
    with pytest.raises(UnknownLabelError) as info:
        erc.normalise("PE12")
    assert len(info.value.suggestions) == 3
    assert set(info.value.suggestions) <= {"PE1", "PE2", "PE11", "PE10"}


def test_unknown_label_without_close_match(arxiv):
    with pytest.raises(UnknownLabelError) as info:
        arxiv.normalise("I.2.6")  # an ACM class, not an arXiv category
    assert info.value.suggestions == ()
    assert "'arxiv'" in str(info.value) and "'I.2.6'" in str(info.value)


def test_group_value_is_explained(rac):
    raw = "6. Evaluation of Treatments and Therapeutic Interventions"
    with pytest.raises(UnknownLabelError, match="group '6'"):
        rac.normalise(raw)


@pytest.mark.parametrize(
    "name,raw",
    [
        ("hrcs_hc", "Ear infections"),  # codes that are names never lead a longer string
        ("arxiv", "astro-ph.XX"),  # "." is not a code/name separator
        ("arxiv", "cs"),  # an archive is a group, not a category
        ("erc", "PE6_7"),  # an ERC descriptor is not a panel
        ("erc", ""),
        ("erc", "arxiv/PE6"),
    ],
)
def test_normalise_rejects(name, raw):
    with pytest.raises(UnknownLabelError):
        load_taxonomy(name).normalise(raw)


def test_normalise_rejects_non_strings(erc):
    with pytest.raises(TypeError):
        erc.normalise(6)


# -------------------------------------------------------------- user taxonomies


def test_user_taxonomy_from_json(tmp_path):
    path = tmp_path / "my_fields.json"
    path.write_text(
        json.dumps(
            {
                "name": "fields",
                "title": "My fields",
                "multi_label": False,
                "group_taxonomy": "field_area",
                "groups": {"S": "Science", "A": "Arts"},
                "labels": [
                    {"code": "S1", "name": "Physics", "group": "S", "aliases": ["phys"]},
                    {"code": "A1", "name": "Music", "group": "A"},
                ],
            }
        ),
        encoding="utf-8",
    )
    taxonomy = load_taxonomy(str(path))
    assert taxonomy.name == "fields"
    assert taxonomy.multi_label is False
    assert taxonomy.codes == ("S1", "A1")
    assert taxonomy.normalise("PHYS") == "S1"
    assert taxonomy.normalise("S1 Physics") == "S1"
    assert taxonomy.cat_key("A1") == "fields/A1"
    assert taxonomy.group_key("A1") == "field_area/A"
    assert load_taxonomy(path).codes == ("S1", "A1")  # a Path works too


def test_user_taxonomy_minimal(tmp_path):
    path = tmp_path / "tags.json"
    path.write_text(json.dumps({"labels": ["alpha", "beta"]}), encoding="utf-8")
    taxonomy = load_taxonomy(str(path))
    assert taxonomy.name == "tags"  # defaults to the file name
    assert taxonomy.codes == ("alpha", "beta")
    assert taxonomy.group_key("beta") is None
    assert taxonomy.normalise("tags/Beta") == "beta"


def test_user_taxonomy_errors(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        load_taxonomy(str(tmp_path / "missing.json"))
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps({"name": "bad", "labels": [{"code": "a", "group": "nope"}]}), encoding="utf-8"
    )
    with pytest.raises(ValueError, match="group 'nope'"):
        load_taxonomy(str(bad))
    dup = tmp_path / "dup.json"
    dup.write_text(json.dumps({"name": "dup", "labels": ["a", "A"]}), encoding="utf-8")
    with pytest.raises(ValueError, match="differ only in case"):
        load_taxonomy(str(dup))


# ------------------------------------------------------------------ data files


def _data_files():
    folder = resources.files("spacy_scicls.taxonomies").joinpath("data")
    return {
        name: json.loads(folder.joinpath(f"{name}.json").read_text(encoding="utf-8"))
        for name in TAXONOMY_NAMES
    }


def test_data_files_declare_origin_and_format():
    expected_group_taxonomy = {
        "erc": "erc_domain",
        "arxiv": "arxiv_archive",
        "hrcs_rac": "hrcs_rag",
        "hrcs_hc": None,
    }
    for name, data in _data_files().items():
        assert data["name"] == name
        assert data["title"] and data["version"]
        assert len(data["source"]) > 20 and "github.com" in data["source"]
        assert len(data["license_note"]) > 20
        assert data["multi_label"] is True
        assert data["group_taxonomy"] == expected_group_taxonomy[name]
        for label in data["labels"]:
            # every label described (its source and licence in license_note)
            assert set(label) <= {"code", "name", "group", "aliases", "legacy", "description", "descriptors"}, label
            assert len(label["description"]) > 10, label["code"]
            assert len(label["name"]) < 100
            for text in (label["code"], label["name"], *label.get("aliases", [])):
                assert text == " ".join(text.split()), text  # no stray or non-breaking spaces
        taxonomy = load_taxonomy(name)
        assert (taxonomy.source, taxonomy.license_note) == (data["source"], data["license_note"])


# ---------------------------------------------------- real data (SCICLS_DATA_DIR)


@pytest.fixture(scope="module")
def data_dir():
    value = os.environ.get("SCICLS_DATA_DIR")
    if not value:
        pytest.skip("SCICLS_DATA_DIR is not set")
    path = Path(value)
    if not (path / "cats").is_dir() or not (path / "taxonomies").is_dir():
        pytest.skip(f"SCICLS_DATA_DIR has no cats/ and taxonomies/: {value}")
    csv.field_size_limit(1 << 24)
    return path


def _rows(path):
    if not path.is_file():
        pytest.skip(f"missing data file {path.name}")
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# ACM Computing Classification (e.g. "I.2.6") and MSC (e.g. "68T05") codes that
# the arxiv_ml `terms` column mixes in with arXiv categories
_NON_ARXIV_TERM = re.compile(
    r"^(?:[A-K]\.(?:\d+|m)(?:\.(?:\d+|m))?"  # ACM, e.g. I.2.6, I.2.m
    r"|\d\d[A-Z]\d\d(?: \((?:Primary|Secondary)\))?)$"  # MSC, e.g. 68T05, 60L10 (Primary)
)


def test_arxiv_2007_categories_normalise(data_dir, arxiv):
    rows = _rows(data_dir / "cats" / "arxiv_2007" / "arxiv_data.csv")
    seen = set()
    for row in rows:
        for raw in row["categories"].split():
            seen.add(raw)
            assert arxiv.normalise(raw) == raw
    assert "astro-ph" in seen  # the legacy bare archive
    assert len(seen) > 100


def test_arxiv_ml_terms_normalise(data_dir, arxiv):
    rows = _rows(data_dir / "cats" / "arxiv_ml" / "arxiv_data.csv")
    arxiv_terms, other_terms = set(), set()
    for row in rows:
        for raw in ast.literal_eval(row["terms"]):
            if raw in arxiv:
                arxiv_terms.add(raw)
                assert arxiv.normalise(raw) == raw
            else:
                other_terms.add(raw)
    assert {"cs.CV", "cs.LG", "stat.ML", "eess.IV"} <= arxiv_terms
    for raw in other_terms:
        parts = [p.strip() for p in re.split(r"[;,]|(?<=\))\s+", raw) if p.strip()]
        assert parts and all(_NON_ARXIV_TERM.match(p) for p in parts), raw
        with pytest.raises(UnknownLabelError):
            arxiv.normalise(raw)


def test_nihr_labels_normalise(data_dir, hc, rac):
    rows = _rows(data_dir / "cats" / "hrcs_nihr" / "nihr-summary-view.csv")
    seen_hc, seen_rac = set(), set()
    for row in rows:
        for raw in row["HRCS _Health_Category"].split(","):
            if raw.strip():
                assert hc.normalise(raw) == raw.strip()
                seen_hc.add(raw.strip())
        codes = set()
        for raw in row["UKCRC_Value_RAC"].split("/"):
            if raw.strip():
                code = rac.normalise(raw)
                assert raw.strip().startswith(code + " ")
                codes.add(code)
        seen_rac |= codes
        groups = {g.split(".", 1)[0].strip() for g in row["HRCS_RAC_Category"].split("/") if g.strip()}
        assert groups == {rac.group_of(code) for code in codes}
        for group_value in row["HRCS_RAC_Category"].split("/"):
            if group_value.strip():
                number, title = group_value.split(".", 1)
                assert rac.groups[number.strip()].casefold() == title.strip().casefold()
    assert seen_hc == set(HC_CODES)
    assert len(seen_rac) > 20


def test_taxonomies_match_sources(data_dir, erc, arxiv, rac, hc):
    src = data_dir / "taxonomies"
    panels = json.loads((src / "erc_2024" / "panels.json").read_text(encoding="utf-8"))
    assert {c: erc.name_of(c) for c in erc.codes} == panels["panels"]
    assert erc.groups == panels["domains"]

    categories = json.loads((src / "arxiv" / "arxiv_taxonomy.json").read_text(encoding="utf-8"))
    assert {c for c in arxiv.codes if c not in ARXIV_LEGACY} == set(categories)
    for code, record in categories.items():
        assert arxiv.name_of(code) == record["category_name"].strip()

    rac_names = {}
    with (src / "hrcs_wellcome" / "ukhra_ra.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                rac_names.update(json.loads(line))
    assert {c: rac.name_of(c) for c in rac.codes} == {
        c: " ".join(n.split()) for c, n in rac_names.items() if "." in c
    }

    skos = json.loads((src / "hrcs_skos" / "hrcs_category.json").read_text(encoding="utf-8"))
    for record in skos["categories"]:
        assert hc.normalise(record["label"]["en"]) in HC_CODES
        assert hc.normalise(record["name"]) == hc.normalise(record["label"]["en"])
