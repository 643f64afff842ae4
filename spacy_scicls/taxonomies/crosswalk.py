"""Crosswalk from arXiv categories and HRCS Health Categories to ERC panels.

No text labelled with ERC panels is available to this project, so the default
ERC head is trained on *silver* labels: the panels that the crosswalk in
``data/erc_crosswalk.json`` assigns to a document's arXiv categories or HRCS
Health Categories. For each source taxonomy the file maps codes to panels;
for arXiv a category-level entry wins over its archive's entry::

    >>> crosswalk = load_crosswalk()
    >>> crosswalk.panels("arxiv", "cs.CL"), crosswalk.panels("arxiv", "cs.RO")
    (('PE6',), ('PE7',))
    >>> silver_erc_panels({"arxiv": ["hep-ph", "astro-ph.CO"]})
    ['PE2', 'PE9']

Every code and panel in the file is checked against the taxonomies when it is
loaded, so a typo fails loudly rather than silently dropping labels.
"""
import json
from functools import lru_cache
from importlib import resources
from typing import Dict, List, Mapping, Sequence, Tuple

from . import load_taxonomy

__all__ = ["ErcCrosswalk", "load_crosswalk", "silver_erc_panels"]


class ErcCrosswalk:
    """Codes of source taxonomies -> ERC panels."""

    def __init__(self, data: Mapping) -> None:
        target = load_taxonomy(data.get("target", "erc"))
        self.target = target.name
        self._by_code: Dict[str, Dict[str, Tuple[str, ...]]] = {}
        self._by_group: Dict[str, Dict[str, Tuple[str, ...]]] = {}
        for source, entries in data["sources"].items():
            tax = load_taxonomy(source)
            groups = tax.groups

            def panels_of(key: str, panels: Sequence[str]) -> Tuple[str, ...]:
                if not panels:
                    raise ValueError(f"Crosswalk {source}: {key!r} maps to no panel")
                return tuple(target.label(p).code for p in panels)

            by_group = {}
            for group, panels in entries.get("archives", {}).items():
                if group not in groups:
                    raise ValueError(f"Crosswalk {source}: {group!r} is not a group of {source!r}")
                by_group[group] = panels_of(group, panels)
            by_code = {}
            for code, panels in entries.get("categories", {}).items():
                by_code[tax.label(code).code] = panels_of(code, panels)
            self._by_group[source] = by_group
            self._by_code[source] = by_code

    @property
    def sources(self) -> Tuple[str, ...]:
        return tuple(self._by_code)

    def panels(self, source: str, code: str) -> Tuple[str, ...]:
        """Panels of one source code (its own entry, else its group's); () if unmapped."""
        if source not in self._by_code:
            return ()
        tax = load_taxonomy(source)
        code = tax.normalise(code)
        if code in self._by_code[source]:
            return self._by_code[source][code]
        group = tax.group_of(code)
        return self._by_group[source].get(group, ()) if group is not None else ()

    def coverage(self, source: str) -> List[str]:
        """Codes of ``source`` that map to no panel."""
        return [code for code in load_taxonomy(source).codes if not self.panels(source, code)]


@lru_cache(maxsize=None)
def load_crosswalk() -> ErcCrosswalk:
    """The packaged crosswalk (``data/erc_crosswalk.json``)."""
    text = resources.files(__package__).joinpath("data").joinpath("erc_crosswalk.json").read_text(encoding="utf-8")
    return ErcCrosswalk(json.loads(text))


def silver_erc_panels(labels: Mapping[str, Sequence[str]]) -> List[str]:
    """Silver ERC panels of a document's labels (``{"arxiv": [...], "hrcs_hc": [...]}``).

    Panels come in the order of the labels they come from, so the panel of an
    arXiv paper's primary category comes first. Taxonomies without a crosswalk
    (e.g. ``hrcs_rac``) are ignored.
    """
    crosswalk = load_crosswalk()
    panels: List[str] = []
    for source, codes in labels.items():
        for code in codes:
            for panel in crosswalk.panels(source, code):
                if panel not in panels:
                    panels.append(panel)
    return panels
