"""Rebuild spacy_scicls/taxonomies/data/*.json from the public taxonomy sources.

    python scripts/build_taxonomies.py DATA_DIR

DATA_DIR holds taxonomies/<source>/ folders (erc_2024, erc_28_dashboard, arxiv,
hrcs_wellcome, hrcs_skos) as fetched from the repositories named in each
output file's "source". Only codes, short names and aliases are kept.
"""
import argparse
import json, os, re, unicodedata
from pathlib import Path

_parser = argparse.ArgumentParser(description="Rebuild the packaged taxonomy files.")
_parser.add_argument("data_dir", type=Path)
_parser.add_argument("--output", type=Path, default=Path(__file__).resolve().parents[1] / "spacy_scicls" / "taxonomies" / "data")
_args = _parser.parse_args()
SRC = _args.data_dir / "taxonomies"
OUT = _args.output
OUT.mkdir(parents=True, exist_ok=True)


def clean(s):
    return " ".join(unicodedata.normalize("NFKC", s).split())


def fold(s):
    s = unicodedata.normalize("NFKC", s).replace("&", " and ").replace(",", " ").casefold()
    return " ".join(s.split()).strip(" .:;")


def add_aliases(label, candidates):
    seen = {fold(label["code"]), fold(label["name"])}
    out = []
    for a in candidates:
        a = clean(a)
        if a and fold(a) not in seen:
            seen.add(fold(a))
            out.append(a)
    if out:
        label["aliases"] = out


def dump(name, obj):
    with open(OUT / f"{name}.json", "w", encoding="utf-8") as fh:
        json.dump(obj, fh, ensure_ascii=False, indent=1)
        fh.write("\n")


# ---------------------------------------------------------------- ERC
erc = json.load(open(SRC / "erc_2024/panels.json"))
dash = json.load(open(SRC / "erc_28_dashboard/erc_panels.json"))
# Only clean renames / spelling variants are aliases; SH3/SH5 pre-2024 names are left out
# because the 2024 revision moved parts of SH3 and SH5 into the new SH8.
erc_extra_aliases = {"LS3": [dash["LS3"].split(" - ", 1)[1]], "LS5": [dash["LS5"].split(" - ", 1)[1]]}
order = [f"PE{i}" for i in range(1, 12)] + [f"LS{i}" for i in range(1, 10)] + [f"SH{i}" for i in range(1, 9)]
assert sorted(order) == sorted(erc["panels"])
labels = []
for code in order:
    lab = {"code": code, "name": erc["panels"][code], "group": code[:2]}
    add_aliases(lab, erc_extra_aliases.get(code, []))
    labels.append(lab)
dump("erc", {
    "name": "erc",
    "title": "ERC evaluation panels (2024 panel structure)",
    "version": "2024",
    "source": "European Research Council panel structure for the 2024 calls (erc.europa.eu; 'Revision of ERC panel structure for the 2024 calls', March 2023). "
              "Cross-checked against github.com/scitalk/Pranoti-Website data/erc_panels.json @ d7ab648a6197a4cbce8f5bf163a598471c123686 "
              "(older LS3 title and the 'Nervous Systems' spelling of LS5 kept as aliases) and "
              "github.com/italia/daf-ontologie-vocabolari-controllati erc-panel-h2020-fp.csv @ d8596aeeb28fa0869ff9ace870b42ae45390a89f (pre-2021 structure, CC BY 4.0).",
    "license_note": "Panel codes and titles only: facts about the ERC's public panel structure. No panel descriptions or descriptors are stored.",
    "multi_label": True,
    "group_taxonomy": "erc_domain",
    "groups": erc["domains"],
    "labels": labels,
})

# ---------------------------------------------------------------- arXiv
tax = json.load(open(SRC / "arxiv/arxiv_taxonomy.json"))
# archive names and legacy bare-archive categories: arXiv/arxiv-base arxiv/taxonomy/definitions.py (MIT)
ARCHIVE_NAMES = {
    "astro-ph": "Astrophysics", "cond-mat": "Condensed Matter", "cs": "Computer Science",
    "econ": "Economics", "eess": "Electrical Engineering and Systems Science",
    "gr-qc": "General Relativity and Quantum Cosmology", "hep-ex": "High Energy Physics - Experiment",
    "hep-lat": "High Energy Physics - Lattice", "hep-ph": "High Energy Physics - Phenomenology",
    "hep-th": "High Energy Physics - Theory", "math": "Mathematics", "math-ph": "Mathematical Physics",
    "nlin": "Nonlinear Sciences", "nucl-ex": "Nuclear Experiment", "nucl-th": "Nuclear Theory",
    "physics": "Physics", "q-bio": "Quantitative Biology", "q-fin": "Quantitative Finance",
    "quant-ph": "Quantum Physics", "stat": "Statistics",
}
# LEGACY_ARCHIVE_AS_PRIMARY / _AS_SECONDARY in arxiv-base: bare archive names used as categories
LEGACY = {"astro-ph": "Astrophysics", "cond-mat": "Condensed Matter", "q-bio": "Quantitative Biology"}
# ARCHIVES_SUBSUMED in arxiv-base: defunct archives -> category that took them over
SUBSUMED = {
    "cmp-lg": "cs.CL", "adap-org": "nlin.AO", "comp-gas": "nlin.CG", "chao-dyn": "nlin.CD",
    "solv-int": "nlin.SI", "patt-sol": "nlin.PS", "alg-geom": "math.AG", "dg-ga": "math.DG",
    "funct-an": "math.FA", "q-alg": "math.QA", "mtrl-th": "cond-mat.mtrl-sci",
    "supr-con": "cond-mat.supr-con", "acc-phys": "physics.acc-ph", "ao-sci": "physics.ao-ph",
    "atom-ph": "physics.atom-ph", "bayes-an": "physics.data-an", "chem-ph": "physics.chem-ph",
    "plasm-ph": "physics.plasm-ph",
}
aliases = {}
for old, new in SUBSUMED.items():
    aliases.setdefault(new, []).append(old)
archive_groups = {}
labels = []
emitted_legacy = set()
for code, rec in tax.items():
    archive = code.split(".", 1)[0]
    assert archive in ARCHIVE_NAMES, code
    archive_groups.setdefault(archive, rec["group_name"])
    assert archive_groups[archive] == rec["group_name"], code
    if archive in LEGACY and archive not in emitted_legacy:
        labels.append({"code": archive, "name": LEGACY[archive], "group": archive, "legacy": True})
        emitted_legacy.add(archive)
    lab = {"code": code, "name": clean(rec["category_name"]), "group": archive}
    add_aliases(lab, aliases.get(code, []))
    labels.append(lab)
assert emitted_legacy == set(LEGACY)
assert set(archive_groups) == set(ARCHIVE_NAMES)
dump("arxiv", {
    "name": "arxiv",
    "title": "arXiv subject categories",
    "version": "2023-10 category list + legacy archive-level codes",
    "source": "Category codes, names and groups: github.com/FrancescoMorri/arxiv-news arxiv_taxonomy.json @ 1598d78913fb866056c1d15cbb1c3e01aa5df662 "
              "(text of arXiv's public category taxonomy page, arxiv.org/category_taxonomy). Archive names, legacy bare-archive categories "
              "(astro-ph, cond-mat, q-bio) and the defunct archives kept as aliases: github.com/arXiv/arxiv-base arxiv/taxonomy/definitions.py "
              "@ 0c701c0304f72a31a02fe7b269c73ea1782c4896 (MIT).",
    "license_note": "Codes and short names only (facts). The category descriptions of the upstream file carry no license and are NOT stored.",
    "multi_label": True,
    "group_taxonomy": "arxiv_archive",
    "groups": {a: ARCHIVE_NAMES[a] for a in archive_groups},
    "archive_groups": archive_groups,
    "labels": labels,
})

# ---------------------------------------------------------------- HRCS RAC
ra = {}
for line in open(SRC / "hrcs_wellcome/ukhra_ra.jsonl", encoding="utf-8"):
    if line.strip():
        ra.update({k: clean(v) for k, v in json.loads(line).items()})
long_map = json.load(open(SRC / "hrcs_wellcome/label_mapping_long.json"))
long_names = {}
for v in long_map.values():
    code, name = v.split(": ", 1)
    long_names[code] = clean(name)
skos = json.load(open(SRC / "hrcs_skos/hrcs_activity.json"))
# official HRCS group titles as spelled in NIHR data and in the SKOS `label.en`
groups = {}
skos_names = {}
for g in skos["categories"]:
    groups[g["cristinIdentifier"]] = clean(g["label"]["en"])
    for s in g["subcategories"]:
        code = s["cristinIdentifier"]
        nm = clean(s["name"])
        assert nm.startswith(code + " "), nm
        skos_names[code] = [nm[len(code) + 1:], clean(s["label"]["en"])]
codes = [k for k in ra if "." in k]
codes.sort(key=lambda c: tuple(int(x) for x in c.split(".")))
assert codes == [k for k in ra if "." in k], "source order is numeric"
assert len(codes) == 48 and set(groups) == {str(i) for i in range(1, 9)}
assert [ra[g] for g in sorted(groups)]  # group names exist in wellcome too
# names that only make sense with their group, e.g. "Radiotherapy" (5.5 and 6.5): drop when ambiguous
cand = {c: [long_names[c]] + skos_names[c] for c in codes}
from collections import Counter
cnt = Counter()
for c in codes:
    for a in {fold(x) for x in cand[c]} | {fold(ra[c])}:
        cnt[a] += 1
labels = []
for c in codes:
    lab = {"code": c, "name": ra[c], "group": c.split(".")[0]}
    add_aliases(lab, [a for a in cand[c] if cnt[fold(a)] == 1])
    labels.append(lab)
dump("hrcs_rac", {
    "name": "hrcs_rac",
    "title": "HRCS Research Activity Codes",
    "version": "UKCRC HRCS (48 codes in 8 groups)",
    "source": "Codes and short names: github.com/wellcometrust/grant_hrcs_tagger data/label_names/ukhra_ra.jsonl @ 1197e3fe6b8bd154a03e1f7fc58b82aac5477abe "
              "and label_mapping_long.json @ 8a0f60d33c8adc97fe8f41e9d68a3217cedbe70c (MIT). Group titles and name variants as used in "
              "NIHR open data and github.com/brinxmat/hrcs-skos src/hrcs_activity.json @ 62c893f4e8c27b78e8683c8e7e01098af9107f2d. "
              "The classification itself: UKCRC Health Research Classification System, hrcsonline.net.",
    "license_note": "Codes, short names and group titles only (facts). The HRCS inclusion criteria/guidance texts are NOT stored.",
    "multi_label": True,
    "group_taxonomy": "hrcs_rag",
    "groups": {k: groups[k] for k in sorted(groups)},
    "labels": labels,
})

# ---------------------------------------------------------------- HRCS HC
hc_order = ["Blood", "Cancer and neoplasms", "Cardiovascular", "Congenital Disorders", "Ear", "Eye", "Infection",
            "Inflammatory and Immune System", "Injuries and Accidents", "Mental Health", "Metabolic and Endocrine",
            "Musculoskeletal", "Neurological", "Oral and Gastrointestinal", "Renal and Urogenital",
            "Reproductive Health and Childbirth", "Respiratory", "Skin", "Stroke", "Generic Health Relevance",
            "Disputed aetiology and other"]
hc_map = json.load(open(SRC / "hrcs_wellcome/hc_mapping.json"))
skos_hc = json.load(open(SRC / "hrcs_skos/hrcs_category.json"))["categories"]
skos_hc.sort(key=lambda c: c["identifier"])
assert len(skos_hc) == 21
al = {c: [] for c in hc_order}
by_fold = {fold(c): c for c in hc_order}
for c, rec in zip(hc_order, skos_hc):
    # identifiers HRCS_HC_01BLO .. 21OTH follow the canonical order
    assert rec["identifier"][8:10] == f"{hc_order.index(c) + 1:02d}", (c, rec["identifier"])
    al[c] += [rec["label"]["en"], rec["name"], rec["shortName"]]
for raw, canon in hc_map.items():
    al[by_fold[fold(canon)]].append(raw)
labels = []
for c in hc_order:
    lab = {"code": c, "name": c, "group": None}
    add_aliases(lab, al[c])
    labels.append(lab)
dump("hrcs_hc", {
    "name": "hrcs_hc",
    "title": "HRCS Health Categories",
    "version": "UKCRC HRCS (21 health categories)",
    "source": "Category names as spelled in NIHR open data ('HRCS _Health_Category'); canonical order and short-name variants from "
              "github.com/brinxmat/hrcs-skos src/hrcs_category.json @ 62c893f4e8c27b78e8683c8e7e01098af9107f2d; lower-case aliases from "
              "github.com/wellcometrust/grant_hrcs_tagger src/data_processing/transforms/hc_mapping.json @ 8a0f60d33c8adc97fe8f41e9d68a3217cedbe70c (MIT). "
              "The classification itself: UKCRC Health Research Classification System, hrcsonline.net.",
    "license_note": "Category names and spelling variants only (facts). No definitions or ICD-10 mappings are stored.",
    "multi_label": True,
    "group_taxonomy": None,
    "groups": {},
    "labels": labels,
})
print("ok")
