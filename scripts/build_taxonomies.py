"""Rebuild spacy_scicls/taxonomies/data/*.json from the public taxonomy sources.

    python scripts/build_taxonomies.py DATA_DIR

DATA_DIR holds taxonomies/<source>/ folders (erc_2024, erc_28_dashboard, arxiv,
hrcs_wellcome, hrcs_skos) as fetched from the repositories named in each
output file's "source". Each label keeps its code, short name, aliases and a
description (with sub-descriptions where the source has them): ERC from the 2020
panel descriptors (CC BY 4.0) mapped to the 2024 panels, arXiv from its category
descriptions, HRCS activity codes from their inclusion criteria (MIT), HRCS health
categories from short descriptions written for this project (HC_DESCRIPTIONS).
"""
import argparse
import csv
import json
import unicodedata
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
# Descriptions: the 2020 structure's panel descriptions and descriptors (25 panels,
# CC BY 4.0), each descriptor moved to its 2024 panel. The 2021/2024 revisions split
# 2020 SH2 (politics and law -> SH2; environment, space, mobility -> new SH7), moved
# population studies from SH3 to SH7, split 2020 SH5 (texts and philosophy -> SH5;
# arts and cultural studies -> new SH8) and made materials engineering (2020 PE8_8)
# the new panel PE11. Every other panel keeps its 2020 descriptors.
italia = list(csv.DictReader(open(SRC / "erc_2020_italia/erc-panel-h2020-fp.csv", encoding="utf-8")))
MOVED = {"SH2_6": "SH7", "SH2_7": "SH7", "SH2_8": "SH7", "SH2_9": "SH7", "SH2_10": "SH7", "SH2_11": "SH7",
         "SH2_12": "SH7", "SH3_8": "SH7", "SH5_4": "SH8", "SH5_5": "SH8", "SH5_6": "SH8", "SH5_7": "SH8",
         "SH5_8": "SH8", "SH5_12": "SH8", "PE8_8": "PE11"}
# Panel descriptions for the panels the revision changed, worded from their 2020
# descriptors; the others keep the 2020 panel description.
NEW_PANEL_TEXT = {
    "PE11": "Materials engineering: biomaterials, metals, ceramics, polymers, composites and other engineered materials, their processing, properties and applications",
    "SH2": "Political science, governance, democratisation, conflict and peace, international relations, law and legal systems, human rights",
    "SH3": "Sociology, social psychology, social anthropology, education, communication, media and science and technology studies",
    "SH5": "Literature, philology, classics, theory and history of literature, philosophy, ethics and history of philosophy",
    "SH7": "Human geography, sustainability science, environment and resources, climate change and society, energy, transportation and mobility, urban, regional and rural studies, land use and planning, population dynamics",
    "SH8": "Cultural studies, visual and performing arts, film, design, music and musicology, history of art and architecture, museums, cultural heritage",
}
# Upstream typos (see the data folder's SOURCE.md) fixed in the stored text.
TYPOS = {"Biolog ": "Biology ", "Therapiesand": "Therapies and", "Biotechnology,and": "Biotechnology, and",
         "evelopment of tools": "Development of tools", "ofhuman": "of human", "behaviou ": "behaviour ",
         "economic though ": "economic thought ", "medical ethic ": "medical ethics "}


def fix(text):
    text = clean(text) + " "
    for bad, good in TYPOS.items():
        text = text.replace(bad, good)
    text = text.strip()
    return text[:1].upper() + text[1:]


panel_text = {}
descriptors = {code: [] for code in order}
for row in italia:
    old = row["codice_2_livello"]
    panel_text.setdefault(old, fix(row["definizione_2_livello_ENG"]))
    target = MOVED.get(row["codice_3_livello"], old)
    note = fix(row["definizione_3_livello_ENG"]) if clean(row["definizione_3_livello_ENG"]) else ""
    descriptors[target].append(fix(row["label_3_livello_ENG"]) + (f" ({note[:1].lower() + note[1:]})" if note else ""))
changes = {
    "PE11": "new in the 2021 revision: materials engineering, formerly descriptor PE8_8 of 2020 PE8",
    "PE8": "2020 descriptor PE8_8 (materials engineering) moved to PE11",
    "SH2": "2020 'Institutions, Values, Environment and Space': descriptors SH2_6 to SH2_12 (environment, space, mobility, planning) moved to SH7",
    "SH3": "2020 'The Social World, Diversity, Population': descriptor SH3_8 (population dynamics) moved to SH7",
    "SH5": "2020 'Cultures and Cultural Production': descriptors SH5_4 to SH5_8 and SH5_12 (arts, cultural studies, heritage) moved to SH8",
    "SH7": "new in the 2024 revision: from 2020 SH2_6 to SH2_12 and SH3_8",
    "SH8": "new in the 2024 revision: from 2020 SH5_4 to SH5_8 and SH5_12",
    "LS1-LS9, SH1, SH4, SH6, PE1-PE10": "renamed in places (names above are the 2024 ones); descriptors as in 2020",
}
labels = []
for code in order:
    lab = {"code": code, "name": erc["panels"][code], "group": code[:2]}
    add_aliases(lab, erc_extra_aliases.get(code, []))
    lab["description"] = NEW_PANEL_TEXT.get(code) or panel_text[code]
    lab["descriptors"] = descriptors[code]
    assert lab["descriptors"], code
    labels.append(lab)
dump("erc", {
    "name": "erc",
    "title": "ERC evaluation panels (2024 panel structure)",
    "version": "2024",
    "source": "European Research Council panel structure for the 2024 calls (erc.europa.eu; 'Revision of ERC panel structure for the 2024 calls', March 2023). "
              "Cross-checked against github.com/scitalk/Pranoti-Website data/erc_panels.json @ d7ab648a6197a4cbce8f5bf163a598471c123686 "
              "(older LS3 title and the 'Nervous Systems' spelling of LS5 kept as aliases) and "
              "github.com/italia/daf-ontologie-vocabolari-controllati erc-panel-h2020-fp.csv @ d8596aeeb28fa0869ff9ace870b42ae45390a89f (pre-2021 structure, CC BY 4.0). "
              "Descriptions and descriptors: that file's 2020 panel descriptions and level-3 descriptors (vocabulary by AgID, Regione Toscana, "
              "Fondazione Sistema Toscana, SIRIS Academic and Ontopic, after the ERC Panel Structure 2020), each descriptor moved to its 2024 panel "
              "as recorded in 'changes_from_2020'; the descriptions of PE11, SH2, SH3, SH5, SH7 and SH8 are worded from their descriptors.",
    "license_note": "Panel codes and titles: facts about the ERC's public panel structure. Descriptions and descriptors: CC BY 4.0 "
                    "(italia/daf-ontologie-vocabolari-controllati), adapted (moved to the 2024 panels, typos fixed).",
    "changes_from_2020": changes,
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
        # A bare archive is described by its categories' names.
        members = [clean(r["category_name"]) for c, r in tax.items() if c.split(".", 1)[0] == archive]
        labels.append({"code": archive, "name": LEGACY[archive], "group": archive, "legacy": True,
                       "description": f"{LEGACY[archive]}: " + ", ".join(members)})
        emitted_legacy.add(archive)
    lab = {"code": code, "name": clean(rec["category_name"]), "group": archive}
    add_aliases(lab, aliases.get(code, []))
    lab["description"] = clean(rec["description"])
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
    "license_note": "Codes and short names: facts. Descriptions: arXiv's own category descriptions, as published on arxiv.org/category_taxonomy "
                    "and in arXiv's taxonomy definitions (github.com/arXiv/arxiv-base, MIT); the copy used here carries no licence of its own. "
                    "The legacy bare archives are described by the names of their categories.",
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
criteria = {code.strip(): text for code, text in csv.reader(open(SRC / "hrcs_wellcome/criteria.csv", encoding="utf-8-sig"))}
assert set(criteria) == set(codes)


def inclusion(text):
    """The inclusion criteria of a criteria text: its lines after the title up to the advice, as
    (lead sentence, listed items). Exclusions are left out: they would pull a document towards the code."""
    lines = [clean(line) for line in text.splitlines()[1:]]
    kept = []
    for line in lines:
        if line.lower().startswith("advice on research activities"):
            break
        if line and line.lower() != "main inclusion criteria" and not line.lower().startswith("exclude"):
            kept.append(line.rstrip(":"))
    lead = kept[0] if kept and kept[0].lower().rstrip(" :").endswith(("including", "include", "such as")) else None
    return (lead, kept[1:]) if lead else (None, kept)


labels = []
for c in codes:
    lab = {"code": c, "name": ra[c], "group": c.split(".")[0]}
    add_aliases(lab, [a for a in cand[c] if cnt[fold(a)] == 1])
    lead, items = inclusion(criteria[c])
    context = f"{groups[lab['group']]}: {ra[c]}"
    lab["description"] = f"{context}. " + (lead + " " if lead else "") + "; ".join(items)
    lab["descriptors"] = [f"{context}: {item}" for item in items]
    labels.append(lab)
dump("hrcs_rac", {
    "name": "hrcs_rac",
    "title": "HRCS Research Activity Codes",
    "version": "UKCRC HRCS (48 codes in 8 groups)",
    "source": "Codes and short names: github.com/wellcometrust/grant_hrcs_tagger data/label_names/ukhra_ra.jsonl @ 1197e3fe6b8bd154a03e1f7fc58b82aac5477abe "
              "and label_mapping_long.json @ 8a0f60d33c8adc97fe8f41e9d68a3217cedbe70c (MIT). Descriptions: the inclusion criteria of each code "
              "(data/label_names/criteria.csv of the same repository, MIT), exclusions and advice left out, each listed item also a descriptor. Group titles and name variants as used in "
              "NIHR open data and github.com/brinxmat/hrcs-skos src/hrcs_activity.json @ 62c893f4e8c27b78e8683c8e7e01098af9107f2d. "
              "The classification itself: UKCRC Health Research Classification System, hrcsonline.net.",
    "license_note": "Codes, short names and group titles: facts. Descriptions: inclusion criteria from wellcometrust/grant_hrcs_tagger (MIT, Copyright (c) 2025 Wellcome Trust).",
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
# Short descriptions written for this project from the public scope of each category.
HC_DESCRIPTIONS = {
    "Blood": "Haematological diseases and the normal blood: anaemia, clotting and bleeding disorders, blood cells, platelets, bone marrow and blood transfusion",
    "Cancer and neoplasms": "All types of cancer and tumours, benign and malignant neoplasms, leukaemia and lymphoma, carcinogenesis, cancer screening and treatment",
    "Cardiovascular": "The heart and blood vessels: coronary heart disease, heart failure, hypertension, arrhythmia, atherosclerosis, vascular disease and cardiac surgery",
    "Congenital Disorders": "Conditions present from birth: congenital anomalies, inherited and chromosomal disorders such as Down syndrome and cystic fibrosis",
    "Ear": "Hearing and the ear: deafness and hearing loss, tinnitus, ear infections, balance disorders of the inner ear",
    "Eye": "Vision and the eye: glaucoma, cataract, macular degeneration, diabetic retinopathy, refractive errors and blindness",
    "Infection": "Infectious diseases and their agents: bacteria, viruses, fungi and parasites, HIV, tuberculosis, malaria, sepsis, antimicrobial resistance and vaccines",
    "Inflammatory and Immune System": "Rheumatoid arthritis, autoimmune diseases, connective tissue diseases, allergies, immunodeficiency and the normal immune system",
    "Injuries and Accidents": "Physical injuries, fractures, burns, poisoning, trauma, accidents, violence and self-harm injuries, and their emergency care",
    "Mental Health": "Depression, anxiety, schizophrenia, bipolar disorder, dementia care, eating disorders, addiction and substance misuse, self-harm and suicide",
    "Metabolic and Endocrine": "Diabetes, obesity, thyroid and other hormone disorders, nutritional and metabolic diseases",
    "Musculoskeletal": "Bones, joints and muscles: osteoarthritis, osteoporosis, back pain, muscular dystrophy and orthopaedics",
    "Neurological": "The brain and nervous system: dementia and Alzheimer's disease, Parkinson's disease, epilepsy, multiple sclerosis, motor neurone disease, headache and spinal cord injury",
    "Oral and Gastrointestinal": "Mouth, teeth and digestive system: dental health, inflammatory bowel disease, liver and pancreas disease, coeliac disease and digestion",
    "Renal and Urogenital": "Kidneys, bladder and urinary and male genital organs: chronic kidney disease, dialysis, incontinence and prostate disease",
    "Reproductive Health and Childbirth": "Fertility, contraception, pregnancy and its complications, childbirth, the newborn, menstruation and menopause",
    "Respiratory": "Lungs and airways: asthma, chronic obstructive pulmonary disease, cystic fibrosis lung disease, pneumonia and breathing disorders",
    "Skin": "Dermatological conditions: eczema, psoriasis, acne, wounds, ulcers and other skin diseases",
    "Stroke": "Stroke and cerebrovascular disease: ischaemic and haemorrhagic stroke, transient ischaemic attack and stroke rehabilitation",
    "Generic Health Relevance": "Research relevant to health in general rather than one disease: public health, health services, general well-being, healthy lifestyle and physical activity, research methods",
    "Disputed aetiology and other": "Conditions of disputed or unknown cause, such as chronic fatigue syndrome, fibromyalgia and Gulf War syndrome, and other conditions not covered elsewhere",
}
assert set(HC_DESCRIPTIONS) == set(hc_order)
labels = []
for c in hc_order:
    lab = {"code": c, "name": c, "group": None}
    add_aliases(lab, al[c])
    lab["description"] = HC_DESCRIPTIONS[c]
    labels.append(lab)
dump("hrcs_hc", {
    "name": "hrcs_hc",
    "title": "HRCS Health Categories",
    "version": "UKCRC HRCS (21 health categories)",
    "source": "Category names as spelled in NIHR open data ('HRCS _Health_Category'); canonical order and short-name variants from "
              "github.com/brinxmat/hrcs-skos src/hrcs_category.json @ 62c893f4e8c27b78e8683c8e7e01098af9107f2d; lower-case aliases from "
              "github.com/wellcometrust/grant_hrcs_tagger src/data_processing/transforms/hc_mapping.json @ 8a0f60d33c8adc97fe8f41e9d68a3217cedbe70c (MIT). "
              "The classification itself: UKCRC Health Research Classification System, hrcsonline.net.",
    "license_note": "Category names and spelling variants: facts. Descriptions: written for this project from the public scope of each category "
                    "(the project's licence); no HRCS definition text or ICD-10 mapping is stored.",
    "multi_label": True,
    "group_taxonomy": None,
    "groups": {},
    "labels": labels,
})
print("ok")
