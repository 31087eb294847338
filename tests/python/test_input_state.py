"""Marts are a function of the input folder as it is now: after every kind of change to the input, a
plain `dbt build` on the same working database gives the marts of a fresh full build of that folder,
or stops before changing anything and says what changed and what to run.

One working database goes through the changes in turn (a file added, rewritten, rewritten with the
same bytes, removed, renamed; another folder; a var; a seed; the "future" cut-off moved back); after
each, its marts are compared with those of a fresh database built from the same folder. The project is
copied, so that a seed can be changed. Builds leave out data tests and unit tests (other tests run
them): what is compared here is what the models write."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from dbt_project_runner import BIN, REPO
from test_incremental import compare_schemas

AS_OF = "2025-07-01"
BUILD = ["build", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]


class Project:
    """A copy of the dbt project with one working database."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.dir = root / "project"
        self.dir.mkdir()
        for name in ("dbt_project.yml", "models", "macros", "seeds", "tests"):
            source = REPO / name
            if source.is_dir():
                shutil.copytree(source, self.dir / name, ignore=shutil.ignore_patterns("python", "__pycache__"))
            else:
                shutil.copy(source, self.dir / name)
        self.working = root / "working.duckdb"
        self.fresh_count = 0

    def dbt(self, args: list[str], data: Path, database: Path, variables: dict | None = None) -> subprocess.CompletedProcess:
        env = dict(os.environ, DBT_PROFILES_DIR=str(REPO / "profiles"), DBT_DUCKDB_PATH=str(database),
                   LOYALTY_DATA_DIR=str(data), DBT_SEND_ANONYMOUS_USAGE_STATS="False")
        command = [str(BIN / "dbt"), *args, "--vars", json.dumps({"as_of_date": AS_OF, **(variables or {})}),
                   "--project-dir", str(self.dir), "--target-path", str(self.root / "target"),
                   "--log-path", str(self.root / "logs"), "--no-use-colors"]
        return subprocess.run(command, cwd=self.root, env=env, capture_output=True, text=True, check=False)

    def build(self, data: Path, variables: dict | None = None) -> subprocess.CompletedProcess:
        result = self.dbt(BUILD, data, self.working, variables)
        assert result.returncode == 0, result.stdout[-5000:]
        return result

    def differences_from_fresh(self, data: Path, variables: dict | None = None, reuse: bool = False) -> dict:
        """Tables of `marts` that differ between the working database and a fresh full build (with
        ``reuse``, the last fresh build: the folder holds the same bytes as when it was built)."""
        if reuse:
            return compare_schemas(self.working, self.root / f"fresh{self.fresh_count}.duckdb", "marts")
        self.fresh_count += 1
        fresh = self.root / f"fresh{self.fresh_count}.duckdb"
        result = self.dbt(BUILD, data, fresh, variables)
        assert result.returncode == 0, result.stdout[-5000:]
        return compare_schemas(self.working, fresh, "marts")

    def rebuilt(self, result: subprocess.CompletedProcess) -> dict[str, str]:
        """Model -> reason, of the incremental models this run rebuilt from all their files."""
        lines = [line.split("Input state: rebuilding ", 1)[1] for line in result.stdout.splitlines()
                 if "Input state: rebuilding " in line]
        return dict(line.split(" from all its files: ", 1) for line in lines)


def order_rows(database: Path) -> int:
    with duckdb.connect(str(database), read_only=True) as connection:
        return connection.execute("select count(*) from staging.base_shop__orders_checked").fetchone()[0]


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Runs every change in turn; each step records what the build rebuilt and how its marts differ
    from a fresh full build."""
    root = tmp_path_factory.mktemp("input_state")
    data = root / "data"
    subprocess.run([sys.executable, str(REPO / "scripts" / "generate_data.py"), "--out", str(data),
                    "--customers", "200", "--seed", "7", "--quiet", "--no-events", "--end-date", "2025-06-30"],
                   check=True)
    project = Project(root)
    project.build(data)
    orders = sorted((data / "orders").glob("*.parquet"))
    steps: dict[str, dict] = {}

    def step(name: str, folder: Path = data, variables: dict | None = None, same_folder_as_before: bool = False) -> None:
        result = project.build(folder, variables)
        steps[name] = {"rebuilt": project.rebuilt(result),
                       "differences": project.differences_from_fresh(folder, variables, same_folder_as_before)}

    header = "order_id,customer_id,ordered_at,amount,currency,status,channel,discount_amount\n"
    daily = data / "orders" / "daily"
    daily.mkdir()
    (daily / "2025-06-30.csv").write_text(header + "D1,daily-customer,2025-06-30 09:00:00,12.00,GBP,,,\n")
    step("file added")

    table = pq.read_table(orders[2])
    pq.write_table(table.slice(0, table.num_rows - 2), orders[2])  # two orders fewer, same name
    step("file rewritten")

    content = orders[3].read_bytes()
    orders[3].unlink()
    orders[3].write_bytes(content)  # the same bytes again, a new modification time
    step("same bytes rewritten", same_folder_as_before=True)

    orders[4].unlink()
    step("file removed")

    orders[5].rename(orders[5].with_name("renamed-" + orders[5].name))
    step("file renamed")

    other = root / "other"
    shutil.copytree(data, other)
    (other / "orders" / "daily" / "2025-06-30.csv").write_text(
        header + "D1,daily-customer,2025-06-30 09:00:00,99.00,GBP,,,\n")  # same name, other content
    step("another folder", folder=other)

    step("var changed", variables={"min_valid_date": "2023-07-10"})  # the oldest orders become implausible

    currencies = project.dir / "seeds" / "currencies.csv"
    lines = currencies.read_text().splitlines()
    eur = next(index for index, line in enumerate(lines) if line.startswith("EUR,"))
    fields = lines[eur].split(",")
    rate = float(fields[2])
    lines[eur] = ",".join([*fields[:2], str(round(rate * 1.1, 6))])
    currencies.write_text("\n".join(lines) + "\n")
    (daily / "2025-06-30-eur.csv").write_text(header + "E1,eur-customer,2025-06-30 11:00:00,50.00,EUR,,,\n")
    project.build(data)  # loads the EUR order at the old rate
    lines[eur] = ",".join([*fields[:2], str(round(rate * 1.2, 6))])
    currencies.write_text("\n".join(lines) + "\n")
    step("seed changed")

    (daily / "2099-01-01.csv").write_text(header + "F1,far-customer,2099-01-01 09:00:00,30.00,GBP,,,\n")
    project.build(data, {"as_of_date": "2099-06-01"})  # the far order is valid as of 2099
    step("future cut-off moved back")  # as of AS_OF again: it is in the future

    before = order_rows(project.working)
    table = pq.read_table(orders[6])
    pq.write_table(table.slice(1), orders[6])
    stopped = project.dbt(["build", "-s", "dim_customers"], data, project.working)
    steps["selection without the models to rebuild"] = {
        "returncode": stopped.returncode, "output": stopped.stdout, "rows_before": before,
        "rows_after": order_rows(project.working), "file": orders[6].relative_to(data).as_posix()}
    return steps


@pytest.mark.parametrize("name", [
    "file added", "file rewritten", "same bytes rewritten", "file removed", "file renamed", "another folder",
    "var changed", "seed changed", "future cut-off moved back",
])
def test_marts_equal_a_fresh_full_build(chain: dict, name: str) -> None:
    assert chain[name]["differences"] == {}


def test_only_what_changed_is_rebuilt(chain: dict) -> None:
    # the order models, and the models that keep rows between runs: the incremental customer-months,
    # and the customer facts and measured offer sends, which reuse their previous build
    orders_chain = {"base_shop__orders_checked", "int_orders_measured", "int_customer_days_aggregated",
                    "int_customer_months_aggregated", "int_customer_facts_snapshotted", "int_offer_sends_measured"}
    assert chain["file added"]["rebuilt"] == {}
    assert chain["same bytes rewritten"]["rebuilt"] == {}
    for name in ("file rewritten", "file removed", "file renamed", "another folder", "seed changed"):
        assert set(chain[name]["rebuilt"]) == orders_chain, name
    # every incremental base model that holds rows back as "future" classifies with the cut-off
    assert set(chain["future cut-off moved back"]["rebuilt"]) == orders_chain | {
        "base_shop__events_checked", "base_shop__offer_sends_checked", "base_shop__customers_checked"}
    assert "rewritten (content differs)" in chain["file rewritten"]["rebuilt"]["base_shop__orders_checked"]
    assert "removed or renamed" in chain["file removed"]["rebuilt"]["base_shop__orders_checked"]
    assert "orders/daily/2025-06-30.csv rewritten" in chain["another folder"]["rebuilt"]["base_shop__orders_checked"]
    assert chain["seed changed"]["rebuilt"]["base_shop__orders_checked"] == \
        "changed since the last build: seed currencies"
    # min_valid_date is named by the orders and the events base models
    assert "changed since the last build: var min_valid_date" in \
        chain["var changed"]["rebuilt"]["base_shop__orders_checked"]
    assert "base_shop__events_checked" in chain["var changed"]["rebuilt"]
    assert "cut-off moved back" in chain["future cut-off moved back"]["rebuilt"]["base_shop__orders_checked"]


def test_a_selection_without_the_models_to_rebuild_stops_before_changing_anything(chain: dict) -> None:
    stopped = chain["selection without the models to rebuild"]
    assert stopped["returncode"] != 0
    assert f"{stopped['file']} rewritten (content differs)" in stopped["output"]
    assert "Nothing was changed. Run `dbt build` without a selection" in stopped["output"]
    assert stopped["rows_after"] == stopped["rows_before"]
