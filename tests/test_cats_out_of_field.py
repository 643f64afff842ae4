"""The category scripts' out-of-field documents: the other corpora's records, as all-negative examples."""
import sys

import numpy

from conftest import REPO

sys.path.insert(0, str(REPO / "scripts"))

from _cats_common import out_of_field, with_out_of_field  # noqa: E402

from spacy_scicls.corpora import CategoryRecord  # noqa: E402


def records(n_arxiv, n_hrcs):
    arxiv = [CategoryRecord(f"a{i}", "arxiv_2007", f"Paper {i}", "Text.", {"arxiv": ["hep-ph"]}) for i in range(n_arxiv)]
    hrcs = [CategoryRecord(f"h{i}", "hrcs_nihr", f"Award {i}", "Text.", {"hrcs_hc": ["Stroke"]}) for i in range(n_hrcs)]
    return arxiv, hrcs


def test_out_of_field_takes_the_other_corpora_at_most_ratio_times_as_many():
    arxiv, hrcs = records(10, 4)
    picked = out_of_field(arxiv + hrcs, hrcs, ratio=1.0, seed=0)
    assert len(picked) == 4 and all(r.source == "arxiv_2007" for r in picked)
    assert [r.id for r in picked] == [r.id for r in out_of_field(arxiv + hrcs, hrcs, ratio=1.0, seed=0)]
    assert len(out_of_field(arxiv + hrcs, arxiv, ratio=1.0, seed=0)) == 4  # fewer others than allowed: all
    assert out_of_field(arxiv + hrcs, hrcs, ratio=0.0, seed=0) == []


def test_with_out_of_field_appends_all_negative_rows():
    arxiv, hrcs = records(6, 3)
    truths = numpy.ones((3, 2), dtype="float32")
    kept, y, n = with_out_of_field(arxiv + hrcs, hrcs, truths, ratio=1.0, seed=0)
    assert n == 3 and kept[:3] == hrcs and y.shape == (6, 2) and y.dtype == truths.dtype
    assert y[:3].all() and not y[3:].any()
