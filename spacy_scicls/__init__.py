"""spacy_scicls: spaCy components that read scientific papers.

Importing the package registers its components (``scicls_sections``,
``scicls_doc_categories``, ``scicls_entities``) and architectures
(``spacy_scicls.*.v1``); the same are declared as entry points, so that
``spacy.load`` finds them without this import.
"""
from .about import __version__
from .encoders import DEFAULT_ENCODER, create_transformer_model_v1
from .extensions import install_extensions
from .labels import IMRAD_LABELS
from .pipeline import DocCategorizer, SectionClassifier, SpanEntityRecognizer
from .taxonomies import load_taxonomy
from . import adapters  # noqa: F401,E402 (registers the seed-model factories)

install_extensions()

__all__ = [
    "__version__",
    "DEFAULT_ENCODER",
    "IMRAD_LABELS",
    "DocCategorizer",
    "SectionClassifier",
    "SpanEntityRecognizer",
    "create_transformer_model_v1",
    "install_extensions",
    "load_taxonomy",
]
