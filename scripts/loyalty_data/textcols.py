"""Fast conversion of numpy arrays to Arrow string columns.

All output columns are text, so that deliberately bad values can sit next to good ones. Building
millions of Python strings would dominate the run time; these helpers write the ASCII bytes with
numpy and wrap them in an Arrow string array without a Python-level loop.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SECONDS_PER_DAY = 86_400


def _digits(out: np.ndarray, first_col: int, values: np.ndarray, width: int) -> None:
    """Write `values` (non-negative ints) zero-padded into columns first_col..first_col+width-1."""
    v = values.astype(np.int64, copy=True)
    for col in range(first_col + width - 1, first_col - 1, -1):
        out[:, col] = 48 + (v % 10)
        v //= 10


def _from_fixed(matrix: np.ndarray, present: np.ndarray | None = None) -> pa.Array:
    """Arrow string array from an (n, width) uint8 matrix; rows not `present` become ''."""
    n, width = matrix.shape
    if present is None:
        offsets = np.arange(0, (n + 1) * width, width, dtype=np.int64)
        data = matrix.reshape(-1)
    else:
        lengths = np.where(present, width, 0)
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        data = matrix[present].reshape(-1)
    if offsets[-1] >= 2**31:
        raise ValueError("string column chunk too large; use smaller chunks")
    return pa.Array.from_buffers(
        pa.string(),
        n,
        [
            None,
            pa.py_buffer(offsets.astype(np.int32)),
            pa.py_buffer(np.ascontiguousarray(data)),
        ],
    )


def ids(
    prefix: str, numbers: np.ndarray, width: int, present: np.ndarray | None = None
) -> pa.Array:
    """'<prefix><number zero-padded to width>' per row, '' where not present."""
    pre = prefix.encode("ascii")
    matrix = np.empty((len(numbers), len(pre) + width), dtype=np.uint8)
    matrix[:, : len(pre)] = np.frombuffer(pre, dtype=np.uint8)
    _digits(matrix, len(pre), numbers, width)
    return _from_fixed(matrix, present)


def civil(seconds: np.ndarray) -> tuple[np.ndarray, ...]:
    """(year, month, day, hour, minute, second) arrays of epoch seconds (UTC)."""
    days = np.floor_divide(seconds, SECONDS_PER_DAY)
    sod = seconds - days * SECONDS_PER_DAY
    d64 = days.astype("datetime64[D]")
    months = d64.astype("datetime64[M]")
    year = d64.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (d64 - months.astype("datetime64[D]")).astype(np.int64) + 1
    return year, month, day, sod // 3600, sod // 60 % 60, sod % 60


def timestamps(seconds: np.ndarray, year_override: int | None = None) -> pa.Array:
    """'YYYY-MM-DD HH:MM:SS' per epoch second. `year_override` replaces the year (29 Feb -> 28)."""
    year, month, day, hour, minute, second = civil(seconds)
    if year_override is not None:
        year = np.full_like(year, year_override)
        day = np.where((month == 2) & (day == 29), 28, day)
    matrix = np.empty((len(seconds), 19), dtype=np.uint8)
    _digits(matrix, 0, year, 4)
    matrix[:, 4] = ord("-")
    _digits(matrix, 5, month, 2)
    matrix[:, 7] = ord("-")
    _digits(matrix, 8, day, 2)
    matrix[:, 10] = ord(" ")
    _digits(matrix, 11, hour, 2)
    matrix[:, 13] = ord(":")
    _digits(matrix, 14, minute, 2)
    matrix[:, 16] = ord(":")
    _digits(matrix, 17, second, 2)
    return _from_fixed(matrix)


def money(cents: np.ndarray) -> pa.Array:
    """Amounts in currency units with exactly two decimals ('12.50', '-3.00', '0.00')."""
    cents = np.ascontiguousarray(cents, dtype=np.int64)
    words = np.empty((len(cents), 2), dtype=np.int64)  # little-endian 128-bit integers
    words[:, 0] = cents
    words[:, 1] = cents >> 63
    dec = pa.Array.from_buffers(
        pa.decimal128(20, 2), len(cents), [None, pa.py_buffer(words)]
    )
    return pc.cast(dec, pa.string())


def integers(values: np.ndarray) -> pa.Array:
    """Plain integer text ('3', '-1')."""
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())


def vocab(words: Sequence[str], codes: np.ndarray) -> pa.Array:
    """words[code] per row."""
    return pa.array(list(words), type=pa.string()).take(
        pa.array(np.asarray(codes, dtype=np.int32))
    )


def replace(column: pa.Array, rows: np.ndarray, values: Sequence[str]) -> pa.Array:
    """Copy of `column` with column[rows[i]] = values[i] (rows need not be sorted)."""
    if len(rows) == 0:
        return column
    order = np.argsort(rows, kind="stable")
    mask = np.zeros(len(column), dtype=bool)
    mask[rows] = True
    ordered = [values[i] for i in order]
    return pc.replace_with_mask(
        column, pa.array(mask), pa.array(ordered, type=pa.string())
    )
