"""Helpers to make training data for the heads."""
from .gold import gold_doc

__all__ = ["gold_doc"]
