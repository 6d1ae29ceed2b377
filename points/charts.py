"""The expiry chart of the points page: bar geometry for a server-rendered SVG (no JavaScript)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from functools import cached_property

from django.contrib.humanize.templatetags.humanize import intcomma
from django.template.defaultfilters import date as date_filter
from django.utils import formats
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext

from .selectors import ExpiryForecast, add_months

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
    label: str  # "Mar", or "Later" for the bar of every month from `month` on
    year: str  # "2027" under the first month and every January, else ""
    share: float  # percent of the tallest bar (the bar list shown on narrow screens)
    later: bool = False

    # The texts the page shows, formatted once here rather than by tags in the template's loops
    # (the same message ids as those tags had).
    @cached_property
    def points_text(self) -> str:
        return intcomma(self.points)

    @cached_property
    def name(self) -> str:
        """ "March 2027", or "From April 2029 on" for the later bar."""
        month = date_filter(self.month, "F Y")
        return gettext("From %(month)s on") % {"month": month} if self.later else month

    @cached_property
    def short_name(self) -> str:
        """ "Mar 2027", or "Later"."""
        return self.label if self.later else date_filter(self.month, "M Y")

    @cached_property
    def description(self) -> str:
        """ "1,000 points in March 2027", or "20 points from April 2029 on"."""
        values = {
            "points": self.points,
            "shown": self.points_text,
            "month": date_filter(self.month, "F Y"),
        }
        if self.later:
            return (
                ngettext(
                    "%(shown)s point from %(month)s on",
                    "%(shown)s points from %(month)s on",
                    self.points,
                )
                % values
            )
        return (
            ngettext("%(shown)s point in %(month)s", "%(shown)s points in %(month)s", self.points)
            % values
        )


@dataclass(frozen=True)
class Tick:
    y: float
    value: int

    @property
    def value_text(self) -> str:
        return intcomma(self.value)


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

    @cached_property
    def months_with_points(self) -> list[Bar]:
        return [bar for bar in self.bars if bar.points]

    @property
    def bars_svg(self) -> SafeString:
        """The bars' SVG elements. Built here: a template loop over the 25 or so bars, with their
        conditions and lookups, cost more than the rest of the chart. Numbers as str() writes
        them (the template's `localize off`)."""
        month_y = self.baseline + 16
        year_y = self.baseline + 32
        return format_html_join(
            "\n",
            "{}{}{}",
            (
                (
                    format_html(
                        '<rect x="{}" y="{}" width="{}" height="{}" rx="2"><title>{}: {}</title>'
                        '</rect>\n<text class="chart-value" x="{}" y="{}" dy="-5"'
                        ' text-anchor="middle">{}</text>\n',
                        bar.x,
                        bar.y,
                        bar.width,
                        bar.height,
                        bar.name,
                        bar.points_text,
                        bar.center,
                        bar.y,
                        bar.points_text,
                    )
                    if bar.points
                    else "",
                    format_html(
                        '<text class="chart-month" x="{}" y="{}" text-anchor="middle">{}</text>',
                        bar.center,
                        month_y,
                        bar.label,
                    ),
                    format_html(
                        '<text class="chart-year" x="{}" y="{}" text-anchor="middle">{}</text>',
                        bar.center,
                        year_y,
                        bar.year,
                    )
                    if bar.year
                    else "",
                )
                for bar in self.bars
            ),
        )

    @cached_property
    def description(self) -> str:
        """The chart in words: "1,000 points in March 2027; 20 points from April 2029 on."."""
        return "; ".join(bar.description for bar in self.months_with_points) + "."


def _nice_step(maximum: int) -> int:
    """A round step (1, 2, 5 × 10ⁿ) that splits 0..maximum into at most four intervals."""
    raw = max(1, maximum) / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    factor = next(f for f in (1, 2, 5, 10) if f * magnitude >= raw)
    return max(1, int(factor * magnitude))


def expiry_chart(forecast: ExpiryForecast) -> ExpiryChart | None:
    """A bar for every month from this one to the last in which points expire (at least a year,
    at most the forecast's months), then one "later" bar for everything after them.

    Months without expiring points get an empty bar so the time axis stays even; however far
    ahead lots expire, the chart has at most `forecast.months` + 1 bars.
    """
    points_by_month = {month: points for month, points in forecast.by_month.items() if points}
    if not points_by_month and not forecast.later:
        return None
    first = forecast.first_month
    if forecast.later:
        shown = forecast.months
    else:
        last = max(points_by_month)
        through_last = (last.year - first.year) * 12 + last.month - first.month + 1
        shown = min(max(through_last, MIN_MONTHS), forecast.months)
    slots = [
        (month, points_by_month.get(month, 0), False)
        for month in (add_months(first, index) for index in range(shown))
    ]
    if forecast.later:
        slots.append((forecast.later_from, forecast.later, True))
    top = max(points for _month, points, _later in slots)
    step = _nice_step(top)
    scale_max = step * math.ceil(top / step)
    plot_height = HEIGHT - TOP - BOTTOM
    # The "later" bar stands one empty slot apart: the time axis is not even past it.
    columns = len(slots) + 1 if forecast.later else len(slots)
    slot = (WIDTH - LEFT - RIGHT) / columns
    bar_width = max(2.0, slot * 0.7)
    baseline = HEIGHT - BOTTOM
    bars = []
    for index, (month, points, later) in enumerate(slots):
        height = plot_height * points / scale_max
        column = index + 1 if later else index
        x = LEFT + column * slot + (slot - bar_width) / 2
        bars.append(
            Bar(
                month=month,
                points=points,
                x=round(x, 2),
                y=round(baseline - height, 2),
                width=round(bar_width, 2),
                height=round(height, 2),
                center=round(x + bar_width / 2, 2),
                label=gettext("Later") if later else formats.date_format(month, "M"),
                year=str(month.year) if not later and (index == 0 or month.month == 1) else "",
                # At least a sliver, so a month with a few points still shows a bar.
                share=max(round(100 * points / top, 1), 1.0) if points else 0.0,
                later=later,
            )
        )
    ticks = [
        Tick(y=round(baseline - plot_height * value / scale_max, 2), value=value)
        for value in range(0, scale_max + 1, step)
    ]
    return ExpiryChart(bars=bars, ticks=ticks, total=sum(points for _m, points, _l in slots))
