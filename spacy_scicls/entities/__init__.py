"""Span-based entities: candidate spans, greedy decoding, and how new
entities meet entities already in ``doc.ents``."""
from .candidates import candidate_spans
from .decoding import ENTS_POLICIES, greedy_decode, merge_entities

__all__ = ["candidate_spans", "greedy_decode", "merge_entities", "ENTS_POLICIES"]
