"""A typed copy of a generated data set: the order files as a shop's typed Parquet export has them.

The generator writes every column as text, so that bad values can sit next to good ones. A shop
that exports typed Parquet has timestamps and decimals instead; its bad values are simply null.
``make_typed`` writes ``orders-N-typed/`` next to ``orders-N/``: every ``orders/*.parquet`` file
with the columns of ``ORDER_TYPES``, each value DuckDB's ``try_cast`` of the trimmed text (text that
does not parse becomes null); every other file of the data set is copied as it is. The copy is
rewritten only when the text set's ``_generator.json`` changed (or the conversion itself did).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import duckdb

TYPED_SUFFIX = "-typed"
STAMP = "_typed.json"
# Bumped when the conversion changes, so that copies written by an older one are rewritten.
TYPED_FORMAT = 1
ORDER_TYPES: dict[str, str] = {
    "order_id": "varchar",
    "customer_id": "varchar",
    "ordered_at": "timestamp",
    "amount": "decimal(18, 4)",
    "currency": "varchar",
    "status": "varchar",
    "channel": "varchar",
    "discount_amount": "decimal(18, 4)",
}


def typed_dir_for(text_dir: Path) -> Path:
    """``.../orders-N`` -> ``.../orders-N-typed``."""
    return text_dir.with_name(text_dir.name + TYPED_SUFFIX)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def typed_expression(column: str, source_type: str) -> str:
    """The typed value of one column: a text column is trimmed and try_cast; a column already of
    another type is cast the same way (a typed input stays as it is when the types match)."""
    wanted = ORDER_TYPES.get(column)
    quoted = _quote(column)
    if wanted is None:
        return quoted
    value = f"trim({quoted})" if source_type.upper() == "VARCHAR" else quoted
    if wanted == "varchar":
        return f"{value} as {quoted}" if value != quoted else quoted
    return f"try_cast({value} as {wanted}) as {quoted}"


def type_file(source: Path, target: Path, connection: duckdb.DuckDBPyConnection) -> int:
    """Write the typed copy of one order file; returns its rows."""
    reader = f"read_parquet({_literal(source.as_posix())})"
    columns = connection.execute(f"describe select * from {reader}").fetchall()
    select = ", ".join(typed_expression(name, str(data_type)) for name, data_type, *_ in columns)
    target.parent.mkdir(parents=True, exist_ok=True)
    connection.execute(f"copy (select {select} from {reader}) to {_literal(target.as_posix())} "
                       "(format parquet, compression zstd)")
    row = connection.execute(f"select count(*) from read_parquet({_literal(target.as_posix())})"
                             ).fetchone()
    return int(row[0]) if row else 0


def source_key(text_dir: Path) -> dict[str, object]:
    """What the typed copy depends on: the text set's generator manifest and the conversion."""
    manifest = (text_dir / "_generator.json").read_bytes()
    return {"generator_sha256": hashlib.sha256(manifest).hexdigest(), "typed_format": TYPED_FORMAT,
            "order_types": ORDER_TYPES}


def is_current(text_dir: Path, typed_dir: Path) -> bool:
    """True when ``typed_dir`` was written from the text set as it is now."""
    try:
        stamp = json.loads((typed_dir / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(stamp, dict) and stamp.get("source") == source_key(text_dir)


def make_typed(text_dir: Path, typed_dir: Path | None = None, *, force: bool = False) -> Path:
    """Write (or keep, when current) the typed copy of ``text_dir``; returns its folder.

    The copy is written into a folder of its own and renamed into place, so that an interrupted
    conversion never leaves a half-typed data set that looks current.
    """
    target = typed_dir or typed_dir_for(text_dir)
    if not force and is_current(text_dir, target):
        return target
    staging = target.with_name(f".{target.name}.writing-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    rows = 0
    files = 0
    with duckdb.connect() as connection:
        connection.execute("set enable_progress_bar = false")
        for path in sorted(text_dir.rglob("*")):
            relative = path.relative_to(text_dir)
            if path.is_dir() or relative.parts[0] == "orders" and relative.parts[1:2] == ("daily",):
                continue  # an appended day is not part of the data set
            destination = staging / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            if relative.parts[0] == "orders" and path.suffix == ".parquet":
                rows += type_file(path, destination, connection)
                files += 1
            else:
                shutil.copy2(path, destination)
    stamp = {"source": source_key(text_dir), "text_dir": text_dir.name, "order_files": files,
             "order_rows": rows}
    (staging / STAMP).write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


def type_appended_file(path: Path) -> None:
    """Replace a text order file (an appended day) by its typed copy, in place."""
    staging = path.with_name("_" + path.name + ".typed.tmp")
    with duckdb.connect() as connection:
        type_file(path, staging, connection)
    staging.replace(path)
