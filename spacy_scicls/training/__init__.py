"""Helpers to make training data for the heads."""
from .gold import examples_from_annotations, gold_doc

__all__ = ["examples_from_annotations", "gold_doc"]
