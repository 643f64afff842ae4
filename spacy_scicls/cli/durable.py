"""Making a rename or a new file survive a power cut (no spaCy here: the command's help imports it)."""
import os
from pathlib import Path


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries (a rename into it, a new file) to disk, where the platform allows it."""
    try:
        fd = os.open(str(path), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def replace_atomically(path: Path, data: bytes, tmp: Path) -> None:
    """Write ``data`` to ``tmp``, flush it to disk and rename it onto ``path``: readers see the old
    file or the whole new one. On an error the partial ``tmp`` is removed and the error raised."""
    try:
        with tmp.open("wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except OSError:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise
    fsync_dir(path.parent)
