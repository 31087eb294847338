"""Command line of the demo-data generator (scripts/generate_data.py)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from tqdm import tqdm

from . import config as C
from .generate import generate, is_fresh

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2  # argparse's own code for bad arguments
EXIT_INTERRUPTED = 130

DESCRIPTION = """\
Write a deterministic demo data set for the Loyalty Segments project: a folder laid out as
the input contract in README.md expects (point LOYALTY_DATA_DIR at it).

  orders/YYYY-MM.parquet  one file per month: order_id, customer_id, ordered_at, amount,
                          currency, status, channel, discount_amount
  order_lines.parquet     order_id, product_id, quantity, unit_price, amount
  products.csv            product_id, product_name, category, unit_cost
  customers.csv           customer_id, signup_at, consent_email, consent_sms, consent_push
  events.parquet          customer_id, event_at, event_type, product_id
  offer_sends.csv         send_id, offer_id, customer_id, channel, sent_at, is_holdout
  _generator.json         parameters, true uplift and conversion, exact counts per file and
                          per kind of deliberately bad row

Every value is written as text. About 0.5 % of order rows are deliberately bad (blank id,
unparseable/future/1900 timestamp, non-numeric amount, unknown currency or status, exact and
conflicting duplicates); a few ids carry surrounding spaces (valid after trimming).
The same seed, sizes and end date give byte-identical files."""

EPILOG = """\
sizes: with neither --customers nor --orders: 10000 customers and about 100000 order rows;
with one of them the other follows at about 10 orders per customer. 1M customers / 10M orders
take about a minute and under 1 GB of memory; order lines and events make the largest files
(--no-lines, --no-events leave them out).

environment:
  LOYALTY_TODAY=YYYY-MM-DD  the day taken as today for the default --end-date (which is the day
                          before it); unset or empty: the clock's date. Lets tests and scheduled
                          jobs generate the same data whatever day they run.

exit codes: 0 written (or already up to date with --if-stale), 1 failed while writing,
2 bad arguments (or a malformed LOYALTY_TODAY), 130 interrupted.

examples:
  %(prog)s --out data/demo --if-stale
  %(prog)s --out /tmp/big --orders 10000000 --no-events --format parquet
  %(prog)s --out /tmp/csv --customers 2000 --end-date 2025-06-30 --format csv"""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0: {value}")
    return value


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a date in YYYY-MM-DD form: {text!r}"
        ) from None


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1: {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="generate_data.py",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("data/demo"),
        metavar="DIR",
        help="folder to write (created if missing; the generator's own files in it "
        "are replaced, other files are left alone) (default: %(default)s)",
    )
    parser.add_argument(
        "--customers",
        type=_positive_int,
        metavar="N",
        help=f"number of customers (default: {C.DEFAULT_CUSTOMERS}, or --orders / "
        f"{C.ORDERS_PER_CUSTOMER})",
    )
    parser.add_argument(
        "--orders",
        type=_positive_int,
        metavar="N",
        help="target number of order rows, returns and guest orders included; the "
        "result lands within a few per cent (default: "
        f"{C.ORDERS_PER_CUSTOMER} x customers)",
    )
    parser.add_argument(
        "--seed",
        type=_non_negative_int,
        default=42,
        help="random seed (default: %(default)s)",
    )
    parser.add_argument(
        "--end-date",
        type=_iso_date,
        metavar="YYYY-MM-DD",
        help="last day of the history; no valid order is later (default: yesterday, "
        "the day before LOYALTY_TODAY when that is set)",
    )
    parser.add_argument(
        "--years",
        type=_positive_int,
        default=2,
        help="years of history before the end date, 1-10 (default: %(default)s)",
    )
    parser.add_argument(
        "--format",
        dest="file_format",
        choices=("parquet", "csv"),
        default="parquet",
        help="format of orders, order_lines and events; products, customers and "
        "offer_sends are always CSV (default: %(default)s)",
    )
    parser.add_argument(
        "--uplift",
        type=_share,
        default=C.DEFAULT_UPLIFT,
        help="true effect of an offer: probability that a treated (not held-out) "
        f"send causes an extra order within {C.UPLIFT_WINDOW_DAYS} days "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--if-stale",
        action="store_true",
        help="do nothing when DIR already holds a complete run with the same "
        "parameters and end date; otherwise generate",
    )
    parser.add_argument(
        "--no-lines",
        action="store_true",
        help="skip order_lines (about twice as many rows as orders)",
    )
    parser.add_argument(
        "--no-events",
        action="store_true",
        help="skip events (about four times as many rows as orders)",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="no progress bar or summary"
    )
    return parser


def config_from_args(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> C.GeneratorConfig:
    """Resolve defaults that depend on each other; bad combinations exit with status 2."""
    customers, orders = args.customers, args.orders
    if customers is None and orders is None:
        customers = C.DEFAULT_CUSTOMERS
    if customers is None:
        customers = max(1, round(orders / C.ORDERS_PER_CUSTOMER))
    if orders is None:
        orders = customers * C.ORDERS_PER_CUSTOMER
    try:
        return C.GeneratorConfig(
            end_date=args.end_date or C.default_end_date(),
            seed=args.seed,
            customers=customers,
            orders=orders,
            years=args.years,
            file_format=args.file_format,
            lines=not args.no_lines,
            events=not args.no_events,
            uplift=args.uplift,
        )
    except ValueError as exc:
        parser.error(str(exc))
        raise  # not reached: parser.error exits


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    cfg = config_from_args(parser, args)
    out: Path = args.out
    if args.if_stale and is_fresh(out, cfg):
        if not args.quiet:
            print(
                f"{out}: up to date (same parameters and end date {cfg.end_date}), nothing to do"
            )
        return EXIT_OK
    started = time.monotonic()
    try:
        with tqdm(
            total=cfg.customers,
            unit="customer",
            unit_scale=True,
            disable=args.quiet,
            desc="generating",
            file=sys.stderr,
        ) as bar:
            manifest = generate(cfg, out, progress=bar.update)
    except KeyboardInterrupt:
        print("interrupted; the output folder is incomplete", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if not args.quiet:
        counts = manifest["counts"]
        print(
            f"{out}: {counts['order_rows']} order rows in {counts['customers']} customers' history "
            f"{manifest['history']['start_date']}..{cfg.end_date}, {counts['order_lines']} lines, "
            f"{counts['events']} events, {counts['offer_sends']} offer sends, "
            f"{manifest['bad_rows_total']} deliberately bad rows; {time.monotonic() - started:.1f} s"
        )
    return EXIT_OK
