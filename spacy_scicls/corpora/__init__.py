"""Readers that turn public corpora into gold ``Doc`` objects."""
