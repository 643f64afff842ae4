"""``python -m spacy_scicls annotate ...``: the same as the ``scicls`` command."""
from .cli import main

if __name__ == "__main__":
    main()
