"""Byte-reproducible .docx files: rewrite the zip with fixed timestamps and a fixed member order."""

from __future__ import annotations

import io
import zipfile

FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def write_zip(members: list[tuple[str, bytes]]) -> bytes:
    """Deflate members in the given order, each stamped with the same fixed time."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            z.writestr(info, data, compresslevel=6)
    return buf.getvalue()


def read_zip(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [(i.filename, z.read(i)) for i in z.infolist()]


def normalise_docx(data: bytes) -> bytes:
    # [Content_Types].xml first, as Word expects; the rest in python-docx's own order.
    members = read_zip(data)
    members.sort(key=lambda m: m[0] != "[Content_Types].xml")
    return write_zip(members)
