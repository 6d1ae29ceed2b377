"""The expiry chart of the points page: bar geometry for a server-rendered SVG (no JavaScript)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime

from django.utils import formats

WIDTH = 720
HEIGHT = 240
LEFT = 44  # room for the value axis
RIGHT = 8
TOP = 22  # room for the value above the tallest bar
BOTTOM = 40  # room for month and year labels
MIN_MONTHS = 12


@dataclass(frozen=True)
class Bar:
    month: date
    points: int
    x: float
    y: float
    width: float
    height: float
    center: float
    label: str  # "Mar"
    year: str  # "2027" under the first month and every January, else ""
    share: float  # percent of the tallest bar (the bar list shown on narrow screens)


@dataclass(frozen=True)
class Tick:
    y: float
    value: int


@dataclass(frozen=True)
class ExpiryChart:
    bars: list[Bar]
    ticks: list[Tick]
    total: int
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    baseline: int = HEIGHT - BOTTOM

    @property
    def months_with_points(self) -> list[Bar]:
        return [bar for bar in self.bars if bar.points]


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _nice_step(maximum: int) -> int:
    """A round step (1, 2, 5 × 10ⁿ) that splits 0..maximum into at most four intervals."""
    raw = max(1, maximum) / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    factor = next(f for f in (1, 2, 5, 10) if f * magnitude >= raw)
    return max(1, int(factor * magnitude))


def expiry_chart(forecast: list[tuple[datetime, int]], *, today: date) -> ExpiryChart | None:
    """Bars for every month from this one to the last month in which points expire.

    `forecast` is points_selectors.expiry_forecast(): (first day of month, points), soonest first.
    Months without expiring points get an empty bar so the time axis stays even.
    """
    points_by_month = {
        month.date() if isinstance(month, datetime) else month: points
        for month, points in forecast
        if points
    }
    if not points_by_month:
        return None
    first = date(today.year, today.month, 1)
    last = max(max(points_by_month), first)
    months = [first]
    while months[-1] < last or len(months) < MIN_MONTHS:
        months.append(_next_month(months[-1]))
    top = max(points_by_month.values())
    step = _nice_step(top)
    scale_max = step * math.ceil(top / step)
    plot_height = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / len(months)
    bar_width = max(2.0, slot * 0.7)
    baseline = HEIGHT - BOTTOM
    bars = []
    for index, month in enumerate(months):
        points = points_by_month.get(month, 0)
        height = plot_height * points / scale_max
        x = LEFT + index * slot + (slot - bar_width) / 2
        bars.append(
            Bar(
                month=month,
                points=points,
                x=round(x, 2),
                y=round(baseline - height, 2),
                width=round(bar_width, 2),
                height=round(height, 2),
                center=round(x + bar_width / 2, 2),
                label=formats.date_format(month, "M"),
                year=str(month.year) if index == 0 or month.month == 1 else "",
                share=round(100 * points / top, 1),
            )
        )
    ticks = [
        Tick(y=round(baseline - plot_height * value / scale_max, 2), value=value)
        for value in range(0, scale_max + 1, step)
    ]
    return ExpiryChart(bars=bars, ticks=ticks, total=sum(points_by_month.values()))
