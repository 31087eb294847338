"""Calendar of the simulated shop: seasonality and the warp between calendar and shopping time.

Customers shop on their own rhythm in "shopping time", where one unit is an average day. Mapping
shopping time back to calendar time through the cumulative daily intensity packs more purchases into
busy days (December, Black Friday weekend, Fridays and Saturdays) and fewer into quiet ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

# January .. December
MONTH_WEIGHTS = np.array(
    [0.85, 0.78, 0.88, 0.92, 0.95, 0.90, 0.90, 0.93, 0.95, 1.00, 1.25, 1.70]
)
# Monday .. Sunday
WEEKDAY_WEIGHTS = np.array([0.95, 0.94, 0.96, 1.00, 1.07, 1.10, 0.98])
# Hour of day (UTC) of orders and events.
HOUR_WEIGHTS = np.array(
    [
        0.40,
        0.25,
        0.15,
        0.10,
        0.10,
        0.15,
        0.30,
        0.60,
        0.90,
        1.10,
        1.20,
        1.25,
        1.35,
        1.30,
        1.20,
        1.15,
        1.15,
        1.20,
        1.35,
        1.60,
        1.75,
        1.60,
        1.20,
        0.70,
    ]
)
HOUR_P = HOUR_WEIGHTS / HOUR_WEIGHTS.sum()
EPOCH = date(1970, 1, 1)
PRE_HISTORY_DAYS = 3 * 365  # sign-ups of customers who joined before the history starts


def epoch_day(d: date) -> int:
    return (d - EPOCH).days


def _black_friday(year: int) -> date:
    nov1 = date(year, 11, 1)
    first_thursday = nov1 + timedelta(days=(3 - nov1.weekday()) % 7)
    return first_thursday + timedelta(days=22)


def daily_intensity(first: date, last: date) -> np.ndarray:
    """Relative order volume of each day from first to last (inclusive), mean 1."""
    n = (last - first).days + 1
    d64 = np.arange(epoch_day(first), epoch_day(first) + n).astype("datetime64[D]")
    month = d64.astype("datetime64[M]").astype(np.int64) % 12
    weekday = (d64.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
    weights = MONTH_WEIGHTS[month] * WEEKDAY_WEIGHTS[weekday]
    for year in range(first.year, last.year + 1):
        bf = epoch_day(_black_friday(year)) - epoch_day(first)
        for offset, boost in (
            (0, 2.2),
            (1, 1.6),
            (2, 1.4),
            (3, 1.9),
        ):  # Friday .. Cyber Monday
            if 0 <= bf + offset < n:
                weights[bf + offset] *= boost
        xmas = epoch_day(date(year, 12, 25)) - epoch_day(first)
        for offset, factor in ((0, 0.45), (1, 1.3)):
            if 0 <= xmas + offset < n:
                weights[xmas + offset] *= factor
    return weights / weights.mean()


@dataclass(frozen=True)
class Timeline:
    """Days are epoch days (float); the window holds start_day .. end_day inclusive."""

    origin_day: int
    start_day: int
    end_day: int
    intensity: np.ndarray
    cumulative: np.ndarray  # shopping time at each day edge, from origin_day

    @classmethod
    def build(cls, start: date, end: date) -> Timeline:
        origin = start - timedelta(days=PRE_HISTORY_DAYS)
        intensity = daily_intensity(origin, end + timedelta(days=30))
        cumulative = np.concatenate([[0.0], np.cumsum(intensity)])
        return cls(
            epoch_day(origin), epoch_day(start), epoch_day(end), intensity, cumulative
        )

    @property
    def start_seconds(self) -> int:
        return self.start_day * 86_400

    @property
    def end_seconds(self) -> int:
        """First second after the history (midnight after the end date)."""
        return (self.end_day + 1) * 86_400

    def to_shopping(self, day: np.ndarray | float) -> np.ndarray:
        edges = np.arange(len(self.cumulative), dtype=np.float64)
        return np.interp(
            np.asarray(day, dtype=np.float64) - self.origin_day, edges, self.cumulative
        )

    def to_calendar(self, u: np.ndarray) -> np.ndarray:
        edges = np.arange(len(self.cumulative), dtype=np.float64)
        return np.interp(u, self.cumulative, edges) + self.origin_day

    def window_shopping(self) -> tuple[float, float]:
        """Shopping time at the start of the history and right after its end."""
        lo, hi = self.to_shopping(np.array([self.start_day, self.end_day + 1.0]))
        return float(lo), float(hi)

    def seconds_on_day(self, rng: np.random.Generator, days: np.ndarray) -> np.ndarray:
        """Epoch seconds at a realistic time of day on each of the given (floored) days."""
        hour = rng.choice(24, size=len(days), p=HOUR_P)
        return (
            np.floor(days).astype(np.int64) * 86_400
            + hour * 3600
            + rng.integers(0, 3600, size=len(days))
        )

    def random_days(
        self,
        rng: np.random.Generator,
        n: int,
        first_day: int,
        last_day: int,
        trend: float = 0.0,
    ) -> np.ndarray:
        """n days in first_day..last_day, following the seasonality (and a linear growth trend)."""
        lo, hi = first_day - self.origin_day, last_day - self.origin_day + 1
        weights = self.intensity[lo:hi] * (1.0 + trend * np.linspace(0.0, 1.0, hi - lo))
        cdf = np.cumsum(weights)
        picks = np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right")
        return (np.minimum(picks, hi - lo - 1) + first_day).astype(np.int64)
