"""CPU threads for prediction: the encoder's (torch) and the heads' (numpy's BLAS).

The encoder runs in torch, whose thread pool ``torch.set_num_threads`` sizes;
the heads compute with numpy, whose BLAS (OpenBLAS in numpy's wheels) keeps a
thread pool of its own that uses every core by default. A process told to use
N threads should use N in both, or worker processes oversubscribe the cores
(and a benchmark held to one thread would time the heads on all of them).
"""
from typing import List

# Keeps the BLAS limit in force for the rest of the process.
_BLAS_LIMITS: List[object] = []


def set_cpu_threads(threads: int) -> None:
    """Use ``threads`` threads in torch and in numpy's BLAS from now on."""
    if threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}")
    import torch

    torch.set_num_threads(threads)
    limit_blas_threads(threads)


def limit_blas_threads(threads: int) -> None:
    """Hold numpy's BLAS to ``threads`` threads (through threadpoolctl)."""
    from threadpoolctl import threadpool_limits

    _BLAS_LIMITS.append(threadpool_limits(limits=threads, user_api="blas"))


def restore_blas_threads() -> None:
    """Undo :func:`limit_blas_threads` (for tests)."""
    while _BLAS_LIMITS:
        _BLAS_LIMITS.pop().restore_original_limits()
