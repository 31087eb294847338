"""A BI reader for the tests: opens the serving database read-only again and again until a stop
file appears, and checks that each read sees one whole publish.

    python serving_reader.py SERVING STOP_FILE OUT_FILE

Per read, in one connection: the newest publish id of meta.publish_log, the row count of every table
that publish lists in meta.published_tables against count(*) of the table itself, the number of
tables in the marts schema against that list, and fct_kpi_summary.as_of_date against the log's
as_of_date. Each read appends one line to OUT_FILE as it ends: `<epoch start> <publish id> whole`,
`<epoch start> <publish id> mixed`, or `<epoch start> - error <message>`.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import duckdb


def read_once(serving: Path) -> tuple[str, bool]:
    """The publish id seen, and whether everything read belongs to it (three queries, one connection)."""
    with duckdb.connect(str(serving), read_only=True) as connection:
        listed = connection.execute("""
            select log.publish_id, log.as_of_date, tables.table_name, tables.row_count
            from (select * from meta.publish_log order by published_at desc limit 1) as log
            inner join meta.published_tables as tables on log.publish_id = tables.publish_id
            order by tables.table_name
        """).fetchall()
        publish_id, as_of_date = listed[0][0], listed[0][1]
        expected = {row[2]: row[3] for row in listed}
        counts = " union all ".join(
            f"select '{table}', count(*) from marts.\"{table}\"" for table in expected)
        actual = dict(connection.execute(counts).fetchall())
        [(tables, kpi_date)] = connection.execute(
            "select (select count(*) from duckdb_tables() where schema_name = 'marts'), "
            "(select as_of_date from marts.fct_kpi_summary)").fetchall()
    return publish_id, actual == expected and tables == len(expected) and kpi_date == as_of_date


def main(serving: Path, stop: Path, out: Path) -> None:
    with out.open("a") as log:
        while not stop.exists():
            started = time.time()
            try:
                publish_id, whole = read_once(serving)
                line = f"{started:.6f} {publish_id} {'whole' if whole else 'mixed'}"
            except Exception as error:  # noqa: BLE001 - every failed read is written down
                line = f"{started:.6f} - error {' '.join(str(error).split())[:300]}"
            log.write(line + "\n")
            log.flush()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
