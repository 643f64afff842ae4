"""Benchmarks of the spacy_scicls pipeline: run ``python benchmarks/pipeline_speed.py --help``."""
