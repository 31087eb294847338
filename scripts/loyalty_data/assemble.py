"""Turn a simulated chunk into the text tables of the input contract.

This is also where the deliberately bad rows are made: a small share of order rows gets exactly
one defect each (so that every bad row has one known reason), and a separate small share gets
surrounding whitespace in an id (valid after trimming, so not bad).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from . import config as C
from . import textcols as T
from .simulate import DAY_S, Catalogue, ChunkResult, Customers

ORDER_ID_WIDTH = 9
SEND_ID_WIDTH = 9
PRODUCT_ID_WIDTH = 4
UNPARSEABLE_TIMESTAMPS = ("not a date", "2023-13-45 10:00:00", "2024-02-30 12:00:00")
ANCIENT_TIMESTAMP = "1900-01-01 00:00:00"

ORDER_COLUMNS = (
    "order_id",
    "customer_id",
    "ordered_at",
    "amount",
    "currency",
    "status",
    "channel",
    "discount_amount",
)
LINE_COLUMNS = ("order_id", "product_id", "quantity", "unit_price", "amount")
PRODUCT_COLUMNS = ("product_id", "product_name", "category", "unit_cost")
CUSTOMER_COLUMNS = (
    "customer_id",
    "signup_at",
    "consent_email",
    "consent_sms",
    "consent_push",
)
EVENT_COLUMNS = ("customer_id", "event_at", "event_type", "product_id")
SEND_COLUMNS = (
    "send_id",
    "offer_id",
    "customer_id",
    "channel",
    "sent_at",
    "is_holdout",
)


def schema(columns: tuple[str, ...]) -> pa.Schema:
    return pa.schema([(name, pa.string()) for name in columns])


def customer_width(customers: int) -> int:
    return max(7, len(str(customers)))


@dataclass
class OrderRows:
    table: pa.Table
    month: np.ndarray  # month number (year * 12 + month - 1) of each written row
    clean_valid: (
        np.ndarray
    )  # per clean row: no defect and not part of a conflicting pair
    bad_counts: dict[str, int]
    whitespace_rows: int


def order_rows(
    rng: np.random.Generator, res: ChunkResult, first_order_number: int, cust_width: int
) -> OrderRows:
    o = res.orders
    n = len(o["t"])
    number = first_order_number + np.arange(n, dtype=np.int64)
    candidates = np.flatnonzero(~o["has_return"])
    n_bad = int(rng.binomial(n, C.SHARES["bad_rows"]))
    n_ws = int(rng.binomial(n, C.SHARES["whitespace_ids"]))
    n_pick = min(len(candidates), n_bad + n_ws)
    chosen = (
        rng.choice(candidates, size=n_pick, replace=False)
        if n_pick
        else np.zeros(0, np.int64)
    )
    bad_rows, ws_rows = chosen[: min(n_bad, n_pick)], chosen[min(n_bad, n_pick) :]
    bad_kind = rng.integers(0, len(C.BAD_KINDS), size=len(bad_rows))
    rows_of = {kind: bad_rows[bad_kind == i] for i, kind in enumerate(C.BAD_KINDS)}

    currency = o["currency"].copy()
    currency[rows_of["unknown_currency"]] = C.CUR_BAD
    status = o["status"].copy()
    status[rows_of["unknown_status"]] = C.ST_BAD
    customer = o["customer"]
    cust_numbers = np.where(
        customer >= 0, res.customers.number[np.maximum(customer, 0)], 0
    )

    columns = {
        "order_id": T.ids("O", number, ORDER_ID_WIDTH),
        "customer_id": T.ids("C", cust_numbers, cust_width, present=customer >= 0),
        "ordered_at": T.timestamps(o["t"]),
        "amount": T.money(o["amount"]),
        "currency": T.vocab(C.CURRENCIES, currency),
        "status": T.vocab(C.STATUSES, status),
        "channel": T.vocab(C.ORDER_CHANNELS, o["channel"]),
        "discount_amount": T.money(o["discount"]),
    }

    # duplicates follow their source row, in the same month file
    dup_src, conf_src = rows_of["exact_duplicate"], rows_of["conflicting_duplicate"]
    src = np.concatenate([np.arange(n), dup_src, conf_src])
    tag = np.concatenate(
        [
            np.zeros(n, np.int8),
            np.ones(len(dup_src), np.int8),
            np.full(len(conf_src), 2, np.int8),
        ]
    )
    order = np.lexsort((tag, src))
    src, tag = src[order], tag[order]
    pos = np.empty(n, dtype=np.int64)
    pos[src[tag == 0]] = np.flatnonzero(tag == 0)
    take = pa.array(src)
    columns = {name: col.take(take) for name, col in columns.items()}

    def pick(values: tuple[str, ...], count: int) -> list[str]:
        return [values[i] for i in rng.integers(0, len(values), size=count)]

    rows = rows_of["blank_order_id"]
    columns["order_id"] = T.replace(
        columns["order_id"], pos[rows], pick(("", " "), len(rows))
    )
    rows = rows_of["unparseable_ordered_at"]
    columns["ordered_at"] = T.replace(
        columns["ordered_at"], pos[rows], pick(UNPARSEABLE_TIMESTAMPS, len(rows))
    )
    rows = rows_of["future_ordered_at"]
    future = T.timestamps(o["t"][rows], year_override=2099).to_pylist()
    columns["ordered_at"] = T.replace(columns["ordered_at"], pos[rows], future)
    rows = rows_of["implausibly_old_ordered_at"]
    columns["ordered_at"] = T.replace(
        columns["ordered_at"], pos[rows], [ANCIENT_TIMESTAMP] * len(rows)
    )
    rows = rows_of["non_numeric_amount"]
    comma = [v.replace(".", ",") for v in T.money(o["amount"][rows]).to_pylist()]
    choice = rng.integers(0, 3, size=len(rows))
    values = [
        comma[i] if c == 0 else ("abc" if c == 1 else "") for i, c in enumerate(choice)
    ]
    columns["amount"] = T.replace(columns["amount"], pos[rows], values)
    conf_pos = np.flatnonzero(tag == 2)
    delta = rng.integers(100, 5000, size=len(conf_pos)) * np.where(
        rng.random(len(conf_pos)) < 0.5, -1, 1
    )
    columns["amount"] = T.replace(
        columns["amount"],
        conf_pos,
        T.money(o["amount"][src[conf_pos]] + delta).to_pylist(),
    )

    # surrounding whitespace: on the customer id of customer rows, on the order id of guest rows
    pad = rng.integers(0, 3, size=len(ws_rows))
    on_customer = customer[ws_rows] >= 0

    def padded(text: str, how: int) -> str:
        return (
            (" " + text) if how == 0 else (text + " " if how == 1 else " " + text + " ")
        )

    cust_ws = ws_rows[on_customer]
    columns["customer_id"] = T.replace(
        columns["customer_id"],
        pos[cust_ws],
        [
            padded(f"C{cust_numbers[r]:0{cust_width}d}", h)
            for r, h in zip(cust_ws, pad[on_customer])
        ],
    )
    order_ws = ws_rows[~on_customer]
    columns["order_id"] = T.replace(
        columns["order_id"],
        pos[order_ws],
        [
            padded(f"O{number[r]:0{ORDER_ID_WIDTH}d}", h)
            for r, h in zip(order_ws, pad[~on_customer])
        ],
    )

    year, month, *_ = T.civil(o["t"])
    month_number = (year * 12 + month - 1)[src]
    invalid = np.concatenate(
        [rows_of[k] for k in C.BAD_KINDS if k != "exact_duplicate"]
    )
    clean_valid = np.ones(n, dtype=bool)
    clean_valid[invalid] = False
    table = pa.table([columns[c] for c in ORDER_COLUMNS], schema=schema(ORDER_COLUMNS))
    return OrderRows(
        table=table,
        month=month_number,
        clean_valid=clean_valid,
        bad_counts={k: len(v) for k, v in rows_of.items()},
        whitespace_rows=len(ws_rows),
    )


def conversions(res: ChunkResult, clean_valid: np.ndarray) -> dict[str, int]:
    """Sends and converted sends, by group (see config.CONVERSION_DEFINITION)."""
    o, s = res.orders, res.sends
    purchase = (
        clean_valid
        & (o["customer"] >= 0)
        & (o["kind"] <= 1)
        & np.isin(o["status"], C.PURCHASE_STATUS_CODES)
        & (o["amount"] > 0)
    )
    big = np.int64(2**34)
    keys = np.sort(o["customer"][purchase].astype(np.int64) * big + o["t"][purchase])
    sent = s["owner"].astype(np.int64) * big + s["sent_s"]
    idx = np.searchsorted(keys, sent, side="right")
    nxt = (
        keys[np.minimum(idx, len(keys) - 1)]
        if len(keys)
        else np.zeros(len(sent), np.int64)
    )
    converted = (idx < len(keys)) & (nxt <= sent + C.UPLIFT_WINDOW_DAYS * DAY_S)
    holdout = s["holdout"].astype(bool)
    return {
        "holdout_sends": int(holdout.sum()),
        "holdout_converted": int((converted & holdout).sum()),
        "treated_sends": int((~holdout).sum()),
        "treated_converted": int((converted & ~holdout).sum()),
    }


def line_table(res: ChunkResult, first_order_number: int) -> pa.Table:
    lines = res.lines
    return pa.table(
        [
            T.ids("O", first_order_number + lines.row, ORDER_ID_WIDTH),
            T.ids("P", lines.product + 1, PRODUCT_ID_WIDTH),
            T.integers(lines.quantity),
            T.money(lines.unit_price),
            T.money(lines.amount),
        ],
        schema=schema(LINE_COLUMNS),
    )


def event_table(res: ChunkResult, cust_width: int) -> pa.Table:
    e = res.events
    product = e["product"]
    return pa.table(
        [
            T.ids("C", res.customers.number[e["customer"]], cust_width),
            T.timestamps(e["t"]),
            T.vocab(C.EVENT_TYPES, e["type"]),
            T.ids(
                "P", np.maximum(product, 0) + 1, PRODUCT_ID_WIDTH, present=product >= 0
            ),
        ],
        schema=schema(EVENT_COLUMNS),
    )


def customer_table(cus: Customers, cust_width: int) -> pa.Table:
    return pa.table(
        [
            T.ids("C", cus.number, cust_width),
            T.timestamps(cus.signup_s),
            T.vocab(C.BOOLS, cus.consent[:, 0]),
            T.vocab(C.BOOLS, cus.consent[:, 1]),
            T.vocab(C.BOOLS, cus.consent[:, 2]),
        ],
        schema=schema(CUSTOMER_COLUMNS),
    )


def send_table(res: ChunkResult, first_send_number: int, cust_width: int) -> pa.Table:
    s = res.sends
    return pa.table(
        [
            T.ids("S", first_send_number + np.arange(len(s["owner"])), SEND_ID_WIDTH),
            T.vocab(C.OFFER_IDS, s["offer"]),
            T.ids("C", res.customers.number[s["owner"]], cust_width),
            T.vocab(C.SEND_CHANNELS, s["channel"]),
            T.timestamps(s["sent_s"]),
            T.vocab(C.BOOLS, s["holdout"].astype(np.int8)),
        ],
        schema=schema(SEND_COLUMNS),
    )


def product_table(cat: Catalogue) -> pa.Table:
    return pa.table(
        [
            T.ids("P", cat.product_number, PRODUCT_ID_WIDTH),
            pa.array(cat.names, type=pa.string()),
            T.vocab(cat.category_names, cat.category),
            T.money(cat.unit_cost),
        ],
        schema=schema(PRODUCT_COLUMNS),
    )
