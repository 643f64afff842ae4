"""The input formats that ``scicls annotate`` reads (kept apart from the readers, which need spaCy,
so that the command's help is built without importing spaCy)."""

#: Formats of one paper per file.
PAPER_FORMATS = ("text", "markdown", "jats", "tei", "s2orc", "unarxive", "pdf", "latex", "html")
#: Formats of many records per file.
RECORD_FORMATS = ("jsonl", "csv", "parquet")
INPUT_FORMATS = PAPER_FORMATS + RECORD_FORMATS
