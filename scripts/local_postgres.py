"""A throw-away local PostgreSQL server, for the tests and for trying the postgres target.

    python scripts/local_postgres.py start DIR   # prints the PG* variables to export
    python scripts/local_postgres.py stop DIR

``start`` makes a cluster in DIR (initdb, trust authentication, listening on 127.0.0.1 only, on a
free port, its socket in DIR), starts it and creates the database ``loyalty``. The server binaries
come from Debian's packages (``/usr/lib/postgresql/<version>/bin``; ``make postgres-package``
installs them). initdb refuses to run as root, so under root the cluster belongs to the
``postgres`` user and its commands run through ``runuser``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

DATABASE = "loyalty"
USER = "postgres"


def server_bin_dir() -> Path:
    """The newest installed PostgreSQL server's bin directory."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
                        key=lambda path: int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0)
    if not candidates:
        raise SystemExit("PostgreSQL server binaries not found under /usr/lib/postgresql: run `make postgres-package`"
                         " (apt-get install postgresql)")
    return candidates[-1].parent


def as_server_user(command: list[str]) -> list[str]:
    """``command`` as the cluster's owner: ``postgres`` under root, else the current user."""
    if os.geteuid() == 0:
        return ["runuser", "-u", USER, "--", *command]
    return command


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Server:
    directory: Path
    port: int

    @property
    def env(self) -> dict[str, str]:
        """Variables for the postgres target of profiles/profiles.yml and for psql."""
        return {"PGHOST": "127.0.0.1", "PGPORT": str(self.port), "PGUSER": USER, "PGPASSWORD": "",
                "PGDATABASE": DATABASE}


def start(directory: Path) -> Server:
    """Create (when new) and start a cluster in ``directory``; returns it once it accepts connections."""
    directory = directory.resolve()
    data = directory / "data"
    bin_dir = server_bin_dir()
    directory.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(directory, USER, USER)
    if not (data / "PG_VERSION").exists():
        created = subprocess.run(as_server_user([str(bin_dir / "initdb"), "-D", str(data), "-U", USER, "--auth=trust",
                                                 "-E", "UTF8", "--locale=C.UTF-8"]),
                                 check=False, capture_output=True, text=True)
        if created.returncode != 0:
            raise SystemExit(f"initdb failed in {data} (under root the cluster belongs to the postgres user, who must"
                             f" be able to reach the folder):\n{created.stdout}{created.stderr}")
    status = subprocess.run(as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "status"]),
                            capture_output=True, text=True, check=False)
    if status.returncode == 0 and (directory / "port").exists():
        server = Server(directory, int((directory / "port").read_text()))
        create_database(server)
        return server
    port = free_port()
    options = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={directory} -c fsync=off"
    result = subprocess.run(as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(directory / "server.log"),
                                            "-o", options, "-w", "-t", "60", "start"]),
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        log = (directory / "server.log").read_text(errors="replace")[-2000:] if (directory / "server.log").exists() else ""
        raise SystemExit(f"PostgreSQL did not start in {directory}:\n{result.stdout}{result.stderr}{log}")
    server = Server(directory, port)
    (directory / "port").write_text(str(port))
    create_database(server)
    return server


def create_database(server: Server, name: str = DATABASE, replace: bool = False) -> None:
    """Create the database ``name`` when missing; ``replace`` drops it first (a fresh one)."""
    import psycopg2  # the postgres extra (requirements-engines.lock)

    deadline = time.monotonic() + 30
    while True:
        try:
            connection = psycopg2.connect(host="127.0.0.1", port=server.port, user=USER, dbname="postgres")
            break
        except psycopg2.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            if replace:
                cursor.execute(f'drop database if exists "{name}"')
            cursor.execute("select 1 from pg_database where datname = %s", (name,))
            if cursor.fetchone() is None:
                cursor.execute(f'create database "{name}"')
    finally:
        connection.close()


def stop(directory: Path) -> None:
    data = directory.resolve() / "data"
    if (data / "postmaster.pid").exists():
        subprocess.run(as_server_user([str(server_bin_dir() / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                       capture_output=True, text=True, check=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("directory", type=Path)
    args = parser.parse_args(argv)
    if args.action == "start":
        server = start(args.directory)
        for name, value in server.env.items():
            print(f"export {name}={value}")
    else:
        stop(args.directory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
