"""Documents from outside the category heads' training data, for scripts/evaluate_categories.py.

Each set is read from the data folder as (id, title + abstract text, what is known about it):

- ``climate``: the ClimateIE papers (``papers/climateie``): climate-science papers, so their
  ERC panel is PE10 (Earth System Science) and their arXiv field an earth-science category;
- ``plos``: the PLOS articles (``papers/plos_jats``), with the ERC domains that their PLOS
  top-level disciplines map to (``PLOS_DOMAINS``; a proxy for their ERC domain);
- ``unarxive``: the unarXive papers (``papers/unarxive``), with their arXiv categories and the
  silver ERC panels of those categories (the crosswalk the ERC head is trained on);
- ``awards``: the NIHR awards of the test split (``cats/hrcs_nihr``).

None of these documents is in any head's training data. Only titles and abstracts are kept:
that is what the heads read.
"""
import glob
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

from spacy_scicls.readers._safe_xml import parse_xml
from spacy_scicls.taxonomies import load_taxonomy
from spacy_scicls.taxonomies.crosswalk import silver_erc_panels

# PLOS top-level disciplines (Discipline-v3 subject groups) -> ERC domains. Disciplines that
# name no field ("Research and analysis methods", "People and places") are left out.
PLOS_DOMAINS = {
    "Biology": "LS", "Biology and life sciences": "LS", "Medicine": "LS", "Medicine and health sciences": "LS",
    "Veterinary science": "LS", "Agriculture": "LS", "Physical sciences": "PE", "Earth sciences": "PE",
    "Computer and information sciences": "PE", "Computer science": "PE", "Mathematics": "PE", "Physics": "PE",
    "Engineering and technology": "PE", "Chemistry": "PE", "Social sciences": "SH",
    "Social and behavioral sciences": "SH",
}
EARTH_SCIENCE_ARXIV = ("physics.ao-ph", "physics.geo-ph")
PHYSICS_ARCHIVES = ("astro-ph", "cond-mat", "gr-qc", "hep-ex", "hep-lat", "hep-ph", "hep-th", "math-ph",
                    "nlin", "nucl-ex", "nucl-th", "physics", "quant-ph")
MAX_WORDS = 400


@dataclass
class OutsideDoc:
    id: str
    text: str
    known: Dict[str, List[str]] = field(default_factory=dict)


def _short(text: str) -> str:
    words = " ".join(text.split()).split(" ")
    return " ".join(words[:MAX_WORDS])


def read_climate(data: Path) -> List[OutsideDoc]:
    """The abstract of each ClimateIE paper (the text under its first heading)."""
    docs = []
    for path in sorted(glob.glob(str(data / "papers" / "climateie" / "human_corpus" / "*.json"))):
        text = json.loads(Path(path).read_text(encoding="utf-8"))["text"]
        parts = [p for p in re.split(r"<heading>[^<]*</heading>", text) if p.strip()]
        docs.append(OutsideDoc(f"climate:{Path(path).stem}", _short(parts[0] if parts else text),
                               {"erc": ["PE10"], "arxiv": list(EARTH_SCIENCE_ARXIV)}))
    return docs


def _text_of(element) -> str:
    return " ".join("".join(element.itertext()).split()) if element is not None else ""


def read_plos(data: Path) -> List[OutsideDoc]:
    """Title and abstract of each PLOS article, with the ERC domains of its disciplines."""
    docs = []
    for path in sorted(glob.glob(str(data / "papers" / "plos_jats" / "**" / "*.xml"), recursive=True)):
        root = parse_xml(Path(path).read_bytes())
        title = _text_of(next(root.iter("article-title"), None))
        abstract = _text_of(next(root.iter("abstract"), None))
        domains = set()
        for group in root.iter("subj-group"):
            if (group.get("subj-group-type") or "").startswith("Discipline"):
                subject = _text_of(next(iter(group.findall("subject")), None))
                if subject in PLOS_DOMAINS:
                    domains.add(PLOS_DOMAINS[subject])
        if title or abstract:
            docs.append(OutsideDoc(f"plos:{Path(path).stem}", _short(f"{title}\n\n{abstract}"),
                                   {"erc_domain": sorted(domains)}))
    return docs


def read_unarxive(data: Path) -> List[OutsideDoc]:
    """Title and abstract of each unarXive paper, its arXiv categories and their silver ERC panels."""
    arxiv = load_taxonomy("arxiv")
    docs = []
    for path in sorted(glob.glob(str(data / "papers" / "unarxive" / "*.jsonl"))):
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            meta = json.loads(line)["metadata"]
            codes = []
            for raw in meta.get("categories", "").split():
                try:
                    codes.append(arxiv.normalise(raw))
                except ValueError:
                    pass  # a category the taxonomy does not know (e.g. MSC classes) is left out
            known = {"arxiv": codes, "erc": silver_erc_panels({"arxiv": codes})}
            docs.append(OutsideDoc(f"unarxive:{meta['id']}", _short(f"{meta['title']}\n\n{meta['abstract']}"), known))
    return docs


def read_awards(test_records) -> List[OutsideDoc]:
    return [OutsideDoc(r.id, r.text, dict(r.labels)) for r in test_records if r.source == "hrcs_nihr"]


def outside_sets(data: Path, test_records) -> Dict[str, List[OutsideDoc]]:
    return {"climate": read_climate(data), "plos": read_plos(data), "unarxive": read_unarxive(data),
            "awards": read_awards(test_records)}


def is_physics(doc: OutsideDoc) -> bool:
    return any(code.split(".")[0] in PHYSICS_ARCHIVES for code in doc.known.get("arxiv", []))


def summarise(decided: Sequence[Sequence[str]], top: int = 4) -> Tuple[float, str]:
    """Share of docs with any decided label, and the most frequent decided labels."""
    from collections import Counter

    counts = Counter(code for labels in decided for code in labels)
    share = sum(1 for labels in decided if labels) / max(len(decided), 1)
    return share, ", ".join(f"{code} {n}" for code, n in counts.most_common(top))
