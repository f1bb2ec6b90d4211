"""The geometry of the dashboard's bar chart (activity per year), drawn as SVG by the template."""

from __future__ import annotations

import math
from dataclasses import dataclass

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 40, 10, 12, 28


@dataclass(frozen=True)
class Bar:
    year: int
    count: int
    x: float
    y: float
    width: float
    height: float
    labelled: bool  # the year is written under this bar


@dataclass(frozen=True)
class Tick:
    value: int
    y: float


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[Tick]
    baseline: float
    left: int
    right: float
    total: int


def _step(top: int) -> int:
    """A round step for about four grid lines up to ``top``."""
    raw = max(1, math.ceil(top / 4))
    magnitude = 10 ** (len(str(raw)) - 1)
    for nice in (1, 2, 5, 10):
        if raw <= nice * magnitude:
            return nice * magnitude
    return raw  # pragma: no cover


def through_year(points: list[dict[str, int]], year: int) -> list[dict[str, int]]:
    """The points extended with zeros up to ``year`` (the office's current year): the silent years since the
    last activity are what a manager looks for, so the chart never stops at the last busy year."""
    if not points:
        return []
    last = points[-1]["year"]
    return [*points, *({"year": y, "count": 0} for y in range(last + 1, year + 1))]


def bar_chart(points: list[dict[str, int]], *, through: int | None = None) -> Chart | None:
    """Bars for ``[{"year", "count"}]`` (consecutive years), through the year ``through`` when given (silent years
    drawn as empty slots), or None when there is nothing to draw. The years are written under every n-th bar
    counted back from the last, so the current year is always named."""
    if through is not None:
        points = through_year(points, through)
    if not points:
        return None
    step = _step(max(p["count"] for p in points))
    top = max(step, math.ceil(max(p["count"] for p in points) / step) * step)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(points)
    every = max(1, math.ceil(len(points) / 12))
    bars = []
    for i, p in enumerate(points):
        h = plot_h * p["count"] / top
        bars.append(
            Bar(
                year=p["year"],
                count=p["count"],
                x=round(LEFT + i * slot + slot * 0.15, 2),
                y=round(TOP + plot_h - h, 2),
                width=round(slot * 0.7, 2),
                height=round(h, 2),
                labelled=(len(points) - 1 - i) % every == 0,
            )
        )
    ticks = [Tick(v, round(TOP + plot_h - plot_h * v / top, 2)) for v in range(0, top + 1, step)]
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        bars=bars,
        ticks=ticks,
        baseline=TOP + plot_h,
        left=LEFT,
        right=WIDTH - RIGHT,
        total=sum(p["count"] for p in points),
    )
