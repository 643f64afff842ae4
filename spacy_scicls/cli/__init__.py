"""The ``scicls`` command line (``python -m spacy_scicls``): ``scicls annotate INPUT... --output OUT``.

``DEFAULT_MODEL`` is the pipeline that ``--model`` defaults to: the one place
that names it.
"""
#: Name of the default pipeline package that ``scicls annotate`` loads when no --model is given.
DEFAULT_MODEL = "en_scicls_default"

from .app import app, main, run_annotate  # noqa: E402

__all__ = ["DEFAULT_MODEL", "app", "main", "run_annotate"]
