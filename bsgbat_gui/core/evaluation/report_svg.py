"""Small static SVG charts for the survey report: bars, a heatmap, a scatter, a strip plot.

Plain SVG text, no JavaScript and no fonts to fetch, so the report stays one self-contained file
that prints as it shows. Every label passes through :func:`html.escape` (species, sites and
folder names come from the user's files).
"""

from __future__ import annotations

import math
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

DETECTED_COLOUR = "#9ecae1"
VERIFIED_COLOUR = "#08519c"
AXIS_COLOUR = "#444"
GRID_COLOUR = "#ddd"
FONT = "font-family:sans-serif"


def _svg(width: float, height: float, body: list[str], label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="figure" role="img" '
        f'aria-label="{escape(label)}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" style="{FONT};font-size:11px">'
        f"<title>{escape(label)}</title>" + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, text: str, *, anchor: str = "start", extra: str = "") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{AXIS_COLOUR}"{extra}>'
        f"{escape(text)}</text>"
    )


def nice_step(span: float, target_ticks: int = 5) -> float:
    """A round tick step (1, 2 or 5 × 10^k) giving about ``target_ticks`` ticks over ``span``."""
    if span <= 0:
        return 1.0
    raw = span / target_ticks
    power = 10 ** math.floor(math.log10(raw))
    return float(next(m * power for m in (1, 2, 5, 10) if m * power >= raw))


def binned_bars(
    panels: Sequence[tuple[str, Mapping[int, tuple[int, int]]]],
    *,
    bin_width: int,
    x_label: str,
    label: str,
    panel_width: float = 520,
    panel_height: float = 90,
    reverse: bool = False,
) -> str:
    """Small multiples: one panel per ``(title, {bin start: (detected, verified)})``, bars of
    detected passes with the verified ones drawn over them, on a shared x-axis (``reverse``:
    growing to the left, for minutes *before* an event, so that time runs left to right).
    """
    starts = [m for _, counts in panels for m in counts]
    if not starts:
        return _svg(panel_width, 40, [_text(10, 24, "no passes to show")], label)
    lo, hi = min(starts), max(starts) + bin_width
    left, right, top_pad, bottom = 48.0, 12.0, 18.0, 34.0
    width = left + panel_width + right
    height = len(panels) * (panel_height + top_pad) + bottom
    scale_x = panel_width / (hi - lo)

    def px(minute: float) -> float:
        offset = (hi - minute) if reverse else (minute - lo)
        return left + offset * scale_x

    body: list[str] = []
    for i, (title, counts) in enumerate(panels):
        y0 = i * (panel_height + top_pad) + top_pad
        peak = max((d for d, _ in counts.values()), default=0)
        peak = max(peak, max((v for _, v in counts.values()), default=0), 1)
        body.append(_text(left, y0 - 5, title, extra=' font-style="italic"'))
        body.append(_text(left - 4, y0 + 8, str(peak), anchor="end"))
        body.append(_text(left - 4, y0 + panel_height, "0", anchor="end"))
        body.append(
            f'<line x1="{left}" y1="{y0 + panel_height:.1f}" x2="{left + panel_width}" '
            f'y2="{y0 + panel_height:.1f}" stroke="{AXIS_COLOUR}"/>'
        )
        for minute, (n_detected, n_verified) in sorted(counts.items()):
            x = min(px(minute), px(minute + bin_width))
            w = max(bin_width * scale_x - 1, 1)
            for n, colour in ((n_detected, DETECTED_COLOUR), (n_verified, VERIFIED_COLOUR)):
                if n:
                    h = panel_height * n / peak
                    body.append(
                        f'<rect x="{x:.1f}" y="{y0 + panel_height - h:.1f}" width="{w:.1f}" '
                        f'height="{h:.1f}" fill="{colour}"><title>{escape(title)}: {minute} to '
                        f"{minute + bin_width} min: {n_detected} detected, {n_verified} "
                        f"verified</title></rect>"
                    )
        if lo < 0 < hi:
            x = px(0)
            body.append(
                f'<line x1="{x:.1f}" y1="{y0:.1f}" x2="{x:.1f}" y2="{y0 + panel_height:.1f}" '
                f'stroke="{AXIS_COLOUR}" stroke-dasharray="3,3"/>'
            )
    axis_y = height - bottom + 14
    step = nice_step(hi - lo, 8)
    tick = math.ceil(lo / step) * step
    while tick <= hi:
        body.append(_text(px(tick), axis_y, f"{tick:g}", anchor="middle"))
        tick += step
    body.append(_text(left + panel_width / 2, height - 4, x_label, anchor="middle"))
    body.append(_legend(left + panel_width - 190, 4))
    return _svg(width, height, body, label)


def _legend(x: float, y: float) -> str:
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="10" height="10" fill="{DETECTED_COLOUR}"/>'
        + _text(x + 14, y + 9, "detected")
        + f'<rect x="{x + 80:.1f}" y="{y:.1f}" width="10" height="10" fill="{VERIFIED_COLOUR}"/>'
        + _text(x + 94, y + 9, "verified")
    )


def heatmap(
    rows: Sequence[str],
    columns: Sequence[str],
    values: Mapping[tuple[str, str], tuple[int, int]],
    *,
    label: str,
    cell_width: float = 64,
    cell_height: float = 20,
    row_label_width: float = 190,
) -> str:
    """A ``rows`` × ``columns`` grid of ``(detected, verified)`` counts: the cell's shade by the
    detected count (log scale), its text "detected / verified".
    """
    top = 70.0
    width = row_label_width + cell_width * max(len(columns), 1) + 70
    height = top + cell_height * max(len(rows), 1) + 8
    peak = max((d for d, _ in values.values()), default=0)
    body: list[str] = []
    for j, column in enumerate(columns):
        x = row_label_width + (j + 0.3) * cell_width
        body.append(
            _text(x, top - 6, column, anchor="start",
                  extra=f' transform="rotate(-30 {x:.1f} {top - 6:.1f})"')
        )  # fmt: skip
    for i, row in enumerate(rows):
        y = top + i * cell_height
        body.append(
            _text(row_label_width - 6, y + cell_height * 0.68, row, anchor="end",
                  extra=' font-style="italic"')
        )  # fmt: skip
        for j, column in enumerate(columns):
            n_detected, n_verified = values.get((row, column), (0, 0))
            shade = math.log1p(n_detected) / math.log1p(peak) if peak and n_detected else 0.0
            fill = _blend(shade)
            x = row_label_width + j * cell_width
            body.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{cell_width:.1f}" '
                f'height="{cell_height:.1f}" fill="{fill}" stroke="#fff"/>'
            )
            if n_detected or n_verified:
                colour = "#fff" if shade > 0.6 else "#000"
                body.append(
                    f'<text x="{x + cell_width / 2:.1f}" y="{y + cell_height * 0.68:.1f}" '
                    f'text-anchor="middle" fill="{colour}">{n_detected} / {n_verified}</text>'
                )
    return _svg(width, height, body, label)


def _blend(shade: float) -> str:
    """White to the verified colour."""
    start, end = (247, 251, 255), (8, 81, 156)
    r, g, b = (round(a + (e - a) * shade) for a, e in zip(start, end, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def scatter(
    points: Sequence[tuple[float, float, str]],
    *,
    label: str,
    x_label: str = "longitude (°)",
    y_label: str = "latitude (°)",
    size: float = 360,
) -> str:
    """Labelled points ``(x, y, name)`` on plain axes (no map), the axes padded around them."""
    left, bottom, pad = 56.0, 40.0, 16.0
    width = left + size + 140
    height = size + bottom + pad
    if not points:
        return _svg(width, 40, [_text(10, 24, "no site has a position")], label)
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 0.01) * 1.2
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    x0, y0 = cx - span / 2, cy - span / 2

    def px(x: float) -> float:
        return left + (x - x0) / span * size

    def py(y: float) -> float:
        return pad + size - (y - y0) / span * size

    body = [
        f'<rect x="{left}" y="{pad}" width="{size}" height="{size}" fill="none" '
        f'stroke="{AXIS_COLOUR}"/>'
    ]
    step = nice_step(span, 5)
    digits = max(0, -math.floor(math.log10(step)))
    tick = math.ceil(x0 / step) * step
    while tick <= x0 + span:
        body.append(_text(px(tick), pad + size + 14, f"{tick:.{digits}f}", anchor="middle"))
        body.append(
            f'<line x1="{px(tick):.1f}" y1="{pad}" x2="{px(tick):.1f}" y2="{pad + size}" '
            f'stroke="{GRID_COLOUR}"/>'
        )
        tick += step
    tick = math.ceil(y0 / step) * step
    while tick <= y0 + span:
        body.append(_text(left - 4, py(tick) + 4, f"{tick:.{digits}f}", anchor="end"))
        body.append(
            f'<line x1="{left}" y1="{py(tick):.1f}" x2="{left + size}" y2="{py(tick):.1f}" '
            f'stroke="{GRID_COLOUR}"/>'
        )
        tick += step
    for x, y, name in points:
        body.append(
            f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="5" fill="{VERIFIED_COLOUR}">'
            f"<title>{escape(name)}: {y:.5f}, {x:.5f}</title></circle>"
        )
        body.append(_text(px(x) + 8, py(y) + 4, name))
    body.append(_text(left + size / 2, height - 4, x_label, anchor="middle"))
    body.append(
        _text(14, pad + size / 2, y_label, anchor="middle",
              extra=f' transform="rotate(-90 14 {pad + size / 2:.1f})"')
    )  # fmt: skip
    return _svg(width, height, body, label)


def strip_plot(
    rows: Sequence[tuple[str, Sequence[float], Sequence[float]]],
    *,
    label: str,
    x_label: str,
    row_label_width: float = 190,
    plot_width: float = 420,
    row_height: float = 22,
) -> str:
    """One row per ``(name, first values, last values)``: filled dots for the first, open ones for
    the last, on a shared x-axis with a dashed line at 0.
    """
    values = [v for _, first, last in rows for v in (*first, *last)]
    top, bottom = 22.0, 36.0
    width = row_label_width + plot_width + 16
    height = top + row_height * max(len(rows), 1) + bottom
    if not values:
        return _svg(width, 40, [_text(10, 24, "no passes placed relative to sunset")], label)
    lo, hi = min(*values, 0.0), max(*values, 0.0)
    step = nice_step(hi - lo or 60, 6)
    lo, hi = math.floor(lo / step) * step, math.ceil(hi / step) * step
    if hi == lo:
        hi = lo + step

    def px(v: float) -> float:
        return row_label_width + (v - lo) / (hi - lo) * plot_width

    body = [
        f'<circle cx="{row_label_width:.1f}" cy="8" r="4" fill="{VERIFIED_COLOUR}"/>',
        _text(row_label_width + 8, 12, "first pass of a night"),
        f'<circle cx="{row_label_width + 150:.1f}" cy="8" r="4" fill="none" '
        f'stroke="{VERIFIED_COLOUR}"/>',
        _text(row_label_width + 158, 12, "last pass"),
    ]
    for i, (name, first, last) in enumerate(rows):
        y = top + (i + 0.5) * row_height
        body.append(_text(row_label_width - 6, y + 4, name, anchor="end",
                          extra=' font-style="italic"'))  # fmt: skip
        body.append(
            f'<line x1="{row_label_width}" y1="{y:.1f}" x2="{row_label_width + plot_width}" '
            f'y2="{y:.1f}" stroke="{GRID_COLOUR}"/>'
        )
        body.extend(
            f'<circle cx="{px(v):.1f}" cy="{y:.1f}" r="4" fill="{VERIFIED_COLOUR}" '
            f'fill-opacity="0.7"/>'
            for v in first
        )
        body.extend(
            f'<circle cx="{px(v):.1f}" cy="{y:.1f}" r="4" fill="none" stroke="{VERIFIED_COLOUR}"/>'
            for v in last
        )
    axis_y = top + row_height * max(len(rows), 1)
    body.append(
        f'<line x1="{px(0):.1f}" y1="{top}" x2="{px(0):.1f}" y2="{axis_y:.1f}" '
        f'stroke="{AXIS_COLOUR}" stroke-dasharray="3,3"/>'
    )
    tick = lo
    while tick <= hi + 1e-9:
        body.append(_text(px(tick), axis_y + 14, f"{tick:g}", anchor="middle"))
        tick += step
    body.append(_text(row_label_width + plot_width / 2, height - 4, x_label, anchor="middle"))
    return _svg(width, height, body, label)
