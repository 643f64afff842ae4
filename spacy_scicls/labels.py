"""The fixed label set of the section head."""

# Order matters: it is the order of the section classifier's output columns.
IMRAD_LABELS = (
    "abstract",
    "introduction",
    "related_work",
    "methods",
    "results",
    "discussion",
    "conclusion",
    "other",
)
