"""Alt text for widget figures: what the picture shows, read from its artists, and what changed.

A screen reader cannot see a widget's picture, so :class:`backprop_lib.live.LiveFigure` shows
each picture with an alt text built here. The text has three parts:

* the lead: what the figure is (the widget gives it, as a figure's alt text would; without
  one, the axes' static titles and "y label against x label");
* the facts: one short statement per thing that changes with the controls, read from the
  artists the widget registered with ``LiveFigure.changing`` (titles and other texts, a
  curve's first and last point, bar heights, a heatmap's range) or given by a describer
  (``LiveFigure.describe_with``: the graph and network drawings name their nodes);
* after the first picture, "Changed:" with the facts that differ from the previous picture,
  so that a reader who moved a slider hears first what the move did.

Used by backprop_lib/live.py (LiveFigure.alt_text); private, as it takes matplotlib artists.
"""

from __future__ import annotations

import re

import numpy as np
from matplotlib.image import AxesImage
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.text import Text

_LETTER = re.compile(r"[^\W\d_]")  # a text without a letter is a bare number: no fact alone


def number(x: float) -> str:
    """A short, stable rendering of a number for prose (3 significant digits, no -0)."""
    text = f"{float(x):.3g}"
    return "0" if text in ("-0", "-0.0") else text


def static_lead(fig, changing) -> str:
    """What the figure is, from the parts that never change: each axes' title (when it does
    not change) and "y label against x label"."""
    parts = []
    for ax in fig.axes:
        bits = []
        if ax.title not in changing and ax.get_title():
            bits.append(ax.get_title())
        if ax.get_xlabel() and ax.get_ylabel():
            bits.append(f"{ax.get_ylabel()} against {ax.get_xlabel()}")
        if bits:
            parts.append(": ".join(bits))
    return "Figure" + (": " + "; ".join(parts) if parts else "")


def artist_facts(artists, covered=()) -> list[str]:
    """One statement per visible changing artist (bars of one bar chart together), in order;
    artists in ``covered`` are left to the describer that covers them."""
    facts, seen_bars = [], set()
    skip = {id(a) for a in covered}
    for artist in artists:
        if id(artist) in skip or not artist.get_visible():
            continue
        if isinstance(artist, Text):
            text = " ".join(artist.get_text().split())
            if _LETTER.search(text):
                facts.append(text)
        elif isinstance(artist, Line2D):
            facts += _curve(artist)
        elif isinstance(artist, AxesImage):
            facts += _heatmap(artist)
        elif isinstance(artist, Rectangle):
            bars = _bar_container(artist)
            if bars is not None and id(bars) not in seen_bars:
                seen_bars.add(id(bars))
                facts.append(_bars(bars, artist.axes))
    return facts


def _curve(line) -> list[str]:
    x, y = (np.asarray(v, dtype=float) for v in line.get_data())
    keep = np.isfinite(x) & np.isfinite(y)
    if not keep.any():
        return []
    x, y = x[keep], y[keep]
    label = line.get_label()
    name = "curve" if not label or label.startswith("_") else f"curve {label}"
    where = (line.axes.get_xlabel() if line.axes is not None else "") or "x"
    if np.isclose(y[-1], y[0], rtol=1e-3, atol=0):
        how = f"stays at {number(y[0])}"
    else:
        how = (f"{'falls' if y[-1] < y[0] else 'rises'} from {number(y[0])} at {where} "
               f"{number(x[0])} to {number(y[-1])}")
    return [f"{name} {how} at {where} {number(x[-1])}"]


def _heatmap(image) -> list[str]:
    a = np.asarray(image.get_array(), dtype=float)
    if a.ndim != 2 or not np.isfinite(a).any():
        return []
    return [f"heatmap of {a.shape[0]} x {a.shape[1]} values from {number(np.nanmin(a))} "
            f"to {number(np.nanmax(a))}"]


def _bar_container(rect):
    for container in getattr(rect.axes, "containers", ()):
        if rect in container:
            return container
    return None


def _bars(bars, ax) -> str:
    heights = [number(r.get_height()) for r in bars]
    names = [t.get_text() for t in ax.get_xticklabels()] if ax is not None else []
    if len(names) == len(heights) and all(names):
        heights = [f"{n} {h}" for n, h in zip(names, heights, strict=True)]
    label = ax.get_ylabel() if ax is not None else ""
    return f"bars{' of ' + label if label else ''}: " + ", ".join(heights)


def compose(lead: str, facts: list[str], previous: list[str] | None) -> str:
    """The alt text: "Changed: ..." (the facts not in ``previous``; only after a first
    picture), then the lead, then every fact."""
    text = lead.strip().rstrip(".") + "."
    if facts:
        text += " " + "; ".join(facts) + "."
    if previous is not None:
        changed = [f for f in facts if f not in previous]
        text = ("Changed: " + "; ".join(changed) + ". " if changed else "Nothing changed. ") + text
    return text
