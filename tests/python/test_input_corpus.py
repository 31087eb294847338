"""The corpus of bad and awkward input files: each kind of file a shop's export can bring, with its
expected outcome (docs/input_corpus.md lists them all).

- "loaded": the build passes; for the kind's file, the rows counted here independently (csv module
  with the file's encoding and delimiter, or pyarrow) = raw_rows of marts.fct_input_reconciliation
  = staged + quarantined, and every row has the expected order id and quarantine reason (none when
  staged) at its row number, and the values listed are staged as computed here (datetime, zoneinfo,
  decimal).
- "stops": the build fails and its output names the file, the line where relevant, the cause and
  the setting that fixes it, and quotes no row content: the emails and phone numbers planted in
  the files appear neither in stdout nor in the dbt log under the work folder's logs/.

Speed: the loaded kinds that share an input format share one folder (one file per kind under
orders/, each with at least 40 good rows per bad row, so that no file and no entity crosses the 5%
gate) and one build; each stop has a folder of its own and the cheapest dbt command that reaches it.
All dbt invocations run two at a time. They run in their work folder with relative paths
(DBT_DUCKDB_PATH=db.duckdb, LOYALTY_DATA_DIR=data, LOYALTY_INPUT_FORMAT=format.yml), so that every
environment is the same and the partial parse saved by one `dbt parse` is reused by all of them;
the default-format folder is built from an absolute path with an apostrophe and a space instead."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dbt_project_runner import BIN, REPO

AS_OF = "2024-12-31"
VARS = {"as_of_date": AS_OF}
GOOD_PER_BAD = 40
# Every email and phone number in the corpus matches these; no message or log line may.
PLANTED = re.compile("|".join([r"@example\.(?:com|org)", r"\+44 ?7700"] + [
    # the same read as UTF-16 of the other byte order (a header decoded so holds the whole file)
    re.escape(text.encode("utf-16-be").decode("utf-16-le")) for text in ("@example.", "+44 7700", "\t2024-")]))

HEADER = ["order_id", "customer_id", "ordered_at", "amount", "currency", "status", "discount_amount",
          "email", "phone"]
BUILD_LOADED = ["build", "--exclude-resource-type", "unit_test"]
BUILD_STAGING = ["build", "-s", "+base_shop__orders_checked", "--exclude-resource-type", "unit_test",
                 "--indirect-selection", "cautious"]
BUILD_RECONCILIATION = ["build", "-s", "+fct_input_reconciliation", "--exclude-resource-type", "unit_test",
                        "--indirect-selection", "cautious"]
BUILD_CUSTOMERS = ["build", "-s", "+int_customer_facts_snapshotted", "--exclude-resource-type", "unit_test",
                   "--exclude-resource-type", "test"]


# --- expected values, computed without the project's SQL --------------------------------------------

def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, offset: str = "+00:00") -> datetime:
    """The UTC wall time of a wall time written with a fixed offset."""
    sign = -1 if offset.startswith("-") else 1
    hours, minutes = offset[1:].split(":")
    return datetime(y, mo, d, h, mi, s) - sign * timedelta(hours=int(hours), minutes=int(minutes))


def local(zone: str, y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    """The UTC wall time of a local wall time in an IANA zone (docs/decisions.md): a wall time skipped
    when summer time starts is read with the offset before the change, one repeated when it ends as
    its second occurrence."""
    wall = datetime(y, mo, d, h, mi)
    first = wall.replace(tzinfo=ZoneInfo(zone), fold=0).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
    second = wall.replace(tzinfo=ZoneInfo(zone), fold=1).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
    exists = (wall.replace(tzinfo=ZoneInfo(zone), fold=0).astimezone(ZoneInfo("UTC"))
              .astimezone(ZoneInfo(zone)).replace(tzinfo=None) == wall)
    return second if first != second and exists else first


# --- writing files ------------------------------------------------------------------------------------

def record(tag: str, i: int, style: str = "iso") -> dict[str, str]:
    """Good row i of a file: an order of one of 12 customers in 2024, written in a format's style."""
    day, month, hour = 1 + i % 28, 1 + i % 11, 8 + i % 12
    whole, cents = 10 + (i * 37) % 990, i % 100
    ordered_at = {
        "iso": f"2024-{month:02d}-{day:02d} {hour:02d}:15:00",
        "eu": f"{day:02d}.{month:02d}.2024 {hour:02d}:15",
        "us": f"{month:02d}/{day:02d}/2024 {hour:02d}:15",
        "epoch": str(int((datetime(2024, month, day, hour, 15) - datetime(1970, 1, 1)).total_seconds())),
    }[style]
    amount = f"{whole}{',' if style == 'eu' else '.'}{cents:02d}"
    return {
        "order_id": f"{tag}-{i:03d}", "customer_id": f"c{i % 12:02d}", "ordered_at": ordered_at,
        "amount": amount, "currency": ("GBP", "", "EUR")[i % 3], "status": ("", "paid", "shipped", "delivered")[i % 4],
        "discount_amount": ("", "0", "1" + (",50" if style == "eu" else ".50"))[i % 3],
        "email": f"buyer{i}@example.com", "phone": f"+44 7700 900{i % 1000:03d}",
    }


def render(rows: list[list[str]], delimiter: str = ",", newline: str = "\n") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator=newline).writerows(rows)
    return out.getvalue()


@dataclass
class CorpusFile:
    """One input file and what the build must make of it."""
    kind: str
    path: str                                   # relative to the data folder
    content: bytes
    rows: dict[int, tuple[str | None, str | None]]   # row number -> (order_id staged or None, reason)
    values: dict[int, dict[str, object]] = field(default_factory=dict)   # row number -> column -> value
    encoding: str = "utf-8"
    delimiter: str = ","


def expected_id(text: str) -> str | None:
    """An id as clean_id stages it: Unicode white space trimmed, empty as null, '900001.0' as '900001'."""
    text = text.strip()
    match = re.fullmatch(r"(\d+)\.0+", text)
    return (match.group(1) if match else text) or None


class CsvBuilder:
    """Writes a CSV file row by row and records the expected (order_id, reason) of each row."""

    def __init__(self, kind: str, path: str, header: list[str] | None = None, delimiter: str = ",",
                 newline: str = "\n", style: str = "iso", keys: dict[str, str] | None = None,
                 header_text: str | None = None) -> None:
        self.kind, self.path, self.delimiter, self.newline, self.style = kind, path, delimiter, newline, style
        self.header = header or HEADER
        # header column -> record key (the contract name, or the column's own lower-case name)
        self.keys = keys or {column: column.strip().lower() for column in self.header}
        self.text = header_text if header_text is not None else render([self.header], delimiter, newline)
        self.rows: dict[int, tuple[str | None, str | None]] = {}
        self.values: dict[int, dict[str, object]] = {}
        self.count = 0
        self.tag = path.rsplit("/", 1)[-1].split("_", 1)[0]

    def fields(self, values: dict[str, str]) -> list[str]:
        return [values.get(self.keys[column], "") for column in self.header]

    def good(self, count: int) -> CsvBuilder:
        for _ in range(count):
            self.bad({}, None)
        return self

    def row(self, values: dict[str, str], reason: str | None = None,
            expect: dict[str, object] | None = None) -> CsvBuilder:
        self.text += render([self.fields(values)], self.delimiter, self.newline)
        return self.counted(expected_id(values["order_id"]), reason, expect)

    def bad(self, overrides: dict[str, str], reason: str | None, expect: dict[str, object] | None = None) -> CsvBuilder:
        """The next good row with some values replaced."""
        return self.row({**record(self.tag, self.count + 1, self.style), **overrides}, reason, expect)

    def line(self, text: str, reason: str | None, order_id: str | None = None) -> CsvBuilder:
        """A line written as it is (a damaged row: no order id staged unless given)."""
        self.text += text
        return self.counted(order_id, reason, None)

    def raw(self, text: str) -> CsvBuilder:
        """Text that is no row (blank lines)."""
        self.text += text
        return self

    def counted(self, order_id: str | None, reason: str | None, expect: dict[str, object] | None) -> CsvBuilder:
        self.count += 1
        self.rows[self.count] = (order_id, reason)
        if expect:
            self.values[self.count] = expect
        return self

    def damaged(self, values: dict[str, str] | None = None) -> list[str]:
        """The fields of the next row, carrying a planted email and phone number."""
        return self.fields({**record(self.tag, self.count + 1, self.style),
                            "email": f"leak.{self.tag}@example.org", "phone": "+44 7700 954321", **(values or {})})

    def file(self, encoding: str = "utf-8", bom: bytes = b"", gz: bool = False) -> CorpusFile:
        content = bom + self.text.encode(encoding)
        return CorpusFile(self.kind, self.path, gzip.compress(content, mtime=0) if gz else content, self.rows,
                          self.values, "utf-16" if bom and encoding.startswith("utf-16") else encoding,
                          self.delimiter)


def with_bad(kind: str, path: str, bad: list[tuple[dict[str, str], str | None, dict | None]],
             **options: object) -> CsvBuilder:
    """A file of good rows with the given rows in the middle: at least 40 good rows per bad one."""
    builder = CsvBuilder(kind, path, **options)
    total = GOOD_PER_BAD * max(1, sum(1 for _, reason, _ in bad if reason))
    builder.good(20)
    for overrides, reason, expect in bad:
        builder.bad(overrides, reason, expect)
    return builder.good(total - 20)


def count_csv_rows(content: bytes, encoding: str, delimiter: str) -> int:
    """Data rows as Python's csv module reads the file (header and blank lines are no rows)."""
    if content[:2] == b"\x1f\x8b":
        content = gzip.decompress(content)
    text = content.decode("utf-16" if encoding == "utf-16" else encoding, errors="replace").lstrip("\ufeff")
    csv.field_size_limit(2**31 - 1)
    rows = [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) if row]
    return len(rows) - 1


def count_rows(directory: Path, corpus_file: CorpusFile) -> int:
    path = directory / corpus_file.path
    if path.suffix == ".parquet":
        return pq.read_metadata(path).num_rows
    return count_csv_rows(path.read_bytes(), corpus_file.encoding, corpus_file.delimiter)


# --- the default format: one folder, one build (from a path with an apostrophe and a space) ----------

def parquet_file(kind: str, path: str, table: pa.Table, rows: dict, values: dict) -> CorpusFile:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return CorpusFile(kind, path, sink.getvalue(), rows, values)


def parquet_float_ids() -> CorpusFile:
    """customer_id as a Parquet DOUBLE column (pandas writes integer ids of a column with gaps so)."""
    count = 41
    ids = [900001.0 if i % 41 == 7 else float(800000 + i % 12) for i in range(count)]
    table = pa.table({
        "order_id": [f"pq-{i:03d}" for i in range(count)],
        "customer_id": pa.array(ids, type=pa.float64()),
        "ordered_at": [f"2024-05-{1 + i % 28:02d} 10:00:00" for i in range(count)],
        "amount": pa.array([12.5 + i for i in range(count)], type=pa.float64()),
    })
    rows = {i + 1: (f"pq-{i:03d}", None) for i in range(count)}
    values = {8: {"customer_id": "900001"}, 1: {"customer_id": "800000", "amount_original": Decimal("12.5")}}
    return parquet_file("float_id_parquet_double", "orders/07_float_id_parquet_double.parquet", table, rows, values)


# Local wall times in New York written by a process whose TZ is America/New_York, into a Parquet
# TIMESTAMP WITH TIME ZONE column (the instants are stored in UTC).
NEW_YORK_WALL_TIMES = ["2024-03-09 23:30:00", "2024-03-10 03:30:00", "2024-07-04 12:00:00", "2024-12-24 18:00:00"]


def parquet_timestamptz() -> CorpusFile:
    """A Parquet TIMESTAMP WITH TIME ZONE column written by a process whose TZ is America/New_York
    from local wall times (the instants are stored in UTC)."""
    count = 44
    walls = [NEW_YORK_WALL_TIMES[i] if i < 4 else f"2024-06-{1 + i % 28:02d} 09:00:00" for i in range(count)]
    values_sql = ", ".join(f"('tz-{i:03d}', '{wall}')" for i, wall in enumerate(walls))
    with tempfile.TemporaryDirectory() as directory:
        target = Path(directory) / "timestamptz.parquet"
        script = (
            "import duckdb, sys\n"
            "connection = duckdb.connect()\n"
            "assert connection.sql(\"select current_setting('TimeZone')\").fetchone()[0] == 'America/New_York'\n"
            "connection.execute(sys.argv[1])\n"
        )
        sql = (f"copy (select order_id, 'c01' as customer_id, cast(wall as timestamptz) as ordered_at, "
               f"20.25 as amount from (values {values_sql}) as t (order_id, wall)) to '{target}' (format parquet)")
        subprocess.run([sys.executable, "-c", script, sql], check=True, env=dict(os.environ, TZ="America/New_York"))
        assert str(pq.read_schema(target).field("ordered_at").type) == "timestamp[us, tz=UTC]"
        content = target.read_bytes()
    rows = {i + 1: (f"tz-{i:03d}", None) for i in range(count)}
    values = {i + 1: {"ordered_at": local("America/New_York", *map(int, re.split("[- :]", walls[i])[:5]))}
              for i in range(count)}
    return CorpusFile("parquet_timestamptz_new_york", "orders/08_parquet_timestamptz_new_york.parquet",
                      content, rows, values)


def default_corpus() -> list[CorpusFile]:
    files: list[CorpusFile] = []

    def add(builder: CsvBuilder, **options: object) -> None:
        files.append(builder.file(**options))

    # ids: missing, blank, white space only; a customer id of white space only is a guest
    add(with_bad("missing_order_id", "orders/01_missing_order_id.csv", [({"order_id": ""}, "missing_order_id", None)]))
    add(with_bad("order_id_tab", "orders/02_order_id_tab.csv", [({"order_id": "\t"}, "missing_order_id", None)]))
    add(with_bad("order_id_no_break_space", "orders/03_order_id_no_break_space.csv",
                 [({"order_id": "\u00a0"}, "missing_order_id", None)]))
    add(with_bad("order_id_ideographic_space", "orders/04_order_id_ideographic_space.csv",
                 [({"order_id": "\u3000\u3000"}, "missing_order_id", None)]))
    add(with_bad("customer_id_white_space", "orders/05_customer_id_white_space.csv", [
        ({"order_id": "ws-guest", "customer_id": " \u00a0\t\u3000"}, None, {"customer_id": None}),
        ({"order_id": "\u00a0ws-padded\u3000", "customer_id": "\u3000c05 "}, None,
         {"order_id": "ws-padded", "customer_id": "c05"}),
    ]))
    # float ids: '900001.0' and '900001' are one customer (here, and in the Parquet file below)
    add(with_bad("float_id", "orders/06_float_id.csv", [
        ({"order_id": "fl-1", "customer_id": "900001.0"}, None, {"customer_id": "900001"}),
        ({"order_id": "fl-2", "customer_id": "900001"}, None, {"customer_id": "900001"}),
        ({"order_id": "fl-3.0", "customer_id": " 900001.00"}, None, {"order_id": "fl-3.0", "customer_id": "900001"}),
    ]))
    files.append(parquet_float_ids())
    files.append(parquet_timestamptz())
    # timestamps
    add(with_bad("iso_offsets", "orders/09_iso_offsets.csv", [
        ({"ordered_at": "2024-03-01T23:30:00-05:00"}, None, {"ordered_at": utc(2024, 3, 1, 23, 30, offset="-05:00")}),
        ({"ordered_at": "2024-10-14 12:02:00 +0200"}, None, {"ordered_at": utc(2024, 10, 14, 12, 2, offset="+02:00")}),
        ({"ordered_at": "2024-10-14T12:02:00Z"}, None, {"ordered_at": utc(2024, 10, 14, 12, 2)}),
    ]))
    history = CsvBuilder("history_1990s", "orders/10_history_1990s.csv")
    for i in range(1, 46):
        when = datetime(1994 + i % 6, 1 + i % 12, 1 + i % 28, 11)
        history.bad({"ordered_at": when.strftime("%Y-%m-%d %H:%M:%S")}, None, {"ordered_at": when})
    add(history)
    add(with_bad("bad_timestamps", "orders/11_bad_timestamps.csv", [
        ({"ordered_at": "not a date"}, "unparseable_ordered_at", None),
        ({"ordered_at": "1969-12-31 23:00:00"}, "implausible_ordered_at", None),
        ({"ordered_at": "2999-01-01"}, "future_ordered_at", None),
        ({"ordered_at": ""}, "missing_ordered_at", None),
    ]))
    add(with_bad("missing_amount", "orders/12_missing_amount.csv", [({"amount": ""}, "missing_amount", None)]))
    add(with_bad("unknown_currency", "orders/13_unknown_currency.csv", [
        ({"currency": "XYZ"}, "unknown_currency", None),
        ({"currency": " eur "}, None, {"currency_code": "EUR"}),
    ]))
    add(with_bad("unknown_status", "orders/14_unknown_status.csv", [
        ({"status": "lost_in_post"}, "unknown_status", None),
        ({"status": " Cancelled"}, None, {"status": "cancelled"}),
    ]))
    add(with_bad("negative_discount", "orders/15_negative_discount.csv",
                 [({"discount_amount": "-5.00"}, "negative_discount_amount", None)]))
    add(with_bad("unparseable_discount", "orders/16_unparseable_discount.csv",
                 [({"discount_amount": "ten"}, "unparseable_discount_amount", None)]))
    duplicate = CsvBuilder("exact_duplicate", "orders/17_exact_duplicate.csv").good(20)
    add(duplicate.row(record(duplicate.tag, 1), "exact_duplicate").good(20))
    conflict = CsvBuilder("conflicting_duplicate", "orders/18_conflicting_duplicate.csv").good(40)
    first = {**record(conflict.tag, 900), "order_id": "cd-1", "amount": "10.00"}
    conflict.row(first, "conflicting_duplicate").row({**first, "amount": "11.00"}, "conflicting_duplicate")
    add(conflict.good(40))
    earlier = CsvBuilder("correction_in_later_file", "orders/19_correction_earlier.csv").good(20)
    earlier.row({**record(earlier.tag, 900), "order_id": "fix-1", "amount": "10.00"}, "superseded_by_later_file")
    add(earlier.good(20))
    later = CsvBuilder("correction_in_later_file", "orders/20_correction_later.csv").good(5)
    later.row({**record(later.tag, 900), "order_id": "fix-1", "amount": "12.00"}, None,
              {"amount_original": Decimal("12.00")})
    add(later)
    # rows the CSV reader cannot split, each with a planted email and phone number
    ragged = CsvBuilder("too_many_fields", "orders/d2_too_many_fields.csv").good(20)
    add(ragged.line(render([ragged.damaged() + ["surplus"]]), "malformed_row_too_many_fields").good(20))
    short = CsvBuilder("too_few_fields", "orders/d3_too_few_fields.csv").good(20)
    add(short.line(render([short.damaged()[:2] + short.damaged()[-2:]]), "malformed_row_too_few_fields").good(20))
    truncated = CsvBuilder("truncated_last_line", "orders/d4_truncated_last_line.csv").good(40)
    cut = ",".join(truncated.damaged())
    add(truncated.line(cut[: cut.index("2024-") + 6], "malformed_row_too_few_fields"))   # no newline at the end
    # a quote inside an unquoted field is kept as written (as Python's csv module reads it)
    stray = CsvBuilder("stray_quote", "orders/24_stray_quote.csv").good(20)
    stray.line(",".join(stray.damaged({"amount": '12"50'})) + "\n", "unparseable_amount", "24-021")
    stray.line(",".join(stray.damaged({"customer_id": 'O"Brien'})) + "\n", None, "24-022")
    stray.values[22] = {"customer_id": 'O"Brien'}
    add(stray.good(60))
    after_quote = CsvBuilder("text_after_closing_quote", "orders/d5_text_after_closing_quote.csv").good(20)
    add(after_quote.line(",".join(after_quote.damaged({"order_id": '"tq-1"x'})) + "\n",
                         "malformed_row_quote").good(20))
    # encodings
    latin = CsvBuilder("latin1_byte_in_contract_column", "orders/d6_latin1_byte_in_contract_column.csv").good(20)
    latin.line(",".join(latin.damaged({"customer_id": "M\x00ller"})) + "\n", "invalid_encoding").good(20)
    files.append(CorpusFile(latin.kind, latin.path, latin.text.encode().replace(b"M\x00ller", b"M\xfcller"),
                            latin.rows, latin.values))
    outside = CsvBuilder("latin1_byte_outside_contract", "orders/d1_latin1_byte_outside_contract.csv").good(20)
    outside.bad({"order_id": "lo-1", "email": "m\x00ller@example.com"}, None, {"customer_id": "c09"}).good(20)
    files.append(CorpusFile(outside.kind, outside.path,
                            outside.text.encode().replace(b"m\x00ller", b"m\xfcller"), outside.rows, outside.values))
    excel = CsvBuilder("excel_unicode_text_utf16", "orders/28_excel_unicode_text_utf16.txt", delimiter="\t",
                       newline="\r\n").good(20)
    excel.bad({"order_id": "xl-1", "customer_id": "Zoë-\u4e2d"}, None, {"customer_id": "Zoë-\u4e2d"})
    add(excel.good(20), encoding="utf-16-le", bom=b"\xff\xfe")
    bom = CsvBuilder("utf8_bom", "orders/29_utf8_bom.csv").good(41)
    bom.values[1] = {"order_id": record(bom.tag, 1)["order_id"]}
    add(bom, bom=b"\xef\xbb\xbf")
    crlf = CsvBuilder("crlf_line_endings", "orders/30_crlf_line_endings.csv", header=HEADER[:5] + ["status"],
                      newline="\r\n")
    for _ in range(41):
        crlf.bad({"status": "paid"}, None, {"status": "paid"})
    add(crlf)
    add(CsvBuilder("blank_lines", "orders/31_blank_lines.csv").good(20).raw("\n\n").good(21).raw("\n\n"))
    newline = CsvBuilder("embedded_newline", "orders/32_embedded_newline.csv", header=HEADER + ["note"]).good(20)
    newline.bad({"order_id": "nl-1", "note": "leave at the door\nor with a neighbour"}, None, {"order_id": "nl-1"})
    add(newline.bad({"order_id": "nl-2"}, None, {"order_id": "nl-2"}).good(20))
    big = CsvBuilder("field_3mb_unused_column", "orders/33_field_3mb_unused_column.csv",
                     header=HEADER + ["notes"]).good(20)
    add(big.bad({"order_id": "big-1", "notes": "x" * 3_000_000}, None, {"order_id": "big-1"}).good(20))
    # delimiters and file types (the delimiter is found in each file's header line)
    add(CsvBuilder("semicolon_delimiter", "orders/34_semicolon_delimiter.csv", delimiter=";").good(41))
    add(CsvBuilder("tab_delimiter_csv", "orders/35_tab_delimiter.csv", delimiter="\t").good(41))
    add(CsvBuilder("pipe_delimiter", "orders/36_pipe_delimiter.csv", delimiter="|").good(41))
    add(CsvBuilder("tsv_file", "orders/37_tsv_file.tsv", delimiter="\t").good(41))
    add(CsvBuilder("csv_gz", "orders/38_csv_gz.csv.gz").good(41), gz=True)
    # columns
    add(CsvBuilder("column_case_and_order", "orders/39_column_case_and_order.csv",
                   header=["AMOUNT", "Ordered_At", "Customer_ID", "ORDER_ID", "Status"]).good(41))
    add(CsvBuilder("extra_columns", "orders/40_extra_columns.csv",
                   header=["Lineitem name", *HEADER, "Billing Zip", "Tags", "Notes", "Vendor"]).good(41))
    add(CsvBuilder("quoted_padded_header", "orders/41_quoted_padded_header.csv",
                   header=["order_id", "customer_id", "ordered_at", "amount"],
                   header_text='"order_id", customer_id ,"ordered_at" ,amount\n').good(41))
    shopify = CsvBuilder("shopify_hash_ids", "orders/42_shopify_hash_ids.csv")
    for i in range(1, 42):
        shopify.bad({"order_id": f"#{1000 + i}"}, None)
    add(shopify)
    add(with_bad("decimal_comma_without_format", "orders/43_decimal_comma_without_format.csv", [
        ({"amount": "12,50"}, "unparseable_amount", None),
        ({"amount": "1.234,56"}, "unparseable_amount", None),
        ({"amount": "1,234.56"}, "unparseable_amount", None),
    ]))
    repeated = CsvBuilder("repeated_header_line", "orders/44_repeated_header_line.csv").good(20)
    add(repeated.line(",".join(HEADER) + "\n", "repeated_header", "order_id").good(20))
    add(with_bad("zero_and_negative_amounts", "orders/45_zero_and_negative_amounts.csv", [
        ({"amount": "0"}, None, {"amount_original": Decimal(0)}),
        ({"amount": "-25.10"}, None, {"amount_original": Decimal("-25.10")}),
    ]))
    no_bom = CsvBuilder("utf16_le_without_bom", "orders/46_utf16_le_without_bom.txt", delimiter="\t",
                        newline="\r\n").good(20)
    no_bom.bad({"order_id": "nb-1", "customer_id": "Zoë"}, None, {"customer_id": "Zoë"})
    add(no_bom.good(20), encoding="utf-16-le")
    add(with_bad("utf16_be_with_bom", "orders/47_utf16_be_with_bom.txt", [
        ({"order_id": "be-1", "customer_id": "Zoë"}, None, {"customer_id": "Zoë"}),
    ], delimiter="\t", newline="\r\n"), encoding="utf-16-be", bom=b"\xfe\xff")
    add(with_bad("utf16_be_without_bom", "orders/50_utf16_be_without_bom.txt", [
        ({"order_id": "bn-1", "customer_id": "Zoë"}, None, {"customer_id": "Zoë"}),
    ], delimiter="\t", newline="\r\n"), encoding="utf-16-be")
    add(with_bad("amount_of_a_million", "orders/48_amount_of_a_million.csv", [
        ({"amount": "1234567.00", "currency": "GBP"}, None, {"amount_original": Decimal("1234567.00")}),
        ({"amount": "2500000", "currency": "EUR"}, None, {"amount_original": Decimal(2500000)}),
    ]))
    long_line = CsvBuilder("line_over_8mb", "orders/49_line_over_8mb.csv", header=HEADER + ["notes"]).good(20)
    add(long_line.line(",".join(long_line.damaged({"notes": "y" * 9_000_000})) + "\n", "line_too_long").good(20))
    # read after the damaged files (d*): a clean file must not take their rejects as its own
    add(CsvBuilder("clean_file_after_damaged_file", "orders/e1_clean_file_after_damaged_file.csv").good(41))
    return files


# --- input formats: one folder and one build per format file ----------------------------------------

EUROPEAN_FORMAT = """orders:
  delimiter: ";"
  encoding: cp1252
  decimal_separator: ","
  thousands_separator: "."
  date_order: DMY
  time_zone: Europe/Berlin
"""


def european_corpus() -> list[CorpusFile]:
    files = []
    berlin = "Europe/Berlin"

    def eu(kind: str, path: str, bad: list) -> CsvBuilder:
        return with_bad(kind, path, bad, delimiter=";", style="eu")

    files.append(eu("naive_times_across_dst", "orders/e1_naive_times_across_dst.csv", [
        ({"ordered_at": "31.03.2024 01:30"}, None, {"ordered_at": local(berlin, 2024, 3, 31, 1, 30)}),
        ({"ordered_at": "31.03.2024 02:30"}, None, {"ordered_at": local(berlin, 2024, 3, 31, 2, 30)}),
        ({"ordered_at": "31.03.2024 03:30"}, None, {"ordered_at": local(berlin, 2024, 3, 31, 3, 30)}),
        ({"ordered_at": "27.10.2024 01:30"}, None, {"ordered_at": local(berlin, 2024, 10, 27, 1, 30)}),
        ({"ordered_at": "27.10.2024 02:30"}, None, {"ordered_at": local(berlin, 2024, 10, 27, 2, 30)}),
        ({"ordered_at": "27.10.2024 03:30"}, None, {"ordered_at": local(berlin, 2024, 10, 27, 3, 30)}),
    ]).file("cp1252"))
    files.append(eu("day_first_dates", "orders/e2_day_first_dates.csv", [
        ({"ordered_at": "01.03.2024"}, None, {"ordered_at": local(berlin, 2024, 3, 1)}),
        ({"ordered_at": "13/02/2024 8:26"}, None, {"ordered_at": local(berlin, 2024, 2, 13, 8, 26)}),
        ({"ordered_at": "2024-02-13 08:26"}, None, {"ordered_at": local(berlin, 2024, 2, 13, 8, 26)}),
        ({"ordered_at": "02/13/2024"}, "unparseable_ordered_at", None),
    ]).file("cp1252"))
    files.append(eu("decimal_comma_with_format", "orders/e3_decimal_comma_with_format.csv", [
        ({"amount": "1.234,56"}, None, {"amount_original": Decimal("1234.56")}),
        ({"amount": "12,5"}, None, {"amount_original": Decimal("12.5")}),
        ({"amount": "1234,5"}, None, {"amount_original": Decimal("1234.5")}),
        ({"amount": "1,234.56"}, "unparseable_amount", None),
    ]).file("cp1252"))
    files.append(eu("cp1252_file_with_encoding", "orders/e4_cp1252_file_with_encoding.csv", [
        ({"customer_id": "Müller-€", "order_id": "Bestellung-ä1"}, None,
         {"customer_id": "Müller-€", "order_id": "Bestellung-ä1"}),
        ({"customer_id": "Œuvre “Ž”"}, None, {"customer_id": "Œuvre “Ž”"}),
    ]).file("cp1252"))
    for corpus_file in files:
        corpus_file.delimiter = ";"
        corpus_file.encoding = "cp1252"
    return files


US_FORMAT = """orders:
  columns:
    order_id: Order Number
    customer_id: Customer Email
    ordered_at: Created at
    amount: Total
    currency: Currency
  thousands_separator: ","
  date_order: MDY
  time_zone: America/New_York
"""
US_HEADER = ["Order Number", "customer email", "CREATED AT", "Total", "Currency", "Financial Status"]
US_KEYS = {"Order Number": "order_id", "customer email": "customer_id", "CREATED AT": "ordered_at",
           "Total": "amount", "Currency": "currency", "Financial Status": "status"}


def us_corpus() -> list[CorpusFile]:
    new_york = "America/New_York"

    def us(kind: str, path: str, bad: list) -> CsvBuilder:
        return with_bad(kind, path, bad, header=US_HEADER, keys=US_KEYS, style="us")

    return [
        us("month_first_dates", "orders/u1_month_first_dates.csv", [
            ({"ordered_at": "03/10/2024 02:30"}, None, {"ordered_at": local(new_york, 2024, 3, 10, 2, 30)}),
            ({"ordered_at": "11/03/2024 01:30"}, None, {"ordered_at": local(new_york, 2024, 11, 3, 1, 30)}),
            ({"ordered_at": "12/31/2023 11:59 PM"}, None, {"ordered_at": local(new_york, 2023, 12, 31, 23, 59)}),
            ({"ordered_at": "31/12/2023"}, "unparseable_ordered_at", None),
        ]).file(),
        us("column_mapping", "orders/u2_column_mapping.csv", [
            ({"order_id": "map-1", "customer_id": "ana@example.com"}, None,
             {"order_id": "map-1", "customer_id": "ana@example.com"}),
        ]).file(),
        us("thousands_separator_with_format", "orders/u3_thousands_separator_with_format.csv", [
            ({"amount": "1,234.56"}, None, {"amount_original": Decimal("1234.56")}),
            ({"amount": "12,345.67"}, None, {"amount_original": Decimal("12345.67")}),
            ({"amount": "1234.5"}, None, {"amount_original": Decimal("1234.5")}),
            ({"amount": "1.234,56"}, "unparseable_amount", None),
        ]).file(),
    ]


EPOCH_FORMAT = """orders:
  timestamp_unit: epoch_seconds
  encoding: latin-1
"""


def epoch_corpus() -> list[CorpusFile]:
    return [
        with_bad("epoch_seconds", "orders/x1_epoch_seconds.csv", [
            ({"ordered_at": "1709251200"}, None, {"ordered_at": datetime(2024, 3, 1)}),
            ({"ordered_at": "1709251200.5"}, None, {"ordered_at": datetime(2024, 3, 1, 0, 0, 0, 500000)}),
            ({"ordered_at": "2024-03-01T10:00:00+01:00"}, None, {"ordered_at": datetime(2024, 3, 1, 9)}),
            ({"ordered_at": "1709251200123"}, "unparseable_ordered_at", None),
        ], style="epoch").file("latin-1"),
        with_bad("latin1_file_with_encoding", "orders/x2_latin1_file_with_encoding.csv", [
            ({"customer_id": "José Ñúñez"}, None, {"customer_id": "José Ñúñez"}),
        ], style="epoch").file("latin-1"),
    ]


@dataclass
class LoadedBuild:
    files: list[CorpusFile]
    format_text: str | None = None            # the format file's text; None: no format file
    command: list[str] = field(default_factory=lambda: BUILD_RECONCILIATION)


LOADED_BUILDS = {
    # the default format: every kind a file under orders/ of one folder, one full build
    "default": LoadedBuild(default_corpus(), None, BUILD_LOADED),
    "european": LoadedBuild(european_corpus(), EUROPEAN_FORMAT),
    "us": LoadedBuild(us_corpus(), US_FORMAT),
    "epoch_latin1": LoadedBuild(epoch_corpus(), EPOCH_FORMAT),
}
LOADED_KINDS = list(dict.fromkeys(
    (build, corpus_file.kind) for build, loaded in LOADED_BUILDS.items() for corpus_file in loaded.files))
# kind -> what happens instead (the owners' to fix; the test then passes and must be unmarked). A kind
# that breaks its build gets a LoadedBuild of its own while it is marked, so that the others are checked.
LOADED_XFAIL: dict[str, str] = {}


# --- what stops the build: one folder each ----------------------------------------------------------

@dataclass
class Stop:
    kind: str
    files: dict[str, bytes]
    expected: list[str]                       # phrases of the output (white space normalised)
    format_text: str | None = ""              # the format file's text; None: no format file
    command: list[str] = field(default_factory=lambda: BUILD_STAGING)
    variables: dict = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)


def good_text(count: int, tag: str = "s", header: list[str] | None = None) -> str:
    return CsvBuilder("good", f"orders/{tag}_good.csv", header=header).good(count).text


def stops() -> list[Stop]:
    cases = []

    quote = CsvBuilder("unbalanced_quote", "orders/2024-06.csv").good(20)
    quote.line(",".join(quote.damaged({"customer_id": '"Smith, J.'})) + "\n", "malformed_row_quote").good(40)
    cases.append(Stop("unbalanced_quote", {"orders/2024-06.csv": quote.text.encode()}, [
        ("file 'orders/2024-06.csv' (orders, read with delimiter ',' and encoding utf-8): 40 of its 62 lines could"
        " not be read as rows"),
        "Line 22 has a quote inside a field that is not doubled",
        "a quote opened there and never closed takes the lines after it into one field",
        "Fix the quoting at line 22 (a double quote inside a field is written twice)"]))

    pasted = CsvBuilder("pasted_exports", "orders.csv").good(50)
    pasted.text += render([HEADER + ["gift_message"]])
    for _ in range(50):
        pasted.text += render([pasted.damaged() + ["Happy birthday"]])
    # no row silently lost: every row after the first export's 50 (the second header included) is
    # counted as unreadable, out of all the rows Python's csv module reads
    rows = count_csv_rows(pasted.text.encode(), "utf-8", ",")
    cases.append(Stop("pasted_exports_second_header", {"orders.csv": pasted.text.encode()}, [
        (f"file 'orders.csv' (orders, read with delimiter ',' and encoding utf-8): {rows - 50} of {rows} rows"
         " could not be read (above max_quarantine_share=0.05), the first at line 52"),
        f"{rows - 50} x malformed_row_too_many_fields: more fields than the header",
        ("Line 52 repeats the header's column names: two exports pasted into one file?"
         " Split the file at line 52 into two files.")]))

    compressed = gzip.compress(good_text(400).encode(), mtime=0)
    cases.append(Stop("truncated_csv_gz", {"orders/2024-06.csv.gz": compressed[: len(compressed) * 2 // 3]}, [
        "file 'orders/2024-06.csv.gz' (orders) is an incomplete gzip file", "Copy the file again"]))

    cases.append(Stop("lacking_required_columns",
                      {"orders.csv": good_text(41, header=["id", "customer", "date", "total", "email"]).encode()}, [
        ("Input contract: file 'orders.csv' (orders) lacks the required columns order_id, customer_id, ordered_at,"
        " amount."),
        "Columns found: id, customer, date, total, email",
        ("Map the export's columns to the contract in the input format file (none is set: name one with"
        " LOYALTY_INPUT_FORMAT, README 'Input formats'):"),
        ("orders: columns: order_id: <its column in this file> customer_id: <its column in this file>"
        " ordered_at: <its column in this file> amount: <its column in this file>")],
        format_text=None, env={"LOYALTY_INPUT_FORMAT": ""}))

    cases.append(Stop("unknown_extension_xlsx", {
        "orders/2024-05.csv": good_text(41).encode(),
        "orders/2024-06.xlsx": b"PK\x03\x04\x14\x00\x06\x00" + bytes(200)}, [
        ("Input contract: cannot read 'orders/2024-06.xlsx' in LOYALTY_DATA_DIR=data: expected .csv, .csv.gz,"
         " .tsv, .txt or .parquet")]))

    cases.append(Stop("empty_file", {"orders.csv": b""}, [
        "Input contract: file 'orders.csv' (orders) is empty", "the first line must be the header"]))

    header = ",".join(HEADER).encode() + b"\n"
    cases.append(Stop("header_only_files", {"orders/2024-06-01.csv": header, "orders/2024-06-02.csv": header}, [
        ("No orders: not one row was read from the orders input (orders/2024-06-01.csv, orders/2024-06-02.csv"
        " in LOYALTY_DATA_DIR=data)"),
        "every file is empty or has only a header row"]))

    cases.append(Stop("no_orders_file", {"customers.csv": b"customer_id,email\nc01,ann@example.com\n"}, [
        ("Input contract: no 'orders' data in LOYALTY_DATA_DIR=data. Expected orders.csv, orders.parquet or a"
        " folder orders/ of such files.")]))

    cases.append(Stop("unknown_format_option", {"orders.csv": good_text(41).encode()}, [
        ("Input format 'format.yml': unknown option orders.decimal_point. Options: columns, delimiter, encoding,"
        " decimal_separator, thousands_separator, date_order, timestamp_unit, time_zone")],
        format_text="orders:\n  decimal_point: ','\n"))

    cases.append(Stop("unknown_time_zone", {"orders.csv": good_text(41).encode()}, [
        ("Unknown time zone 'Europe/Atlantis' (set by orders.time_zone in the input format file format.yml"
        " (LOYALTY_INPUT_FORMAT))"),
        "Use an IANA name such as Europe/Berlin"],
        format_text="orders:\n  time_zone: Europe/Atlantis\n"))

    money = CsvBuilder("money", "orders.csv").good(20)
    money.bad({"customer_id": "big", "amount": "60000000000000.00", "ordered_at": "2024-01-05 09:00:00",
               "currency": "GBP"}, None)
    money.bad({"customer_id": "big", "amount": "60000000000000.00", "ordered_at": "2024-02-05 09:00:00",
               "currency": "GBP"}, None).good(20)
    cases.append(Stop("money_sum_over_99_trillion", {"orders.csv": money.text.encode()}, [
        "int_customer_facts_snapshotted:", "customer_id=big", "does not fit the money type",
        "is 120000000000000.0000", "unit and decimal separator of the input amount column"],
        command=BUILD_CUSTOMERS))

    share = CsvBuilder("share", "orders.csv").good(20)
    for _ in range(5):
        share.bad({"ordered_at": "31.12.2024 10:00"}, "unparseable_ordered_at")
    cases.append(Stop("quarantine_share_over_5_percent", {"orders.csv": share.good(20).text.encode()}, [
        "Quality gate: 5 of 45 orders rows (11.11%) were quarantined, above max_quarantine_share=0.05",
        "orders.csv: 5 x unparseable_ordered_at (first at row 21): ordered_at must be ISO 8601",
        "date_order (now YMD)"]))

    ragged = CsvBuilder("ragged", "orders.csv")
    for _ in range(3):
        ragged.good(10).line(render([ragged.damaged() + ["surplus"]]), "malformed_row_too_many_fields")
    cases.append(Stop("damaged_rows_over_5_percent_of_a_file", {"orders.csv": ragged.good(20).text.encode()}, [
        ("file 'orders.csv' (orders, read with delimiter ',' and encoding utf-8): 3 of 53 rows could not be read"
        " (above max_quarantine_share=0.05), the first at line 12"),
        "3 x malformed_row_too_many_fields: more fields than the header"]))

    latin = CsvBuilder("latin", "orders.csv")
    for _ in range(8):
        latin.good(4).bad({"customer_id": "Müller", "email": "müller@example.com"}, "invalid_encoding")
    cases.append(Stop("latin1_file_read_as_utf8", {"orders.csv": latin.good(8).text.encode("latin-1")}, [
        ("file 'orders.csv' (orders, read with delimiter ',' and encoding utf-8): 8 of 48 rows could not be read"
        " (above max_quarantine_share=0.05), the first at line 6"),
        ("8 x invalid_encoding: bytes that are not utf-8: set orders.encoding (latin-1, cp1252, utf-16) in the"
        " input format file")]))

    latin_header = CsvBuilder("latin_header", "orders.csv", header=HEADER + ["Straße"]).good(41)
    cases.append(Stop("header_not_utf8", {"orders.csv": latin_header.text.encode("latin-1")}, [
        "Input contract: file 'orders.csv' (orders)", "the header line is not UTF-8 text",
        "Set orders.encoding (latin-1, cp1252, utf-16) in the input format file."]))

    cases.append(Stop("line_above_the_header", {"orders.csv": ("Orders export, June 2024\n" + good_text(41)).encode()}, [
        ("Input contract: file 'orders.csv' (orders) lacks the required columns order_id, customer_id, ordered_at,"
        " amount."), "Columns found: Orders export, June 2024",
        "a title or date line above it is read as the header (remove such lines)"]))

    cases.append(Stop("delimiter_set_wrong", {"orders.csv": good_text(41).encode()}, [
        "Input contract: file 'orders.csv' (orders) lacks the required columns",
        ("The header was read as one column with delimiter ';': if the file uses another delimiter, set"
        " orders.delimiter in the input format file.")],
        format_text="orders:\n  delimiter: ';'\n"))

    cases.append(Stop("format_file_missing", {"orders.csv": good_text(41).encode()}, [
        "Input format: the file 'format.yml' named by input_format (LOYALTY_INPUT_FORMAT) does not exist."],
        format_text=None))

    cases.append(Stop("format_unknown_entity", {"orders.csv": good_text(41).encode()}, [
        ("Input format 'format.yml': unknown entity 'order'. Entities: orders, order_lines, products, customers,"
        " events, offer_sends")],
        format_text="order:\n  delimiter: ';'\n"))

    cases.append(Stop("format_option_value_not_allowed", {"orders.csv": good_text(41).encode()}, [
        "Input format 'format.yml': orders.date_order = 'DD.MM.YYYY' is not one of: 'YMD', 'DMY', 'MDY'"],
        format_text="orders:\n  date_order: DD.MM.YYYY\n"))

    cases.append(Stop("format_same_separators", {"orders.csv": good_text(41).encode()}, [
        "Input format 'format.yml': orders.decimal_separator and thousands_separator are both ','"],
        format_text="orders:\n  decimal_separator: ','\n  thousands_separator: ','\n"))

    every = CsvBuilder("every", "orders.csv")
    for _ in range(41):
        every.bad({"amount": "12,50"}, "unparseable_amount")
    cases.append(Stop("every_row_quarantined", {"orders.csv": every.text.encode()}, [
        "No orders staged: all 41 orders rows were quarantined, so no order is left to score.",
        ("orders.csv: 41 x unparseable_amount (amount must be a number written with the decimal_separator (now '.')"
        " and thousands_separator (now none)")],
        variables={"max_quarantine_share": 1}))

    guests = CsvBuilder("guests", "orders.csv")
    for _ in range(41):
        guests.bad({"customer_id": ""}, None)
    cases.append(Stop("only_guest_orders", {"orders.csv": guests.text.encode()}, [
        f"No customers as of {AS_OF}: all 41 staged orders are guest orders (customer_id is empty)",
        "check that the customer_id column is filled in the export", "Files: orders.csv (41 staged)"],
        command=BUILD_CUSTOMERS))

    sink = io.BytesIO()
    pq.write_table(pa.table({"order_id": ["p1"] * 41, "customer_id": ["c1"] * 41,
                             "ordered_at": ["2024-01-01"] * 41, "total": [1.5] * 41}), sink)
    cases.append(Stop("parquet_lacking_a_column", {"orders/2024-06.parquet": sink.getvalue()}, [
        "Input contract: file 'orders/2024-06.parquet' (orders) lacks the required column amount.",
        "Columns found: order_id, customer_id, ordered_at, total", "amount: <its column in this file>"]))
    return cases


STOPS = {stop.kind: stop for stop in stops()}
# kind -> what happens instead (the owners' to fix; the test then passes and must be unmarked)
STOP_XFAIL: dict[str, str] = {}


# --- running dbt, two invocations at a time ---------------------------------------------------------

@dataclass
class Run:
    work: Path
    data: Path
    result: subprocess.CompletedProcess
    seconds: float

    @property
    def output(self) -> str:
        return self.result.stdout + self.result.stderr

    @property
    def log(self) -> str:
        path = self.work / "logs" / "dbt.log"
        return path.read_text(errors="replace") if path.exists() else ""


def dbt_in(work: Path, args: list[str], variables: dict | None = None, env: dict[str, str] | None = None,
           partial_parse: Future | None = None) -> subprocess.CompletedProcess:
    """One dbt command run in ``work``: the database, data folder and format file are relative to it."""
    if partial_parse is not None:
        saved = partial_parse.result()
        (work / "target").mkdir(exist_ok=True)
        shutil.copy(saved, work / "target" / "partial_parse.msgpack")
    environment = dict(os.environ, DBT_PROFILES_DIR=str(REPO / "profiles"), DBT_DUCKDB_PATH="db.duckdb",
                       LOYALTY_DATA_DIR="data", LOYALTY_INPUT_FORMAT="format.yml",
                       LOYALTY_PLUGIN_DIR=str(REPO / "plugins"), DBT_SEND_ANONYMOUS_USAGE_STATS="False")
    environment.update(env or {})
    if args[0] != "parse":
        args = [*args, "--no-write-json"]   # no test reads dbt's artifacts
    command = [str(BIN / "dbt"), *args, "--vars", json.dumps({**VARS, **(variables or {})}),
               "--project-dir", str(REPO), "--target-path", str(work / "target"),
               "--log-path", str(work / "logs"), "--no-use-colors"]
    return subprocess.run(command, cwd=work, env=environment, capture_output=True, text=True, check=False)


def write_folder(data: Path, files: dict[str, bytes]) -> None:
    for name, content in files.items():
        (data / name).parent.mkdir(parents=True, exist_ok=True)
        (data / name).write_bytes(content)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    """Every folder written and every dbt invocation run, two at a time: 'loaded:<build>' and
    'stop:<kind>' -> Run."""
    root = tmp_path_factory.mktemp("corpus")
    jobs: dict[str, tuple[Path, Path, list[str], dict, dict, bool]] = {}
    for build, loaded in LOADED_BUILDS.items():
        work = root / f"loaded_{build}"
        data = work / "data"
        env: dict[str, str] = {}
        if build == "default":
            # an absolute path with an apostrophe and a space, no format file, the host in New York
            data = work / "shop's exports 2024"
            env = {"LOYALTY_DATA_DIR": str(data), "LOYALTY_INPUT_FORMAT": "", "TZ": "America/New_York"}
        write_folder(data, {corpus_file.path: corpus_file.content for corpus_file in loaded.files})
        (work / "format.yml").write_text(loaded.format_text or "")
        jobs[f"loaded:{build}"] = (work, data, loaded.command, {}, env, build != "default")
    for kind, stop in STOPS.items():
        work = root / f"stop_{kind}"
        write_folder(work / "data", stop.files)
        if stop.format_text is not None:
            (work / "format.yml").write_text(stop.format_text)
        jobs[f"stop:{kind}"] = (work, work / "data", stop.command, stop.variables, stop.env, True)

    parse_work = root / "parse"
    parse_work.mkdir()
    (parse_work / "format.yml").write_text("")

    def parse() -> Path:
        result = dbt_in(parse_work, ["parse"])
        assert result.returncode == 0, result.stdout[-3000:]
        return parse_work / "target" / "partial_parse.msgpack"

    def run(name: str) -> Run:
        work, data, args, variables, env, reuse = jobs[name]
        start = time.monotonic()
        result = dbt_in(work, args, variables, env, parsed if reuse else None)
        return Run(work, data, result, time.monotonic() - start)

    with ThreadPoolExecutor(max_workers=2) as pool:
        # the default build parses for itself (its environment differs) while the others' parse runs
        futures = {"loaded:default": pool.submit(run, "loaded:default")}
        parsed = pool.submit(parse)
        futures.update({name: pool.submit(run, name) for name in jobs if name != "loaded:default"})
        return {name: future.result() for name, future in futures.items()}


def quotes_row_content(run: Run) -> list[str]:
    """Planted emails and phone numbers found in a run's output or dbt log."""
    return PLANTED.findall(run.output) + PLANTED.findall(run.log)


def normalised(text: str) -> str:
    return " ".join(text.split())


def query(database: Path, sql: str, parameters: list | None = None) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as connection:
        return connection.execute(sql, parameters or []).fetchall()


# --- loaded kinds -----------------------------------------------------------------------------------

def loaded_params() -> list:
    return [pytest.param(build, kind, id=kind,
                         marks=[pytest.mark.xfail(strict=True, reason=LOADED_XFAIL[kind])] if kind in LOADED_XFAIL else [])
            for build, kind in LOADED_KINDS]


@pytest.mark.parametrize(("build", "kind"), loaded_params())
def test_loaded_kind(corpus: dict[str, Run], build: str, kind: str) -> None:
    """Raw rows (counted here) = staged + quarantined for the kind's files; each row has its order id
    and reason at its row number; the values listed are staged as computed here."""
    run = corpus[f"loaded:{build}"]
    assert run.result.returncode == 0, run.output[-5000:]
    assert not quotes_row_content(run), quotes_row_content(run)
    database = run.work / "db.duckdb"
    for corpus_file in [f for f in LOADED_BUILDS[build].files if f.kind == kind]:
        raw_rows = count_rows(run.data, corpus_file)
        assert raw_rows == len(corpus_file.rows), corpus_file.path
        reconciliation = query(database, "select raw_rows, staged_rows, quarantined_rows "
                                         "from marts.fct_input_reconciliation where entity = 'orders' and source_file = ?",
                               [corpus_file.path])
        expected_staged = sum(1 for _, reason in corpus_file.rows.values() if reason is None)
        assert reconciliation == [(raw_rows, expected_staged, raw_rows - expected_staged)], corpus_file.path
        rows = query(database, "select source_row_number, order_id, quarantine_reason "
                               "from staging.base_shop__orders_checked where source_file = ?", [corpus_file.path])
        got = {row: (order_id, reason) for row, order_id, reason in rows}
        wrong = {row: (got.get(row), want) for row, want in corpus_file.rows.items() if got.get(row) != want}
        assert not wrong and len(got) == len(corpus_file.rows), (corpus_file.path, wrong)
        columns = ["order_id", "customer_id", "ordered_at", "amount_original", "currency_code", "status"]
        staged = {row[0]: dict(zip(columns, row[1:], strict=True)) for row in query(
            database, f"select source_row_number, {', '.join(columns)} from staging.base_shop__orders_checked "
                      "where source_file = ?", [corpus_file.path])}
        for row, values in corpus_file.values.items():
            for column, value in values.items():
                assert staged[row][column] == value, (corpus_file.path, row, column)


@pytest.mark.parametrize("build", list(LOADED_BUILDS))
def test_every_file_of_a_loaded_build_is_reconciled(corpus: dict[str, Run], build: str) -> None:
    """No file is ignored: the reconciliation lists exactly the files written, and its totals add up."""
    run = corpus[f"loaded:{build}"]
    assert run.result.returncode == 0, run.output[-5000:]
    rows = query(run.work / "db.duckdb", "select source_file, raw_rows, staged_rows, quarantined_rows "
                                          "from marts.fct_input_reconciliation where entity = 'orders'")
    assert sorted(row[0] for row in rows) == sorted(f.path for f in LOADED_BUILDS[build].files)
    assert all(raw == staged + quarantined for _, raw, staged, quarantined in rows)
    assert sum(row[1] for row in rows) == sum(count_rows(run.data, f) for f in LOADED_BUILDS[build].files)


def test_data_folder_with_an_apostrophe_and_a_space(corpus: dict[str, Run]) -> None:
    """The default build reads its folder from an absolute path with an apostrophe and a space."""
    run = corpus["loaded:default"]
    assert "'" in run.data.name and " " in run.data.name
    assert run.result.returncode == 0, run.output[-5000:]
    [(files,)] = query(run.work / "db.duckdb", "select count(*) from marts.fct_input_reconciliation "
                                                "where entity = 'orders' and raw_rows > 0")
    assert files == len(LOADED_BUILDS["default"].files)


def test_float_ids_are_one_customer_across_csv_and_parquet(corpus: dict[str, Run]) -> None:
    run = corpus["loaded:default"]
    assert run.result.returncode == 0, run.output[-5000:]
    assert query(run.work / "db.duckdb", "select orders_count from marts.dim_customers "
                                          "where customer_id like '900001%'") == [(4,)]


# --- stops ------------------------------------------------------------------------------------------

def stop_params() -> list:
    return [pytest.param(kind, id=kind,
                         marks=[pytest.mark.xfail(strict=True, reason=STOP_XFAIL[kind])] if kind in STOP_XFAIL else [])
            for kind in STOPS]


@pytest.mark.parametrize("kind", stop_params())
def test_stop_kind(corpus: dict[str, Run], kind: str) -> None:
    """The build fails with a message naming the file, line, cause and fix, and quotes no row content."""
    run = corpus[f"stop:{kind}"]
    output = normalised(run.result.stdout)
    assert run.result.returncode != 0, output[-3000:]
    missing = [phrase for phrase in STOPS[kind].expected if normalised(phrase) not in output]
    assert not missing, (missing, output[-4000:])
    assert "Traceback" not in run.output
    assert not quotes_row_content(run), quotes_row_content(run)


# --- the list of kinds ------------------------------------------------------------------------------

def test_docs_list_every_kind_with_its_outcome() -> None:
    text = (REPO / "docs" / "input_corpus.md").read_text()
    rows = {line.split("|")[1].strip().strip("`"): line for line in text.splitlines() if line.startswith("| `")}
    for _, kind in LOADED_KINDS:
        assert kind in rows and "loaded" in rows[kind], kind
    for kind in STOPS:
        assert kind in rows and "stops" in rows[kind], kind
    assert "data_dir_with_apostrophe_and_space" in rows
    assert f"{len(LOADED_KINDS) + len(STOPS) + 1} kinds" in text
