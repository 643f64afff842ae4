"""Thinc architectures of the heads (registered as ``spacy_scicls.*.v1``).

Each head's model starts with a ``tok2vec`` sublayer, in the default configs a
``spacy-transformers.TransformerListener.v1`` that reads the vectors of the one
shared transformer component, so that no head runs an encoder of its own.
"""
from .doc_classifier import build_doc_classifier_v2
from .doc_classifier_lexical import build_doc_classifier_v5
from .section_classifier import build_section_classifier_v2, build_section_classifier_v3
from .shared_listener import build_shared_transformer_listener_v1
from .span_scorer import build_span_entity_scorer_v2

__all__ = [
    "build_doc_classifier_v2",
    "build_doc_classifier_v5",
    "build_section_classifier_v2",
    "build_section_classifier_v3",
    "build_shared_transformer_listener_v1",
    "build_span_entity_scorer_v2",
]
