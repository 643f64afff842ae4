"""Training and evaluation corpora built from papers (see :mod:`.sections`)."""
