"""Byte-reproducible .docx zips: fixed timestamps and member order, template members compressed once."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass

DOS_DATE = (0 << 9) | (1 << 5) | 1  # 1980-01-01, the zip epoch: no wall-clock time in any file
DOS_TIME = 0
LEVEL = 6
FAST_LEVEL = 1  # the rendered part of each document: a third of the time of level 6, a tenth larger


@dataclass(frozen=True)
class Member:
    """One zip member, already deflated: written as-is into every document that shares it."""

    name: bytes
    crc: int
    size: int
    data: bytes  # raw deflate stream

    @classmethod
    def of(cls, name: str, content: bytes, level: int = LEVEL) -> Member:
        c = zlib.compressobj(level, zlib.DEFLATED, -15)
        return cls(name.encode("utf-8"), zlib.crc32(content), len(content), c.compress(content) + c.flush())


def pack(members: list[Member]) -> bytes:
    """A plain deflate zip, the same bytes for the same members (what zipfile writes, minus the clock)."""
    out = io.BytesIO()
    central = []
    for m in members:
        offset = out.tell()
        flags = 0x800 if not m.name.isascii() else 0
        out.write(
            struct.pack(
                "<IHHHHHIIIHH", 0x04034B50, 20, flags, 8, DOS_TIME, DOS_DATE, m.crc, len(m.data), m.size, len(m.name), 0
            )
        )
        out.write(m.name)
        out.write(m.data)
        central.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                flags,
                8,
                DOS_TIME,
                DOS_DATE,
                m.crc,
                len(m.data),
                m.size,
                len(m.name),
                0,
                0,
                0,
                0,
                0o600 << 16,
                offset,
            )
            + m.name
        )
    start = out.tell()
    for c in central:
        out.write(c)
    size = out.tell() - start
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), size, start, 0))
    return out.getvalue()


def write_zip(members: list[tuple[str, bytes]]) -> bytes:
    return pack([Member.of(n, d) for n, d in members])


def read_zip(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [(i.filename, z.read(i)) for i in z.infolist()]


def normalise_docx(data: bytes) -> bytes:
    # [Content_Types].xml first, as Word expects; the rest in python-docx's own order.
    members = read_zip(data)
    members.sort(key=lambda m: m[0] != "[Content_Types].xml")
    return write_zip(members)
