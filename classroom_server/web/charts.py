"""Charts drawn on the server as SVG: no charting script, nothing to download, prints as it shows.

Each chart is an ``<svg role="img">`` named by its ``<title>`` and described by its ``<desc>``
(the words come translated from the view), and every number it draws is also in a table next to
it on the page. Colours and symbols are the mastery grid's (static/app.css ``.c-mastered`` ...,
teacher/_states.html), so a state reads the same everywhere and never by colour alone.
The SVG is built with ElementTree, so any text in it (a skill's title, a learner's name) is
escaped and the result is well-formed XML. Presentation attributes only (``fill``, ``stroke``):
the page policy allows no inline style.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence

from markupsafe import Markup

SVG_NS = "http://www.w3.org/2000/svg"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', sans-serif"
# state -> (fill, text colour, symbol), as static/app.css and teacher/_states.html draw them
STATE_STYLE = {
    "mastered": ("#1f6f3f", "#ffffff", "★"),
    "proficient": ("#bfe3b0", "#14401f", "✓"),
    "learning": ("#d6e4f7", "#12305e", "…"),
    "needs_review": ("#ffd9b3", "#6b2e00", "↻"),
    "not_started": ("#f4f2ee", "#555555", "·"),
}
INK, FAINT, EXPECTED = "#1b1b1b", "#c8c2b4", "#a84b00"
WIDTH = 360  # drawn for a phone's width; it scales to the page's (svg.chart in app.css)


def _svg(height: float, chart_id: str, title: str, description: str) -> ET.Element:
    svg = ET.Element("svg", {
        "xmlns": SVG_NS, "viewBox": f"0 0 {WIDTH} {_n(height)}", "width": "100%", "class": "chart",
        "role": "img", "aria-labelledby": f"{chart_id}-title {chart_id}-desc", "font-family": FONT,
        "font-size": "12", "id": chart_id,
    })
    ET.SubElement(svg, "title", {"id": f"{chart_id}-title"}).text = title
    ET.SubElement(svg, "desc", {"id": f"{chart_id}-desc"}).text = description
    return svg


def _n(value: float) -> str:
    """A coordinate: at most one decimal, no trailing zero."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _text(parent: ET.Element, x: float, y: float, words: str, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, "text", {"x": _n(x), "y": _n(y), **attributes})
    element.text = words
    return element


def _markup(svg: ET.Element) -> Markup:
    return Markup(ET.tostring(svg, encoding="unicode"))  # ElementTree escaped every text in it


def _ticks(low: float, high: float, most: int = 5) -> list[int]:
    """Whole-number ticks from ``low`` to ``high`` (both included), at most about ``most``."""
    span = max(1, math.ceil(high) - math.floor(low))
    step = next(s for s in (1, 2, 5, 10, 20, 25, 50, 100, 200, 500, 1000, 10**9) if span / s <= most)
    first = math.floor(low / step) * step
    return list(range(first, math.ceil(high / step) * step + 1, step))


def growth_chart(growth: Sequence[int], expected: Sequence[float], labels: Sequence[str], *, chart_id: str,
                 title: str, description: str, legend_growth: str, legend_expected: str, axis: str) -> Markup:
    """Bars: skills mastered since the period's start, at the end of each week; a dashed line:
    the growth the packs expect by then. ``labels`` name the weeks under the bars."""
    top, bottom, left, right = 30.0, 40.0, 30.0, 8.0
    height = 230.0
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    ticks = _ticks(min([0, *growth]), max([1.0, *growth, *expected]))
    low, high = ticks[0], ticks[-1]

    def y(value: float) -> float:
        return top + plot_h * (high - value) / (high - low)

    svg = _svg(height, chart_id, title, description)
    # legend: a bar and a dashed line, each with its words
    ET.SubElement(svg, "rect", {"x": _n(left), "y": "6", "width": "12", "height": "12",
                                "fill": STATE_STYLE["mastered"][0]})
    _text(svg, left + 16, 16, f"{STATE_STYLE['mastered'][2]} {legend_growth}", fill=INK)
    middle = left + plot_w / 2 + 10
    ET.SubElement(svg, "line", {"x1": _n(middle), "y1": "12", "x2": _n(middle + 18), "y2": "12", "stroke": EXPECTED,
                                "stroke-width": "2.5", "stroke-dasharray": "5 3"})
    _text(svg, middle + 22, 16, legend_expected, fill=INK)
    for tick in ticks:  # horizontal grid lines with their numbers
        ET.SubElement(svg, "line", {"x1": _n(left), "x2": _n(WIDTH - right), "y1": _n(y(tick)), "y2": _n(y(tick)),
                                    "stroke": FAINT if tick else INK, "stroke-width": "1"})
        _text(svg, left - 4, y(tick) + 4, str(tick), fill=INK, **{"text-anchor": "end"})
    slot = plot_w / max(1, len(growth))
    every = max(1, math.ceil(len(growth) / 12))  # at most about 12 week labels
    for n, value in enumerate(growth):
        x = left + n * slot
        if value:
            ET.SubElement(svg, "rect", {"x": _n(x + slot * 0.15), "width": _n(slot * 0.7),
                                        "y": _n(min(y(value), y(0))), "height": _n(abs(y(value) - y(0))),
                                        "fill": STATE_STYLE["mastered"][0]})
        if n % every == 0 or n == len(growth) - 1:
            _text(svg, x + slot / 2, height - bottom + 14, labels[n], fill=INK, **{"text-anchor": "middle"})
    points = [(left, y(0))] + [(left + (n + 1) * slot, y(value)) for n, value in enumerate(expected)]
    ET.SubElement(svg, "polyline", {"points": " ".join(f"{_n(px)},{_n(py)}" for px, py in points), "fill": "none",
                                    "stroke": EXPECTED, "stroke-width": "2.5", "stroke-dasharray": "5 3"})
    _text(svg, left + plot_w / 2, height - 6, axis, fill=INK, **{"text-anchor": "middle"})
    return _markup(svg)


def skills_chart(rows: Sequence[tuple[str, Mapping[str, int]]], states: Sequence[str], state_words: Mapping[str, str],
                 *, chart_id: str, title: str, description: str) -> Markup:
    """One stacked bar per skill: how many learners are in each state (``states``, in order).
    ``rows``: (skill title, state -> learners). The skill's title is written above its bar."""
    row_h, bar_h, legend_h = 36.0, 16.0, 20.0 * math.ceil(len(states) / 3) + 6
    height = legend_h + row_h * max(1, len(rows)) + 4
    svg = _svg(height, chart_id, title, description)
    for n, state in enumerate(states):  # the legend, three states a line
        fill, ink, symbol = STATE_STYLE[state]
        x, y = (n % 3) * (WIDTH / 3), 4 + 20 * (n // 3)
        ET.SubElement(svg, "rect", {"x": _n(x), "y": _n(y), "width": "16", "height": "16", "fill": fill,
                                    "stroke": FAINT})
        _text(svg, x + 8, y + 12.5, symbol, fill=ink, **{"text-anchor": "middle", "font-weight": "700"})
        _text(svg, x + 20, y + 12.5, state_words[state], fill=INK)
    for n, (skill, counts) in enumerate(rows):
        top = legend_h + n * row_h
        _text(svg, 0, top + 12, skill if len(skill) <= 56 else skill[:55] + "…", fill=INK)
        total = sum(counts.get(s, 0) for s in states)
        x = 0.0
        for state in states:
            count = counts.get(state, 0)
            if not count:
                continue
            width = (WIDTH - 1) * count / total
            fill, ink, symbol = STATE_STYLE[state]
            ET.SubElement(svg, "rect", {"x": _n(x), "y": _n(top + 16), "width": _n(width), "height": _n(bar_h),
                                        "fill": fill, "stroke": FAINT, "stroke-width": "0.5"})
            label = f"{symbol}{count}"
            if width >= 8 * len(label):
                _text(svg, x + width / 2, top + 28, label, fill=ink, **{"text-anchor": "middle", "font-weight": "700"})
            x += width
    return _markup(svg)
