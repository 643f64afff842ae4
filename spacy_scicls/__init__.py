"""spacy_scicls: spaCy components that read scientific papers.

The components (``scicls_sections``, ``scicls_doc_categories``,
``scicls_entities``, the seed-model adapters) and architectures
(``spacy_scicls.*.v1``) are declared as entry points, so that ``spacy.load``
and ``nlp.add_pipe`` find them without importing this package. The names below
are imported on first use (PEP 562): ``import spacy_scicls`` alone is cheap, so
that ``scicls --help`` does not load torch and spaCy. The first use of any of
them imports every component module, which registers the factories and installs
the Doc and Span extensions, as importing the package always did.
"""
from importlib import import_module

from .about import __version__

# public name -> module that defines it
_LAZY = {
    "DEFAULT_ENCODER": ".encoders",
    "create_transformer_model_v1": ".encoders",
    "install_extensions": ".extensions",
    "IMRAD_LABELS": ".labels",
    "DocCategorizer": ".pipeline",
    "SectionClassifier": ".pipeline",
    "SpanEntityRecognizer": ".pipeline",
    "load_taxonomy": ".taxonomies",
}

__all__ = ["__version__", *_LAZY]


def _register_all() -> None:
    """Import the component modules (factories, architectures) and install the extensions."""
    import_module(".pipeline", __name__)
    import_module(".adapters", __name__)  # the seed-model factories
    import_module(".extensions", __name__).install_extensions()


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    _register_all()
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
