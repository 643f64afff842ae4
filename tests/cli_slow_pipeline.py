"""A blank pipeline that takes its time, for tests that stop ``scicls annotate`` mid-run.

Run as a script it is the command line (``python cli_slow_pipeline.py annotate ...``)
with the ``cli_test_slow`` component registered, so that a subprocess (and the
workers it forks) can load a pipeline saved by :func:`save_slow_pipeline`.
"""
import os
import sys
import time
from pathlib import Path

import spacy
from spacy.language import Language

#: Seconds each doc takes (set by the test through the environment, read in every process).
DELAY_ENV = "SCICLS_TEST_DELAY"


@Language.component("cli_test_slow")
def _slow(doc):
    time.sleep(float(os.environ.get(DELAY_ENV, "0")))
    if "BOOM" in doc.text:
        raise ValueError("cannot handle BOOM")
    doc.cats = {"test/len": float(len(doc)), "test/chars": float(len(doc.text))}
    return doc


def save_slow_pipeline(path: Path) -> Path:
    nlp = spacy.blank("en")
    nlp.add_pipe("cli_test_slow")
    nlp.meta["name"] = "slow_test"
    nlp.to_disk(path)
    return path


if __name__ == "__main__":
    from spacy_scicls.cli import main

    main(sys.argv[1:])
