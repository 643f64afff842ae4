"""The heads: trainable spaCy components that read the shared transformer."""
from .doc_categories import DocCategorizer, make_doc_categorizer
from .entities import SpanEntityRecognizer, make_span_entity_recognizer
from .frozen_transformer import FrozenTransformer, make_frozen_transformer
from .sections import SectionClassifier, make_section_classifier

__all__ = [
    "SectionClassifier",
    "make_section_classifier",
    "DocCategorizer",
    "make_doc_categorizer",
    "SpanEntityRecognizer",
    "make_span_entity_recognizer",
    "FrozenTransformer",
    "make_frozen_transformer",
]
