"""One writer per output: an exclusive lock on ``<output>.lock``.

The lock is ``flock`` on an open file, so the kernel drops it when its
holder dies, however it dies (kill -9 included): a lock file left behind is
never stale, the next run takes it. The file holds the holder's pid, for the
message that another run gets. The holder removes the file when it is done;
a run that opened the file just before it was removed finds, once it holds
the lock, that its file is no longer the one at the path, and tries again.
"""
import errno
import os
from pathlib import Path
from typing import Optional

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

SUFFIX = ".lock"


class OutputLocked(RuntimeError):
    """Another run holds the output."""


def lock_path(output: Path) -> Path:
    output = Path(output)
    return output.with_name(output.name + SUFFIX)


class OutputLock:
    """``with OutputLock(output):`` holds ``<output>.lock`` exclusively, or raises :class:`OutputLocked`.

    Creating the lock file is also the first write into the output's folder, so
    a folder that cannot be written is found here (``PermissionError``), before
    a pipeline is loaded.
    """

    def __init__(self, output: Path):
        self.output = Path(output)
        self.path = lock_path(self.output)
        self._fd: Optional[int] = None

    def acquire(self) -> "OutputLock":
        while True:
            fd = os.open(str(self.path), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                self._lock(fd)
            except BaseException:
                os.close(fd)
                raise
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(str(self.path)))
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)  # removed (or replaced) by the last holder after we opened it: again
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        self._fd = fd
        return self

    def _lock(self, fd: int) -> None:
        if fcntl is None:  # pragma: no cover
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            if err.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            holder = ""
            try:
                holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            except OSError:
                pass
            raise OutputLocked(
                f"{self.output} is being written by another run"
                + (f" (process {holder})" if holder.isdigit() else "")
                + f": wait for it to end, or stop it (then --resume). {self.path.name} holds the lock."
            ) from None

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.unlink(str(self.path))  # still ours: we hold the lock on it
        except OSError:
            pass
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> "OutputLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
