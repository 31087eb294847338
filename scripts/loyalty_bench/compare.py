"""Compare the mart tables of two DuckDB databases (a nightly refresh and a full rebuild), and a
peer's per-customer RFM table with the floor's."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

MARTS_SCHEMA = "marts"
# Doubles (averages, shares) are compared at this many significant digits: summing in another
# order changes the last bits of a double without changing the figure.
FLOAT_DIGITS = 12
_FLOAT_TYPES = ("DOUBLE", "FLOAT", "REAL")


@dataclass(frozen=True)
class TableComparison:
    """One table: rows on each side and rows found on one side only (EXCEPT ALL both ways)."""

    name: str
    left_rows: int | None
    right_rows: int | None
    only_left: int | None
    only_right: int | None
    note: str = ""

    @property
    def identical(self) -> bool:
        return (
            not self.note
            and self.left_rows == self.right_rows
            and self.only_left == 0
            and self.only_right == 0
        )


@dataclass(frozen=True)
class MartComparison:
    tables: list[TableComparison] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return bool(self.tables) and all(t.identical for t in self.tables)

    def differences(self) -> list[str]:
        """One line per table that differs."""
        lines = []
        for t in self.tables:
            if t.identical:
                continue
            detail = t.note or (
                f"rows {t.left_rows} vs {t.right_rows}, {t.only_left} only in the first, "
                f"{t.only_right} only in the second"
            )
            lines.append(f"{t.name}: {detail}")
        return lines


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _columns(connection: duckdb.DuckDBPyConnection, catalog: str, schema: str, table: str
             ) -> list[tuple[str, str]]:
    return connection.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = ? and table_schema = ? and table_name = ? order by ordinal_position",
        [catalog, schema, table],
    ).fetchall()


def _tables(connection: duckdb.DuckDBPyConnection, catalog: str, schema: str) -> set[str]:
    rows = connection.execute(
        "select table_name from information_schema.tables "
        "where table_catalog = ? and table_schema = ?",
        [catalog, schema],
    ).fetchall()
    return {row[0] for row in rows}


def _select_list(columns: list[tuple[str, str]], float_digits: int) -> str:
    parts = []
    for name, data_type in columns:
        quoted = _quote(name)
        if data_type.upper() in _FLOAT_TYPES:
            parts.append(f"printf('%.{float_digits - 1}e', {quoted}) as {quoted}")
        else:
            parts.append(quoted)
    return ", ".join(parts)


def compare_marts(
    left: Path,
    right: Path,
    *,
    schema: str = MARTS_SCHEMA,
    memory_limit: str | None = None,
    float_digits: int = FLOAT_DIGITS,
) -> MartComparison:
    """Compare every table of ``schema`` in two database files, opened read-only.

    A table is identical when it exists on both sides with the same columns and types, the same
    row count, and ``EXCEPT ALL`` is empty both ways. Doubles are compared at ``float_digits``
    significant digits.
    """
    results: list[TableComparison] = []
    with duckdb.connect() as connection:
        connection.execute("set enable_progress_bar = false")
        if memory_limit:
            connection.execute(f"set memory_limit = '{memory_limit}'")
        connection.execute(f"attach '{_escape(left)}' as lhs (read_only)")
        connection.execute(f"attach '{_escape(right)}' as rhs (read_only)")
        left_tables = _tables(connection, "lhs", schema)
        right_tables = _tables(connection, "rhs", schema)
        for name in sorted(left_tables | right_tables):
            if name not in right_tables or name not in left_tables:
                side = "second" if name not in right_tables else "first"
                results.append(TableComparison(name, None, None, None, None, f"missing in the {side}"))
                continue
            left_columns = _columns(connection, "lhs", schema, name)
            right_columns = _columns(connection, "rhs", schema, name)
            if left_columns != right_columns:
                results.append(
                    TableComparison(name, None, None, None, None, "columns or types differ")
                )
                continue
            select = _select_list(left_columns, float_digits)
            lhs = f"lhs.{_quote(schema)}.{_quote(name)}"
            rhs = f"rhs.{_quote(schema)}.{_quote(name)}"
            row = connection.execute(
                f"""
                select
                    (select count(*) from {lhs}),
                    (select count(*) from {rhs}),
                    (select count(*) from (select {select} from {lhs}
                                           except all select {select} from {rhs})),
                    (select count(*) from (select {select} from {rhs}
                                           except all select {select} from {lhs}))
                """
            ).fetchone()
            assert row is not None
            results.append(TableComparison(name, *(int(v) for v in row)))
    return MartComparison(results)


def _escape(path: Path) -> str:
    return str(path).replace("'", "''")


# --- a peer's RFM table against the floor's ---------------------------------------------------

RFM_SCORES = ("r_score", "f_score", "m_score")
RFM_MEASURES = ("recency_days", "frequency", "monetary")
# Monetary sums are compared to the amounts' 4 decimals: a peer summing in float64 rounds there.
MONETARY_TOLERANCE = 0.00005


@dataclass(frozen=True)
class RfmAgreement:
    """A peer's per-customer table against the floor's: customers on one side only, and among the
    customers on both sides how many differ in each score and each measure."""

    floor_customers: int
    peer_customers: int
    peer_distinct_customers: int
    only_floor: int
    only_peer: int
    scores_differ: dict[str, int]
    measures_differ: dict[str, int]

    @property
    def same_customers(self) -> bool:
        return (self.only_floor == 0 and self.only_peer == 0
                and self.peer_distinct_customers == self.peer_customers)

    @property
    def identical(self) -> bool:
        """Same customers and the same r, f and m scores (what the benchmark requires)."""
        return self.same_customers and not any(self.scores_differ.values())

    def as_dict(self) -> dict[str, object]:
        return {"identical": self.identical, "same_customers": self.same_customers,
                "floor_customers": self.floor_customers, "peer_customers": self.peer_customers,
                "only_floor": self.only_floor, "only_peer": self.only_peer,
                "scores_differ": self.scores_differ, "measures_differ": self.measures_differ}


def compare_rfm(floor_database: Path, peer_table: Path, *, floor_table: str = "floor_rfm"
                ) -> RfmAgreement:
    """Compare a peer's Parquet table (a file, or a folder of ``*.parquet`` parts) with the
    floor's table in ``floor_database``, matched on customer_id."""
    files = (peer_table / "*.parquet") if peer_table.is_dir() else peer_table
    both = "f.customer_id is not null and p.customer_id is not null"
    differs = [
        *(f"f.{name} is distinct from cast(p.{name} as integer)" for name in RFM_SCORES),
        "f.recency_days is distinct from cast(p.recency_days as bigint)",
        "f.frequency is distinct from cast(p.frequency as bigint)",
        ("p.monetary is null or abs(cast(f.monetary as double) - cast(p.monetary as double)) "
         f"> {MONETARY_TOLERANCE}"),
    ]
    checks = ", ".join(f"count(*) filter (where {both} and ({condition}))" for condition in differs)
    with duckdb.connect() as connection:
        connection.execute("set enable_progress_bar = false")
        connection.execute(f"attach '{_escape(floor_database)}' as floor_db (read_only)")
        connection.execute(
            "create temp table peer as select cast(customer_id as varchar) as customer_id, "
            f"{', '.join(RFM_MEASURES)}, {', '.join(RFM_SCORES)} "
            f"from read_parquet('{_escape(files)}')")
        row = connection.execute(f"""
            select
                (select count(*) from floor_db.{_quote(floor_table)}),
                (select count(*) from peer),
                (select count(distinct customer_id) from peer),
                count(*) filter (where p.customer_id is null),
                count(*) filter (where f.customer_id is null),
                {checks}
            from floor_db.{_quote(floor_table)} as f
            full outer join peer as p on f.customer_id = p.customer_id
        """).fetchone()
    assert row is not None
    values = [int(v) for v in row]
    return RfmAgreement(
        floor_customers=values[0], peer_customers=values[1], peer_distinct_customers=values[2],
        only_floor=values[3], only_peer=values[4],
        scores_differ=dict(zip(RFM_SCORES, values[5:8], strict=True)),
        measures_differ=dict(zip(RFM_MEASURES, values[8:11], strict=True)))
