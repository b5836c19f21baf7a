"""Figures for widgets: draw what never changes once, redraw only what a slider moves.

Re-creating a figure and showing it with ``plt.show()`` on every slider change took 150-450 ms
for the widgets of this course (bench/results.md), nearly all of it spent drawing boxes,
arrows, axes, ticks and labels that the slider does not change. A :class:`LiveFigure` draws
those once and keeps the picture (the "background"); on each update it pastes the background
back and draws only the artists registered with :meth:`LiveFigure.changing` (numbers, curves,
bars, colours), then shows the result as one PNG. This is matplotlib's blitting technique,
applied to the inline PNG that Jupyter, Binder, Colab and the website all display.

Rules of use:

* Register every artist that an update modifies with ``changing``; an unregistered artist that
  is modified keeps its old look in the picture until :meth:`LiveFigure.redraw_all`.
* Anything that moves the static parts (axis limits, tick labels, the figure layout) needs
  ``redraw_all()`` before the next :meth:`LiveFigure.show`.
* Registered artists are drawn over every static one, whatever their zorder (a curve over the
  grid and the axes frame, say); among themselves they keep their order.
* The white margin is cropped as measured at the last full redraw: an artist that later grows
  past the drawing is cut at that margin.

Two more things keep an update within a few milliseconds, both measured (bench/NOTES.md):

* Plain one-line texts (no rotation, no ``$...$`` math) that change are written with Pillow's
  FreeType text renderer in the same font, size and colour: matplotlib 3.11 lays out and
  rasterizes text glyph by glyph in Python (about 2 ms per number), Pillow does it in C (about
  0.1 ms). They are drawn last, above every other changing artist. A ``bbox`` is drawn as a
  plain filled rectangle (no rounded corners or edge); path effects, wrapping and font
  fallback are not supported. Any other text falls back to matplotlib.
* The PNG is written here without row filters at zlib level 1 (5 ms instead of Pillow's 15 ms
  for a 940 x 470 picture, and smaller, since these pictures are mostly flat colour).

Every picture is shown with an alt text (as an HTML ``<img alt=...>``, with the same text as
the plain-text form): a screen reader hears what the figure shows and, after a slider move,
what changed (backprop_lib/_alt_text.py). The widget says what the figure is with ``alt``;
the changing parts are read from the registered artists, or from a describer
(:meth:`LiveFigure.describe_with`) that names them better, as :class:`LiveGraph` does.

Used by the widgets of chapters 1, 3, 4 and 7; :class:`LiveGraph` does it for ``draw_graph``.
"""

from __future__ import annotations

import base64
import html
import struct
import zlib
from functools import lru_cache

import numpy as np
from matplotlib import font_manager
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.text import Annotation, Text

from . import _alt_text

__all__ = ["LiveFigure"]

PAD_INCHES = 0.1  # white margin kept around the drawing, as bbox_inches="tight" does


class LiveFigure(Figure):
    """A matplotlib Figure that widgets update in place (see the module docstring).

    Create it like ``Figure(figsize=..., facecolor=...)``, add axes with ``add_subplot`` or
    ``subplots``, draw, register the artists that change, and call :meth:`show` at the end of
    the widget function. It is not managed by pyplot, so it is never shown twice.

    crop : trim the white margin around the drawing (like the inline backend's tight
           bounding box); the crop is measured at each full redraw.
    alt  : what the figure shows, as a figure's alt text would say it (a str, or a function
           returning one); the alt text of each picture adds the changing parts (see
           :meth:`alt_text`). Without it: the static titles and axis labels.
    """

    def __init__(self, *args, crop: bool = True, alt=None, **kwargs):
        kwargs.setdefault("facecolor", "white")
        super().__init__(*args, **kwargs)
        FigureCanvasAgg(self)
        self.crop = bool(crop)
        if alt is not None and not (isinstance(alt, str) or callable(alt)):
            raise TypeError(f"alt must be a str or a function returning one, "
                            f"got {type(alt).__name__}")
        self.alt = alt
        self._describers: list[tuple] = []  # (function -> list of str, artists it covers)
        self._shown_facts = None  # the facts of the last picture shown (None: none yet)
        self._changing: list[Artist] = []
        self._background = None
        self._box = None  # (top, bottom, left, right) pixel rows/columns kept
        self.full_redraws = 0  # how many times everything was drawn (for tests and curiosity)

    def changing(self, *artists):
        """Register artists that updates modify; return them (one artist if one was given).

        They are left out of the cached background and drawn over it at every render (so
        above every static artist), among themselves in order of their axes and zorder.
        """
        for a in artists:
            if not isinstance(a, Artist):
                raise TypeError(f"changing() takes matplotlib artists (Line2D, Text, ...), "
                                f"got {type(a).__name__}")
            if a.figure is not self:
                raise ValueError(f"this {type(a).__name__} belongs to another figure; "
                                 "register only artists drawn on this LiveFigure")
            if a not in self._changing:
                a.set_animated(True)
                self._changing.append(a)
        self._background = None
        return artists[0] if len(artists) == 1 else artists

    def describe_with(self, facts, covers=()) -> None:
        """Add ``facts``, a function returning a list of short statements about the current
        picture, to its alt text; the artists in ``covers`` are described by it alone."""
        if not callable(facts):
            raise TypeError(f"facts must be a function returning a list of str, "
                            f"got {type(facts).__name__}")
        self._describers.append((facts, tuple(covers)))

    def facts(self) -> list[str]:
        """What the changing parts show now: one statement per registered artist (texts, a
        curve's ends, bar heights, a heatmap's range), then each describer's."""
        covered = [a for _, covers in self._describers for a in covers]
        out = _alt_text.artist_facts(sorted(self._changing, key=self._fact_order), covered)
        for facts, _ in self._describers:
            out += [str(f) for f in facts()]
        return out

    def alt_text(self, facts: list[str] | None = None) -> str:
        """The alt text of the current picture: "Changed: ..." (after a first picture was
        shown), what the figure shows (``alt``), and the facts (default :meth:`facts`)."""
        lead = self.alt() if callable(self.alt) else self.alt
        if not lead:
            lead = _alt_text.static_lead(self, self._changing)
        facts = self.facts() if facts is None else facts
        return _alt_text.compose(lead, facts, self._shown_facts)

    def redraw_all(self) -> None:
        """Forget the background: the next render draws everything (use after changing limits)."""
        self._background = None

    def _order(self, artist: Artist):
        axes = artist.axes
        index = self.axes.index(axes) if axes in self.axes else len(self.axes)
        return index, artist.get_zorder()

    def _fact_order(self, artist: Artist):
        """The alt text's order: the figure's title, then per axes its title, then the rest."""
        if artist is self._suptitle:
            return -1, 0, 0
        index, zorder = self._order(artist)
        return index, 0 if artist is getattr(artist.axes, "title", None) else 1, zorder

    def _fast_text(self, artist) -> bool:
        return (type(artist) is Text and not isinstance(artist, Annotation)
                and artist.get_rotation() == 0 and "\n" not in artist.get_text()
                and artist._preprocess_math(artist.get_text())[1] is False
                and artist.get_va() in _VA and artist.get_ha() in _HA)

    def render(self) -> np.ndarray:
        """Draw and return the picture as a read-only (H, W, 3) uint8 array (cropped if ``crop``)."""
        canvas = self.canvas
        if self._background is None:
            canvas.draw()  # every artist except the registered ones
            self._background = canvas.copy_from_bbox(self.bbox)
            self.full_redraws += 1
            self._box = self._crop_box(canvas.get_renderer()) if self.crop else None
        else:
            canvas.restore_region(self._background)
        texts = []
        for artist in sorted(self._changing, key=self._order):
            if not artist.get_visible():
                continue
            if self._fast_text(artist):
                texts.append(artist)
            else:
                self.draw_artist(artist)
        width, height = canvas.get_width_height()
        top, bottom, left, right = self._box or (0, height, 0, width)
        from PIL import Image  # Pillow: a dependency of matplotlib

        rgba = np.array(np.asarray(canvas.buffer_rgba())[top:bottom, left:right])  # a copy
        h, w = rgba.shape[:2]
        image = Image.frombuffer("RGBA", (w, h), rgba, "raw", "RGBA", 0, 1)
        if texts:
            # draw into rgba itself; `readonly` is Pillow-internal: if a Pillow version ignores
            # it, Pillow copies the buffer first and the picture is the same, only slower
            image.readonly = 0
            _draw_texts(image, texts, self.dpi, origin=(left, height - top))
        # Pillow drops the alpha bytes about 8x faster than numpy's strided copy rgba[..., :3]
        return np.frombuffer(image.tobytes("raw", "RGB"), dtype=np.uint8).reshape(h, w, 3)

    def _crop_box(self, renderer):
        height, width = self.canvas.get_width_height()[::-1]
        for a in self._changing:  # measured with the changing artists as they are now
            a.set_animated(False)
        try:
            box = self.get_tightbbox(renderer)
        finally:
            for a in self._changing:
                a.set_animated(True)
        pad = PAD_INCHES * self.dpi
        left = max(0, int(np.floor(box.x0 * self.dpi - pad)))
        right = min(width, int(np.ceil(box.x1 * self.dpi + pad)))
        top = max(0, int(np.floor(height - box.y1 * self.dpi - pad)))
        bottom = min(height, int(np.ceil(height - box.y0 * self.dpi + pad)))
        return top, bottom, left, right

    def png(self) -> bytes:
        """The picture as PNG bytes."""
        return _png_bytes(self.render())

    def show(self) -> None:
        """Display the current picture with its alt text in the notebook (inside a widget's
        output area): an HTML ``<img>`` (Jupyter's image/png output has no alt text), and the
        alt text as the plain-text form."""
        from IPython.display import display

        facts = self.facts()
        text = self.alt_text(facts)
        self._shown_facts = facts
        data = base64.b64encode(self.png()).decode("ascii")
        page = f'<img src="data:image/png;base64,{data}" alt="{html.escape(text)}">'
        display({"text/html": page, "text/plain": text}, raw=True)


# ------------------------------------------------------------------ plain texts with Pillow

_HA = {"left": "l", "center": "m", "right": "r"}
_VA = {"top": "t", "center": "m", "baseline": "s", "bottom": "d", "center_baseline": "m"}


@lru_cache(maxsize=64)
def _font(path: str, size_px: float):
    from PIL import ImageFont  # Pillow: a dependency of matplotlib

    # BASIC layout: plain left-to-right text needs no complex shaping (libraqm), and is faster
    return ImageFont.truetype(path, size=size_px, layout_engine=ImageFont.Layout.BASIC)


def _draw_texts(image, texts, dpi: float, origin=(0.0, None)) -> None:
    """Write one-line matplotlib Texts into a Pillow RGBA image, as matplotlib would place them.

    origin: the display coordinates (x, y; y upwards) of the image's top-left pixel.
    """
    from PIL import ImageDraw

    draw = ImageDraw.Draw(image, "RGBA")  # fills with alpha are blended onto the RGB picture
    height = image.height
    x_left, y_top = origin[0], (height if origin[1] is None else origin[1])
    for text in texts:
        s = text.get_text()
        if not s:
            continue
        prop = text.get_fontproperties()
        font = _font(font_manager.findfont(prop), prop.get_size_in_points() * dpi / 72)
        x, y = text.get_transform().transform(text.get_unitless_position())
        anchor = _HA[text.get_ha()] + _VA[text.get_va()]
        xy = (float(x - x_left), float(y_top - y))
        box = text.get_bbox_patch()
        if box is not None:  # the filled box behind the text that bbox=dict(fc=..) draws
            x0, y0, x1, y1 = draw.textbbox(xy, s, font=font, anchor=anchor)
            pad = prop.get_size_in_points() * dpi / 72 * float(getattr(box.get_boxstyle(),
                                                                      "pad", 0.3))
            fc = to_rgba(box.get_facecolor(), box.get_alpha())
            fill = tuple(int(round(255 * c)) for c in fc)  # RGBA: blended by the "RGBA" draw
            draw.rectangle((x0 - pad, y0 - pad, x1 + pad, y1 + pad), fill=fill)
        fill = tuple(int(round(255 * c)) for c in to_rgba(text.get_color(), text.get_alpha()))
        draw.text(xy, s, font=font, fill=fill, anchor=anchor)


# ------------------------------------------------------------------ PNG without filters

def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def _png_bytes(rgb: np.ndarray) -> bytes:
    """Encode an (H, W, 3) uint8 array as an 8-bit RGB PNG: filter type 0 on every row, zlib
    level 1. Plain-colour figures compress well this way, and fast."""
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"rgb must be an (H, W, 3) uint8 array, got {rgb.dtype} {rgb.shape}")
    h, w, _ = rgb.shape
    rows = np.zeros((h, 1 + 3 * w), dtype=np.uint8)  # first byte of each row: filter 0
    rows[:, 1:] = rgb.reshape(h, 3 * w)
    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)  # 8-bit truecolour, no interlace
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 1)) + _chunk(b"IEND", b""))
