"""One thread count for the encoder (torch) and the heads (numpy's BLAS)."""
import pytest
import torch
from threadpoolctl import threadpool_info, threadpool_limits

from spacy_scicls.threads import restore_blas_threads, set_cpu_threads


def _blas_threads():
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


def test_set_cpu_threads_holds_torch_and_numpy_blas_to_the_count():
    import numpy  # noqa: F401  (loads the BLAS that the limit applies to)

    before = torch.get_num_threads()
    with threadpool_limits(limits=2, user_api="blas"):
        try:
            set_cpu_threads(1)
            assert torch.get_num_threads() == 1
            assert _blas_threads() == {1}
        finally:
            restore_blas_threads()
            torch.set_num_threads(before)


def test_a_thread_count_below_one_is_an_error():
    with pytest.raises(ValueError, match="at least 1"):
        set_cpu_threads(0)
