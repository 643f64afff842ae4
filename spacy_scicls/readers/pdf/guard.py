"""A decompression bomb is refused before PDFium parses the file.

PDFium inflates a page's content streams whole when it reads the page, so a
few kilobytes that inflate to gigabytes would take that memory and time
before any limit of the reader could act. Every Flate-compressed stream of
the file is inflated here first, in pieces and without keeping the output,
and a file with a stream that grows beyond ``max_bytes`` is refused. The
cost is one pass of zlib over the file's streams (a few milliseconds per
megabyte).
"""
import re
import zlib

from .extract import PdfError

_STREAM = re.compile(rb"stream\r?\n")
_CHUNK = 1 << 16


def check_streams(data: bytes, max_bytes: int) -> None:
    """Raise :class:`PdfError` when a compressed stream of ``data`` inflates beyond ``max_bytes``."""
    for match in _STREAM.finditer(data):
        start = match.end()
        header = data[start:start + 2]
        if len(header) < 2 or header[0] & 0x0F != 8 or ((header[0] << 8) | header[1]) % 31:
            continue  # no zlib header: another filter, or not a stream at all
        inflater = zlib.decompressobj()
        produced = 0
        position = start
        try:
            while position < len(data):
                chunk = data[position:position + _CHUNK]
                position += len(chunk)
                out = inflater.decompress(chunk, _CHUNK)
                produced += len(out)
                while inflater.unconsumed_tail and not inflater.eof and produced <= max_bytes:
                    out = inflater.decompress(inflater.unconsumed_tail, _CHUNK)
                    if not out:
                        break
                    produced += len(out)
                if produced > max_bytes:
                    raise PdfError(f"decompression bomb: a stream inflates beyond {max_bytes:,} bytes; refused")
                if inflater.eof:
                    break
        except zlib.error:
            continue  # not zlib data after all; PDFium decides
