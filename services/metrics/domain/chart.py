"""Geometry of the report's line charts: scales, SVG paths, target trajectory and RAG band.

Pure: it turns values into coordinates and path strings; the template draws them. Dates map
to x by day number, values to y (SVG's y grows downwards, so the scale is inverted).
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

WIDTH, HEIGHT = 560, 220
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 48, 40, 12, 28  # room for end labels
# A generous width per character of the 9px axis labels (DejaVu Sans digits are 5.7px), and the
# least space between two labels, so the labels kept never touch however the font renders.
LABEL_CHAR_WIDTH, LABEL_GAP = 6.0, 8.0


@dataclass(frozen=True, slots=True)
class LinearScale:
    """Maps [domain_low, domain_high] onto [range_low, range_high] linearly."""

    domain_low: float
    domain_high: float
    range_low: float
    range_high: float

    def __call__(self, value: float) -> float:
        span = self.domain_high - self.domain_low
        if span == 0:
            return (self.range_low + self.range_high) / 2
        share = (value - self.domain_low) / span
        return self.range_low + share * (self.range_high - self.range_low)


@dataclass(frozen=True, slots=True)
class ChartPoint:
    day: date  # the end of the period the value describes
    label: str
    value: float
    ci_low: float | None = None  # a survey's 95% confidence interval, when it has a sample
    ci_high: float | None = None


@dataclass(frozen=True, slots=True)
class TargetLine:
    """Where the value should be on each day (the trajectory) and the amber tolerance."""

    points: tuple[tuple[date, float], ...]
    amber_tolerance: float
    higher_is_better: bool


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    series_path: str
    markers: list[tuple[float, float]]
    whiskers: list[tuple[float, float, float]]  # x, y of the low end, y of the high end
    target_path: str | None
    green_band: str | None  # polygon points: the side of the trajectory that is on course
    amber_band: str | None  # polygon points: within the amber tolerance short of it
    y_ticks: list[tuple[float, float]]  # y, value
    x_labels: list[tuple[float, str, str]] = field(default_factory=list)  # x, text, anchor


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2 or 5 times a power of ten) covering [low, high]."""
    if high < low:
        low, high = high, low
    if high == low:
        high = low + 1
    raw_step = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw_step))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw_step)
    first = math.floor(low / step) * step
    ticks, tick = [], first
    while tick < high + step / 2:
        ticks.append(round(tick, 10))
        tick += step
    if ticks[-1] < high:
        ticks.append(round(tick, 10))
    return ticks


def path(points: Sequence[tuple[float, float]]) -> str:
    """An SVG path through the points: 'M x y L x y ...' with one decimal."""
    return " ".join(f"{'M' if i == 0 else 'L'}{x:.1f} {y:.1f}" for i, (x, y) in enumerate(points))


def polygon(points: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)


def line_chart(
    points: Sequence[ChartPoint],
    target: TargetLine | None = None,
    *,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> Chart:
    """Coordinates of a series, its confidence whiskers, its target trajectory and RAG band."""
    if not points:
        raise ValueError("a chart needs at least one point")
    target_days = [d for d, _ in target.points] if target else []
    days = [p.day for p in points]
    first_day, last_day = min(days), max(days)
    if target_days:  # the trajectory is drawn within the series' span or its own
        first_day, last_day = min(first_day, *target_days), max(last_day, *target_days)
    values = [p.value for p in points]
    values += [v for p in points for v in (p.ci_low, p.ci_high) if v is not None]
    if target:
        values += [v for _, v in target.points]
        values += [v - target.amber_tolerance for _, v in target.points]
        values += [v + target.amber_tolerance for _, v in target.points]
    ticks = nice_ticks(min(values), max(values))
    left, right = MARGIN_LEFT, width - MARGIN_RIGHT
    top, bottom = MARGIN_TOP, height - MARGIN_BOTTOM
    x = LinearScale(first_day.toordinal(), last_day.toordinal(), left, right)
    y = LinearScale(ticks[0], ticks[-1], bottom, top)
    coords = [(x(p.day.toordinal()), y(p.value)) for p in points]
    whiskers = [
        (x(p.day.toordinal()), y(p.ci_low), y(p.ci_high))
        for p in points
        if p.ci_low is not None and p.ci_high is not None
    ]
    target_path = green = amber = None
    if target and target.points:
        line = [(x(d.toordinal()), y(v)) for d, v in target.points]
        target_path = path(line)
        sign = -1 if target.higher_is_better else 1  # which way "short of target" lies
        edge = top if target.higher_is_better else bottom
        short = [(x(d.toordinal()), y(v + sign * target.amber_tolerance)) for d, v in target.points]
        green = polygon([*line, (line[-1][0], edge), (line[0][0], edge)])
        amber = polygon([*line, *reversed(short)])
    return Chart(
        width=width,
        height=height,
        plot_left=left,
        plot_right=right,
        plot_top=top,
        plot_bottom=bottom,
        series_path=path(coords),
        markers=coords,
        whiskers=whiskers,
        target_path=target_path,
        green_band=green,
        amber_band=amber,
        y_ticks=[(y(t), t) for t in ticks],
        x_labels=axis_labels([(x(p.day.toordinal()), p.label) for p in points], left, right),
    )


def axis_labels(
    labels: Sequence[tuple[float, str]], left: float, right: float
) -> list[tuple[float, str, str]]:
    """The x-axis labels that fit side by side, the last one always, with their text-anchor.

    A label is centred on its point unless it would run past the plot's margin, then it ends
    (or starts) there. From the last label back, one that would touch the label after it is
    left out: ten years of monthly values get a label every few months, not a smudge.
    """
    kept: list[tuple[float, str, str]] = []
    next_start = math.inf
    for x, text in sorted(labels, reverse=True):
        width = len(text) * LABEL_CHAR_WIDTH
        anchor, start, end = "middle", x - width / 2, x + width / 2
        if end > right + MARGIN_RIGHT:
            anchor, start, end = "end", x - width, x
        elif start < left - MARGIN_LEFT:
            anchor, start, end = "start", x, x + width
        if end + LABEL_GAP <= next_start:
            kept.append((x, text, anchor))
            next_start = start
    return kept[::-1]
