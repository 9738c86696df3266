"""Hand-written inline SVG for the overview pages: escaped text, basic shapes and a date scale."""

from __future__ import annotations

import datetime as dt
from html import escape

from .fmt import text as plain


def esc(value: object) -> str:
    """Workbook text as safe HTML/SVG text: XML-illegal characters dropped, markup escaped."""
    return escape(plain(value), quote=True)


def num(x: float) -> str:
    """A coordinate with at most one decimal, written the same way every run."""
    s = f"{x:.1f}"
    return s[:-2] if s.endswith(".0") else s


def _attrs(cls: str, extra: dict[str, object]) -> str:
    out = f' class="{cls}"' if cls else ""
    for k, v in extra.items():
        if v is not None:
            out += f' {k.rstrip("_").replace("_", "-")}="{esc(v)}"'
    return out


def _body(tip: str | None) -> str:
    return f"<title>{esc(tip)}</title>" if tip else ""


def rect(x: float, y: float, w: float, h: float, cls: str = "", tip: str | None = None, **extra: object) -> str:
    a = _attrs(cls, extra)
    geo = f'x="{num(x)}" y="{num(y)}" width="{num(max(w, 0.0))}" height="{num(max(h, 0.0))}"'
    return f"<rect {geo}{a}>{_body(tip)}</rect>" if tip else f"<rect {geo}{a}/>"


def line(x1: float, y1: float, x2: float, y2: float, cls: str = "", **extra: object) -> str:
    return f'<line x1="{num(x1)}" y1="{num(y1)}" x2="{num(x2)}" y2="{num(y2)}"{_attrs(cls, extra)}/>'


def circle(cx: float, cy: float, r: float, cls: str = "", tip: str | None = None, **extra: object) -> str:
    a = _attrs(cls, extra)
    return f'<circle cx="{num(cx)}" cy="{num(cy)}" r="{num(r)}"{a}>{_body(tip)}</circle>'


def diamond(cx: float, cy: float, r: float, cls: str = "", tip: str | None = None, **extra: object) -> str:
    pts = f"{num(cx)},{num(cy - r)} {num(cx + r)},{num(cy)} {num(cx)},{num(cy + r)} {num(cx - r)},{num(cy)}"
    return f'<polygon points="{pts}"{_attrs(cls, extra)}>{_body(tip)}</polygon>'


def text(x: float, y: float, s: object, cls: str = "", anchor: str | None = None, **extra: object) -> str:
    a = _attrs(cls, {"text-anchor": anchor, **extra})
    return f'<text x="{num(x)}" y="{num(y)}"{a}>{esc(s)}</text>'


def svg(width: float, height: float, body: list[str], label: str, cls: str = "chart") -> str:
    """An inline <svg> element (no xmlns needed inside HTML), scaled down by CSS when the page is narrower."""
    return (
        f'<svg class="{cls}" viewBox="0 0 {num(width)} {num(height)}" width="{num(width)}" height="{num(height)}"'
        f' role="img" aria-label="{esc(label)}"><title>{esc(label)}</title>{"".join(body)}</svg>'
    )


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
