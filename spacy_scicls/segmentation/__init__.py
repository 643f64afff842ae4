"""Finding section boundaries and headings in a document's text."""
from .segments import Segment, segments_from_spans
from .rule_based import RuleBasedSegmenter, find_heading_lines, make_rule_based_segmenter_v1
from .lines import HeadingLineModel, LineModelSegmenter, heading_spans, make_line_model_segmenter_v1

__all__ = [
    "Segment",
    "segments_from_spans",
    "RuleBasedSegmenter",
    "find_heading_lines",
    "make_rule_based_segmenter_v1",
    "HeadingLineModel",
    "LineModelSegmenter",
    "heading_spans",
    "make_line_model_segmenter_v1",
]
