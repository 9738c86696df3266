"""Chart geometry for the overview pages: shapes as plain coordinates, classes and text, and a date scale.

No markup here: templates/_macros.html draws a Chart (the `chart` and `shape` macros), escaping every
text with the template's autoescape.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from pipeline.core.fmt import text as plain

# The charts' geometry (SVG user units; CSS scales the charts down to the page or A4 width).
WIDTH = 760  # about the printable width of A4 at 96 dpi, so charts print near full size
LABEL_W = 200
PLOT_X0, PLOT_X1 = LABEL_W + 8, WIDTH - 12


def num(x: float) -> str:
    """A coordinate with at most one decimal, written the same way every run (the templates' `num` filter)."""
    s = f"{x:.1f}"
    return s[:-2] if s.endswith(".0") else s


@dataclass(frozen=True)
class Shape:
    """One element of a chart. kind: rect | line | circle | diamond | text. A rect is (x, y, w, h); a line
    runs from (x, y) to (x2, y2); a circle or diamond is centred on (x, y) with radius r; a text starts (or
    ends, by anchor) at (x, y). tip is the hover title, cls the CSS class (templates/style.css)."""

    kind: str
    x: float
    y: float
    w: float = 0.0
    h: float = 0.0
    x2: float = 0.0
    y2: float = 0.0
    r: float = 0.0
    cls: str = ""
    tip: str | None = None
    text: str = ""
    anchor: str | None = None

    @property
    def points(self) -> list[tuple[float, float]]:
        """A diamond's corners: top, right, bottom, left."""
        x, y, r = self.x, self.y, self.r
        return [(x, y - r), (x + r, y), (x, y + r), (x - r, y)]


@dataclass(frozen=True)
class Chart:
    """An inline <svg> (no xmlns needed inside HTML), scaled down by CSS when the page is narrower."""

    width: float
    height: float
    label: str
    shapes: list[Shape] = field(default_factory=list)
    cls: str = "chart"


def rect(x: float, y: float, w: float, h: float, cls: str = "", tip: str | None = None) -> Shape:
    return Shape("rect", x, y, w=max(w, 0.0), h=max(h, 0.0), cls=cls, tip=tip)


def line(x1: float, y1: float, x2: float, y2: float, cls: str = "") -> Shape:
    return Shape("line", x1, y1, x2=x2, y2=y2, cls=cls)


def circle(cx: float, cy: float, r: float, cls: str = "", tip: str | None = None) -> Shape:
    return Shape("circle", cx, cy, r=r, cls=cls, tip=tip)


def diamond(cx: float, cy: float, r: float, cls: str = "", tip: str | None = None) -> Shape:
    return Shape("diamond", cx, cy, r=r, cls=cls, tip=tip)


def text(x: float, y: float, s: object, cls: str = "", anchor: str | None = None) -> Shape:
    return Shape("text", x, y, cls=cls, text=plain(s), anchor=anchor)


def clip(s: object, limit: int) -> str:
    """Text cut to `limit` characters with an ellipsis (SVG text does not wrap)."""
    t = plain(s).replace("\n", " ")
    return t if len(t) <= limit else t[: max(limit - 1, 1)] + "…"


class DateScale:
    """Maps dates in [start, end) to x in [x0, x1]; dates outside are clamped to the edges."""

    def __init__(self, start: dt.date, end: dt.date, x0: float, x1: float):
        self.start, self.end, self.x0, self.x1 = start, end, x0, x1
        self.days = max((end - start).days, 1)

    def x(self, d: dt.date) -> float:
        f = (d - self.start).days / self.days
        return self.x0 + min(max(f, 0.0), 1.0) * (self.x1 - self.x0)

    def visible(self, a: dt.date, b: dt.date) -> bool:
        return a < self.end and b >= self.start
