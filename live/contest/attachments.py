"""Files attached to an idea: what may be attached, and where the files are kept.

An idea has at most `MAX_FILES` files of the types in `TYPES`, each at most
`FILE_MAX_BYTES` and all together at most `IDEA_MAX_BYTES`. A file's type is what its
bytes are (`check_file`), never what its name says; its name is given the type's
extension, so a PDF called "page.html" is saved by whoever downloads it as "page.pdf".

Each file is a record of kind `KIND`, key "IDEA_ID:N", holding the bytes in base64
beside the metadata (`Attachment`); the idea's list of files is one record of kind
`INDEX` (key: the idea's id), written in the same compare-and-set step as the file, so
the limits hold however many upload at once. The audit entry of a file keeps its
metadata only, never its bytes. A removed file's record keeps its metadata and loses its
bytes (the store has no delete). Files are read by key only: listing every record of
`KIND` would load every file.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import random
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import Any

from live.errors import N_, BadRequest, Conflict, NotFound, PayloadTooLarge
from live.store import Store
from live.store.base import StaleRecord
from live.store.models import RecordWrite
from live.store.timestamps import now_iso

KIND = "attachment"
INDEX = "idea-attachments"
MAX_FILES = 3
MEGABYTE = 1024 * 1024
FILE_MAX_BYTES = 5 * MEGABYTE
IDEA_MAX_BYTES = 10 * MEGABYTE
NAME_MAX = 120  # characters of a file's name, extension included
ZIP_MAX_ENTRIES = 1000  # an office document has tens; more is a zip bomb or not ours
ZIP_MAX_UNPACKED = 50 * MEGABYTE  # the sizes its entries declare, together
RETRIES = 30

ACCEPTED = N_("PDF, PNG, JPEG, Word (DOCX), Excel (XLSX) or OpenDocument text (ODT)")
_ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class FileType:
    name: str  # as stored and shown: "pdf", "docx", …
    media_type: str
    extensions: tuple[str, ...]  # the first is given to names without one of these


TYPES = {
    t.name: t
    for t in (
        FileType("pdf", "application/pdf", ("pdf",)),
        FileType("png", "image/png", ("png",)),
        FileType("jpeg", "image/jpeg", ("jpg", "jpeg")),
        FileType(
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            ("docx",),
        ),
        FileType(
            "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ("xlsx",)
        ),
        FileType("odt", _ODT_MIMETYPE.decode(), ("odt",)),
    )
}


@dataclass(frozen=True)
class Attachment:
    """A file's metadata, as the idea's list and the audit log keep it."""

    idea_id: int
    number: int  # N in the key "IDEA_ID:N"; never used twice for one idea
    name: str
    type: str  # a key of `TYPES`
    size: int  # bytes
    sha256: str  # hex

    @property
    def key(self) -> str:
        return f"{self.idea_id}:{self.number}"

    @property
    def media_type(self) -> str:
        return TYPES[self.type].media_type

    def metadata(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "size": self.size, "sha256": self.sha256}

    @classmethod
    def from_data(cls, idea_id: int, number: int, data: dict[str, Any]) -> Attachment:
        return cls(
            idea_id,
            number,
            str(data["name"]),
            str(data["type"]),
            int(data["size"]),
            str(data["sha256"]),
        )


def _not_accepted(name: str) -> BadRequest:
    return BadRequest(
        N_("%(name)s is not a file of an accepted type. Accepted types: %(types)s."),
        field="file",
        name=name,
        types=ACCEPTED,
    )


def _zip_type(content: bytes, name: str) -> FileType:
    """DOCX, XLSX or ODT by the entries of the ZIP file, read in memory and bounded: the
    entries are counted and their declared sizes summed before any is unpacked, and only
    the ODT's `mimetype` entry (a few bytes) ever is."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            entries = archive.infolist()
            if (
                len(entries) > ZIP_MAX_ENTRIES
                or sum(e.file_size for e in entries) > ZIP_MAX_UNPACKED
            ):
                raise BadRequest(
                    N_("%(name)s unpacks to more than an office document holds; it was refused."),
                    field="file",
                    name=name,
                )
            names = {e.filename: e for e in entries}
            mimetype = names.get("mimetype")
            small = mimetype is not None and mimetype.file_size <= len(_ODT_MIMETYPE) + 2
            if small and archive.read("mimetype").strip() == _ODT_MIMETYPE:
                return TYPES["odt"]
            if "[Content_Types].xml" in names:
                if "word/document.xml" in names:
                    return TYPES["docx"]
                if "xl/workbook.xml" in names:
                    return TYPES["xlsx"]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, ValueError):
        pass
    raise _not_accepted(name)


def file_type(content: bytes, name: str) -> FileType:
    """The type the bytes are, by their signature and structure; BadRequest (naming the
    accepted types) for anything else, whatever the name says."""
    if content.startswith(b"%PDF-") and b"%%EOF" in content[-4096:]:
        return TYPES["pdf"]
    if content.startswith(_PNG_SIGNATURE) and content[12:16] == b"IHDR":
        return TYPES["png"]
    if content.startswith(b"\xff\xd8\xff"):
        return TYPES["jpeg"]
    if content.startswith(b"PK\x03\x04"):
        return _zip_type(content, name)
    raise _not_accepted(name)


def base_name(filename: str) -> str:
    """The last part of a sent name (browsers on Windows once sent whole paths), without
    control characters, as a problem names the file."""
    name = unicodedata.normalize("NFC", filename.replace("\\", "/").rsplit("/", 1)[-1])
    return "".join(c for c in name if unicodedata.category(c)[0] != "C").strip(" .")[:NAME_MAX]


def clean_name(filename: str, kind: FileType) -> str:
    """The name shown and downloaded: `base_name`, at most `NAME_MAX` characters, ending
    in the type's extension."""
    name = base_name(filename)
    stem, dot, extension = name.rpartition(".")
    if not dot or extension.lower() not in kind.extensions:
        stem = name
        extension = kind.extensions[0]
    stem = (stem.strip(" .") or "vedlegg")[: NAME_MAX - len(extension) - 1]
    return f"{stem}.{extension.lower()}"


def check_file(filename: str, content: bytes, idea_id: int) -> tuple[Attachment, str]:
    """The checked file's metadata (number 0: not yet placed) and its bytes in base64.
    CPU-bound for a large file: run it on a worker thread."""
    shown = base_name(filename) or "?"
    if not content:
        raise BadRequest(N_("%(name)s is empty."), field="file", name=shown)
    if len(content) > FILE_MAX_BYTES:
        raise PayloadTooLarge(
            N_("%(name)s is %(size)s MB; a file may be at most %(limit)s MB."),
            field="file",
            name=shown,
            size=round(len(content) / MEGABYTE, 1),
            limit=FILE_MAX_BYTES // MEGABYTE,
        )
    kind = file_type(content, shown)
    found = Attachment(
        idea_id,
        0,
        clean_name(filename, kind),
        kind.name,
        len(content),
        hashlib.sha256(content).hexdigest(),
    )
    return found, base64.b64encode(content).decode("ascii")


def _index(data: dict[str, Any] | None) -> tuple[int, list[dict[str, Any]]]:
    """The last number used and the files listed (each with its "number")."""
    data = data or {}
    return int(data.get("last", 0)), list(data.get("files", []))


class Attachments:
    """The files of ideas in the store; every change is one compare-and-set step."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def list(self, idea_id: int) -> list[Attachment]:
        """The idea's files, oldest first (reads the list only, never the bytes)."""
        record = await self.store.get_record(INDEX, str(idea_id))
        _, files = _index(record.data if record else None)
        return [Attachment.from_data(idea_id, int(f["number"]), f) for f in files]

    async def add(self, idea_id: int, filename: str, content: bytes, *, actor: str) -> Attachment:
        """Check the file and attach it, within `MAX_FILES` and `IDEA_MAX_BYTES`; the
        caller has checked that the idea may change."""
        checked, encoded = await asyncio.to_thread(check_file, filename, content, idea_id)
        key = str(idea_id)
        for attempt in range(RETRIES):
            record = await self.store.get_record(INDEX, key)
            last, files = _index(record.data if record else None)
            if len(files) >= MAX_FILES:
                raise Conflict(
                    N_("An idea may have at most %(limit)s files. Remove one to add another."),
                    field="file",
                    limit=MAX_FILES,
                )
            used = sum(int(f["size"]) for f in files)
            if used + checked.size > IDEA_MAX_BYTES:
                raise PayloadTooLarge(
                    N_(
                        "The idea's files may be at most %(limit)s MB together; %(left)s MB "
                        "are left."
                    ),
                    field="file",
                    limit=IDEA_MAX_BYTES // MEGABYTE,
                    left=round((IDEA_MAX_BYTES - used) / MEGABYTE, 1),
                )
            attachment = Attachment(
                idea_id, last + 1, checked.name, checked.type, checked.size, checked.sha256
            )
            listed = {**attachment.metadata(), "number": attachment.number}
            names_before = [f["name"] for f in files]
            index = {"last": attachment.number, "files": [*files, listed]}
            writes = [
                RecordWrite(
                    INDEX,
                    key,
                    record.version if record else 0,
                    index,
                    "idea.attachments",
                    (names_before, [*names_before, checked.name]),
                ),
                RecordWrite(
                    KIND,
                    attachment.key,
                    0,
                    {**attachment.metadata(), "data": encoded},
                    "attachment.add",
                    (None, attachment.metadata()),
                ),
            ]
            try:
                await self.store.put_records(writes, actor=actor)
                return attachment
            except StaleRecord:
                await asyncio.sleep(random.random() * 0.002 * (attempt + 1))
        raise StaleRecord

    async def remove(self, idea_id: int, number: int, *, actor: str) -> Attachment:
        """Take a file off the idea's list and drop its bytes (its metadata stays on record)."""
        key = str(idea_id)
        for attempt in range(RETRIES):
            record = await self.store.get_record(INDEX, key)
            last, files = _index(record.data if record else None)
            found = next((f for f in files if int(f["number"]) == number), None)
            if record is None or found is None:
                raise NotFound(N_("There is no such file."))
            attachment = Attachment.from_data(idea_id, number, found)
            kept = [f for f in files if f is not found]
            removed = {**attachment.metadata(), "removed_at": now_iso()}
            writes = [
                RecordWrite(
                    INDEX,
                    key,
                    record.version,
                    {"last": last, "files": kept},
                    "idea.attachments",
                    ([f["name"] for f in files], [f["name"] for f in kept]),
                ),
                # Written once when added (version 1), so it is at 1 while listed.
                RecordWrite(
                    KIND,
                    attachment.key,
                    1,
                    removed,
                    "attachment.remove",
                    (attachment.metadata(), removed),
                ),
            ]
            try:
                await self.store.put_records(writes, actor=actor)
                return attachment
            except StaleRecord:
                await asyncio.sleep(random.random() * 0.002 * (attempt + 1))
        raise StaleRecord

    async def read(self, idea_id: int, number: int) -> tuple[Attachment, bytes]:
        """A listed file and its bytes; NotFound for a removed or unknown one."""
        record = await self.store.get_record(KIND, f"{idea_id}:{number}")
        if record is None or "data" not in record.data:
            raise NotFound(N_("There is no such file."))
        attachment = Attachment.from_data(idea_id, number, record.data)
        content = await asyncio.to_thread(base64.b64decode, record.data["data"])
        return attachment, content
