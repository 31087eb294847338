"""Wall time and peak resident memory of one command and its process tree."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

GNU_TIME = Path("/usr/bin/time")
_MAX_RSS = re.compile(r"Maximum resident set size \(kbytes\):\s*(\d+)")


@dataclass(frozen=True)
class Measurement:
    """One finished command: wall seconds, peak RSS in MB (None if unknown) and exit status;
    ``peak_tree_mb`` is the sampled peak of the summed RSS of its process group, when sampled."""

    seconds: float
    peak_rss_mb: float | None
    returncode: int
    peak_tree_mb: float | None = None

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def parse_gnu_time(text: str) -> float | None:
    """Peak RSS in MB from the report of ``/usr/bin/time -v``."""
    match = _MAX_RSS.search(text)
    return int(match.group(1)) / 1024 if match else None


def group_rss_mb(group: int) -> float:
    """Summed resident memory of the processes of one process group, in MB (from /proc)."""
    page = os.sysconf("SC_PAGE_SIZE")
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if len(fields) > 21 and fields[2] == str(group):
            total += int(fields[21]) * page
    return total / 2**20


class GroupSampler:
    """Peak of ``group_rss_mb`` while a command runs, sampled every ``interval`` seconds."""

    def __init__(self, group: int, interval: float = 0.2) -> None:
        self.group = group
        self.interval = interval
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, group_rss_mb(self.group))
            self._stop.wait(self.interval)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak


def run_measured(
    command: Sequence[str],
    *,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    gnu_time: Path | None = GNU_TIME,
    sample_tree: bool = False,
) -> Measurement:
    """Run ``command`` with stdout and stderr to ``log_path``; time it and take its peak RSS.

    The peak RSS is the kernel's ``ru_maxrss`` of the child, which covers every descendant it
    waited for: the largest single process of the tree (dbt and the floor query each do their
    work in one process). It is read with ``/usr/bin/time -v`` when that exists, otherwise from
    ``os.wait4`` directly (the same number). With ``sample_tree`` the summed RSS of the command's
    process group (every process it started, e.g. a Spark session's JVM beside its Python driver)
    is also sampled five times a second; its peak is ``peak_tree_mb``.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    use_time = gnu_time is not None and gnu_time.is_file() and os.access(gnu_time, os.X_OK)
    rss_path = log_path.with_name(log_path.name + ".time")
    full = [str(gnu_time), "-v", "-o", str(rss_path), *command] if use_time else list(command)
    with open(log_path, "wb") as log:
        started = time.perf_counter()
        proc = subprocess.Popen(
            full,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env) if env else None,
            cwd=cwd,
            start_new_session=True,  # its own process group, so that it can be stopped whole
        )
        sampler = GroupSampler(proc.pid) if sample_tree else None
        if sampler is not None:
            sampler.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            stop_group(proc)
            raise
        finally:
            tree_peak = sampler.stop() if sampler is not None else None
        seconds = time.perf_counter() - started
    returncode = os.waitstatus_to_exitcode(status)
    proc.returncode = returncode  # reaped by wait4; keep Popen from waiting again
    if use_time:
        try:
            peak = parse_gnu_time(rss_path.read_text(encoding="utf-8", errors="replace"))
        finally:
            rss_path.unlink(missing_ok=True)
    else:
        peak = usage.ru_maxrss / 1024
    return Measurement(seconds=seconds, peak_rss_mb=peak, returncode=returncode,
                       peak_tree_mb=tree_peak or None)


def stop_group(proc: subprocess.Popen[bytes], grace_seconds: float = 20.0) -> None:
    """Stop a command started by ``run_measured`` and everything it started (SIGTERM, then KILL)."""
    for sig, wait in ((signal.SIGTERM, grace_seconds), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def log_tail(log_path: Path, lines: int = 60) -> str:
    """The last lines of a command's log, for error messages."""
    try:
        text = log_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
