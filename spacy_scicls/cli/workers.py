"""Worker processes that die with the run that started them.

``nlp.pipe(..., n_process=N)`` forks its workers. A run that is killed (kill -9,
or SIGTERM, whose default action skips every ``finally``) would leave them
running, each holding a copy of the pipeline. While :func:`tied_workers` is
active, every process forked from this one:

- asks the kernel (Linux ``PR_SET_PDEATHSIG``) for SIGKILL when its parent dies,
  and, where that is not available, watches its parent's pid from a thread;
- ignores SIGINT: Ctrl-C reaches the whole process group, and the parent,
  which handles it, stops its workers itself.

and the parent, on SIGINT or SIGTERM, first stops the workers it started (so
that nothing waits for a worker to finish its batch), then raises
``KeyboardInterrupt`` or :class:`Terminated`, so that its clean-up (writing
what it has) runs.
"""
import contextlib
import ctypes
import ctypes.util
import multiprocessing
import os
import signal
import threading
import time
from typing import Iterator, Optional

PR_SET_PDEATHSIG = 1

_parent_pid: Optional[int] = None  # set while workers are to be tied to this process
_hook_registered = False


class Terminated(BaseException):
    """The run got SIGTERM (a BaseException, as KeyboardInterrupt: no handler of errors catches it)."""


def _set_parent_death_signal() -> bool:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent: int) -> None:
    while True:
        if os.getppid() != parent:
            os._exit(1)
        time.sleep(0.5)


def _after_fork_in_child() -> None:
    parent = _parent_pid
    if parent is None:
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if not _set_parent_death_signal():
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # the parent died before the kernel was asked
        os._exit(1)


def _stopper(started_before: set):
    def stop(signum, frame) -> None:
        for process in set(multiprocessing.active_children()) - started_before:
            try:
                process.kill()
            except (OSError, ValueError):  # already gone
                pass
        raise (KeyboardInterrupt if signum == signal.SIGINT else Terminated)()

    return stop


@contextlib.contextmanager
def tied_workers() -> Iterator[None]:
    """Within the block, forked workers die with this process, and SIGTERM raises :class:`Terminated`."""
    global _parent_pid, _hook_registered
    if not _hook_registered and hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork_in_child)
        _hook_registered = True
    previous_pid = _parent_pid
    _parent_pid = os.getpid()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        stop = _stopper(set(multiprocessing.active_children()))
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, stop)
    try:
        yield
    finally:
        _parent_pid = previous_pid
        for signum, handler in previous.items():
            signal.signal(signum, handler)
