"""Fixtures shared by the engine tests."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import pytest
from dbt_project_runner import REPO

sys.path.insert(0, str(REPO / "scripts"))
import local_postgres


@pytest.fixture(scope="session")
def postgres():
    # not under pytest's tmp_path: its folders are private to the user running the tests, and under
    # root the server runs as the postgres user
    directory = Path(tempfile.mkdtemp(prefix="loyalty-postgres-"))
    directory.chmod(0o755)
    server = local_postgres.start(directory / "server")
    try:
        yield server
    finally:
        local_postgres.stop(directory / "server")
        shutil.rmtree(directory, ignore_errors=True)
