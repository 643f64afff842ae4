"""The published seed models as spaCy components, loaded by hub name.

- ``scicls_hf_doc_categories``: any Hugging Face sequence classifier (the ERC,
  arXiv and HRCS seeds) writing ``doc.cats`` and decisions like
  ``scicls_doc_categories``;
- ``scicls_hf_sections``: a section classifier (the IMRaD seed) labelling the
  sections in ``doc.spans["sections"]`` like ``scicls_sections``;
- ``scicls_span_marker_entities``: any SpanMarker model (the CliReNER seed)
  writing ``doc.ents`` like ``scicls_entities``.

Importing this package registers the three factories.
"""
from .hf_categories import HFDocCategorizer, make_hf_doc_categorizer
from .hf_sections import HFSectionClassifier, make_hf_section_classifier
from .loading import ModelLoadError
from .span_marker_entities import SpanMarkerEntities, make_span_marker_entities

__all__ = [
    "HFDocCategorizer",
    "HFSectionClassifier",
    "ModelLoadError",
    "SpanMarkerEntities",
    "make_hf_doc_categorizer",
    "make_hf_section_classifier",
    "make_span_marker_entities",
]
