"""Tar archives that the tests build in memory."""
import gzip
import io
import tarfile


def tar_bytes(members: dict, compress: bool = True) -> bytes:
    """A tar archive of ``members`` (member name -> bytes), gzipped unless ``compress`` is False."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buffer.getvalue()) if compress else buffer.getvalue()
