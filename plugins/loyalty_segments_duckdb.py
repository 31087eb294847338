"""dbt-duckdb plugin of the project (profiles/profiles.yml): SQL functions the DuckDB build needs
that DuckDB itself lacks.

``loyalty_transcode_to_utf8(path, encoding)`` returns the path of a UTF-8 copy of an input file
written in latin-1, cp1252 or UTF-16. DuckDB's own latin-1 reader refuses bytes 0x80-0x9f, which
Windows-1252 uses for the euro sign, typographic quotes and dashes, and its UTF-16 reader knows
only little-endian; such files are decoded here, with Python's codecs (UTF-16 by its byte-order
mark, or big-endian when the first byte is NUL and the second is not), into a cache next to the
working database. The copy keeps
every line where it was, so row numbers and line numbers in messages are the original file's.
A copy is made again only when the file's size, modification time or encoding change.

``loyalty_gzip_is_complete(path)`` tells whether a gzip file decompresses to its end: DuckDB reads
a file cut short without an error, up to the cut.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import os
import tempfile
import zlib
from pathlib import Path

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

CHUNK_BYTES = 16 * 1024 * 1024
ENCODINGS = {"latin-1": "latin-1", "cp1252": "cp1252", "utf-16": "utf-16"}


def _undefined_as_latin1(error: UnicodeDecodeError) -> tuple[str, int]:
    # cp1252 leaves 0x81, 0x8d, 0x8f, 0x90 and 0x9d undefined; Windows reads them as the C1
    # control characters of the same code, and so does this
    return "".join(chr(byte) for byte in error.object[error.start:error.end]), error.end


codecs.register_error("loyalty_undefined_as_latin1", _undefined_as_latin1)


def transcode(path: str, encoding: str, cache_dir: Path) -> str:
    """The path of the UTF-8 copy of ``path`` (read as ``encoding``), made when missing."""
    codec = ENCODINGS[encoding]
    source = Path(path)
    stat = source.stat()
    name_key = hashlib.md5(str(source.resolve()).encode()).hexdigest()[:16]
    state_key = hashlib.md5(f"{stat.st_size}|{stat.st_mtime_ns}|{codec}".encode()).hexdigest()[:16]
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_dir / f"{name_key}-{state_key}.csv"
    if target.exists():
        return str(target)
    partial = cache_dir / f".{target.name}.{os.getpid()}.partial"
    opener = gzip.open if source.name.lower().endswith(".gz") else open
    if codec == "utf-16":
        with opener(source, "rb") as reader:
            start = reader.read(2)
        if start not in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            codec = "utf-16-be" if len(start) == 2 and start[0] == 0 and start[1] != 0 else "utf-16-le"
    # a UTF-16 file that does not decode is damaged: the error names the position
    errors = "strict" if codec.startswith("utf-16") else "loyalty_undefined_as_latin1"
    decoder = codecs.getincrementaldecoder(codec)(errors=errors)
    with opener(source, "rb") as reader, open(partial, "wb") as writer:
        while chunk := reader.read(CHUNK_BYTES):
            writer.write(decoder.decode(chunk).encode("utf-8"))
        writer.write(decoder.decode(b"", final=True).encode("utf-8"))
    os.replace(partial, target)
    for stale in cache_dir.glob(f"{name_key}-*.csv"):
        if stale != target:
            stale.unlink(missing_ok=True)
    return str(target)


def gzip_is_complete(path: str) -> bool:
    """Whether a gzip file decompresses to its end (a file cut short raises EOFError)."""
    try:
        with gzip.open(path, "rb") as reader:
            while reader.read(CHUNK_BYTES):
                pass
    except (EOFError, gzip.BadGzipFile, zlib.error):
        return False
    return True


class Plugin(BasePlugin):
    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        database = getattr(self.creds, "path", None) or ":memory:"
        if database == ":memory:" or database.startswith("md:"):
            cache_dir = Path(tempfile.gettempdir()) / "loyalty-segments-transcoded"
        else:
            cache_dir = Path(database).resolve().parent / ".transcoded"
        conn.create_function(
            "loyalty_transcode_to_utf8",
            lambda path, encoding: transcode(path, encoding, cache_dir),
            ["VARCHAR", "VARCHAR"],
            "VARCHAR",
            side_effects=True,
        )
        conn.create_function(
            "loyalty_gzip_is_complete", gzip_is_complete, ["VARCHAR"], "BOOLEAN", side_effects=True,
        )
