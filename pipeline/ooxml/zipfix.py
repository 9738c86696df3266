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
DEFLATED, STORED = 8, 0


@dataclass(frozen=True)
class Member:
    """One zip member, already deflated: written as-is into every document that shares it."""

    name: bytes
    crc: int
    size: int
    data: bytes  # raw deflate stream, or the content itself when stored
    method: int = DEFLATED

    @classmethod
    def of(cls, name: str, content: bytes) -> Member:
        c = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
        return cls(name.encode("utf-8"), zlib.crc32(content), len(content), c.compress(content) + c.flush())

    @classmethod
    def stored(cls, name: str, content: bytes) -> Member:
        """Not compressed: the part rendered for every document (deflating it was a fifth of rendering, for a
        document a few kilobytes larger)."""
        return cls(name.encode("utf-8"), zlib.crc32(content), len(content), content, STORED)

    @property
    def flags(self) -> int:
        return 0x800 if not self.name.isascii() else 0  # bit 11: the name is UTF-8

    def local(self) -> bytes:
        """The local file header and the data."""
        head = struct.pack(
            "<IHHHHHIIIHH",
            0x04034B50,
            20,
            self.flags,
            self.method,
            DOS_TIME,
            DOS_DATE,
            self.crc,
            len(self.data),
            self.size,
            len(self.name),
            0,
        )
        return head + self.name + self.data

    def central(self, offset: int) -> bytes:
        """The central directory entry of the member written at offset."""
        return (
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                self.flags,
                self.method,
                DOS_TIME,
                DOS_DATE,
                self.crc,
                len(self.data),
                self.size,
                len(self.name),
                0,
                0,
                0,
                0,
                0o600 << 16,
                offset,
            )
            + self.name
        )


def pack(members: list[Member]) -> bytes:
    """A plain zip, the same bytes for the same members (what zipfile writes, minus the clock)."""
    return Frame([(m.name.decode("utf-8"), m) for m in members]).fill({})


class Frame:
    """A document's zip with its fixed members' bytes laid out once: per document only the members given to
    fill() are placed between them and the central directory is completed."""

    def __init__(self, members: list[tuple[str, Member | None]]):
        self.slots: list[tuple[str | None, bytes, Member | None]] = []  # (open slot, fixed bytes, fixed member)
        for name, m in members:
            self.slots.append((name, b"", None) if m is None else (None, m.local(), m))

    def fill(self, parts: dict[str, Member]) -> bytes:
        chunks, central, offset = [], [], 0
        for name, blob, m in self.slots:
            if name is not None:
                m = parts[name]
                blob = m.local()
            chunks.append(blob)
            central.append(m.central(offset))
            offset += len(blob)
        directory = b"".join(central)
        n = len(central)
        end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, len(directory), offset, 0)
        return b"".join(chunks) + directory + end


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
