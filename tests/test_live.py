"""backprop_lib.live, LiveGraph and LiveNetwork: the fast redraw used by the widgets.

The oracle for an update is a figure drawn from scratch with the same state: blitting must
give exactly the same picture. The oracle for a text written with Pillow is matplotlib's own
rendering of the same Text: the ink must land in the same place, at the same size.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from backprop_lib import LiveFigure, LiveGraph, Node, draw_graph  # noqa: E402
from backprop_lib.live import _png_bytes  # noqa: E402
from backprop_lib.netdraw import LiveNetwork  # noqa: E402
from backprop_lib.scalar_examples import (  # noqa: E402
    add_mul_graph,
    sigmoid_neuron_collapsed,
    sigmoid_neuron_gates,
)


def _curve_figure():
    fig = LiveFigure(figsize=(4, 3))
    ax = fig.add_subplot()
    (line,) = ax.plot([], [], lw=2)
    ax.set(xlim=(0, 10), ylim=(-1, 1), title="start")
    label = ax.text(0.95, 0.9, "", transform=ax.transAxes, ha="right", va="top")
    fig.changing(line, label, ax.title)
    return fig, ax, line, label


def _set(ax, line, label, k):
    x = np.linspace(0, 10, 50)
    line.set_data(x, np.sin(x + k))
    label.set_text(f"phase {k:.2f}")
    ax.set_title(f"update {k}")


def _ink_box(rgb, background=255):
    """(top, bottom, left, right) of the pixels that are not background."""
    ink = np.any(np.asarray(rgb) < background - 40, axis=2)
    rows, cols = np.nonzero(ink)
    assert rows.size, "nothing was drawn"
    return rows.min(), rows.max(), cols.min(), cols.max()


def test_an_update_gives_the_picture_of_a_fresh_drawing():
    fig, ax, line, label = _curve_figure()
    for k in (0.0, 0.7, 2.5):  # the first render draws everything, the others blit
        _set(ax, line, label, k)
        updated = fig.render().copy()
    assert fig.full_redraws == 1
    fresh, ax2, line2, label2 = _curve_figure()
    _set(ax2, line2, label2, 2.5)
    np.testing.assert_array_equal(updated, fresh.render())
    _set(ax2, line2, label2, 0.7)  # and the picture really depends on the state
    assert np.any(fresh.render() != updated)
    plt.close("all")


def test_redraw_all_draws_the_static_parts_again():
    fig, ax, line, label = _curve_figure()
    _set(ax, line, label, 1.0)
    fig.render()
    ax.set_ylim(-3, 3)
    fig.redraw_all()
    after = fig.render().copy()
    assert fig.full_redraws == 2
    fresh, ax2, line2, label2 = _curve_figure()
    ax2.set_ylim(-3, 3)
    _set(ax2, line2, label2, 1.0)
    np.testing.assert_array_equal(after, fresh.render())


@pytest.mark.parametrize("ha", ["left", "center", "right"])
@pytest.mark.parametrize("va", ["top", "center", "bottom", "baseline"])
def test_a_text_written_by_pillow_lands_where_matplotlib_draws_it(ha, va):
    def picture(live: bool):
        fig = LiveFigure(figsize=(3, 1.5), crop=False)
        t = fig.text(0.5, 0.5, "\u22120.25 x", ha=ha, va=va, fontsize=14, color="#c4161c",
                     fontweight="bold")
        if live:
            fig.changing(t)  # written with Pillow
        return fig.render()

    mpl_box, pil_box = _ink_box(picture(False)), _ink_box(picture(True))
    assert np.max(np.abs(np.subtract(mpl_box, pil_box))) <= 3, (mpl_box, pil_box)


def test_text_colour_and_box_are_kept():
    fig = LiveFigure(figsize=(3, 1.5), crop=False, facecolor="#000000")
    t = fig.text(0.5, 0.5, "0.1234", ha="center", va="center", fontsize=20, color="#1a7f37",
                 bbox=dict(fc="white", ec="none"))
    fig.changing(t)
    rgb = fig.render()
    top, bottom, left, right = _ink_box(255 - rgb.astype(int), background=255)  # non-black
    box = rgb[top:bottom + 1, left:right + 1].reshape(-1, 3)
    assert (box == 255).all(axis=1).mean() > 0.5  # mostly the white box
    greens = box[(box[:, 1] > box[:, 0] + 40)]
    assert len(greens) and np.abs(greens.min(axis=0) - [0x1a, 0x7f, 0x37]).max() <= 12


def test_png_round_trip():
    rgb = np.random.default_rng(1).integers(0, 256, size=(7, 5, 3), dtype=np.uint8)
    back = np.asarray(Image.open(io.BytesIO(_png_bytes(rgb))).convert("RGB"))
    np.testing.assert_array_equal(back, rgb)
    with pytest.raises(ValueError, match=r"\(H, W, 3\) uint8"):
        _png_bytes(rgb.astype(float))
    fig, ax, line, label = _curve_figure()
    _set(ax, line, label, 0.3)
    shown = np.asarray(Image.open(io.BytesIO(fig.png())).convert("RGB"))
    np.testing.assert_array_equal(shown, fig.render())


def test_changing_rejects_what_it_cannot_redraw():
    fig = LiveFigure()
    other = LiveFigure()
    with pytest.raises(TypeError, match="matplotlib artists"):
        fig.changing("title")
    with pytest.raises(ValueError, match="another figure"):
        fig.changing(other.text(0, 0, "x"))


def test_live_graph_rewrites_numbers_in_place():
    view = LiveGraph(digits=2)
    g = add_mul_graph(-2.0, 5.0, -4.0)
    g["f"].backward()
    fig = view.figure(g["f"], title="f")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "\u221212.00" in texts and "3.00" in texts  # f = -12, df/dz = q = 3
    fig.render()
    g2 = add_mul_graph(1.0, 2.0, 3.0)
    g2["f"].backward()
    assert view.figure(g2["f"], title="f") is fig  # same shape: same figure
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "9.00" in texts and "\u221212.00" not in texts
    updated = fig.render().copy()
    assert fig.full_redraws == 1
    fresh = LiveGraph(digits=2).figure(g2["f"], title="f")
    np.testing.assert_array_equal(updated, fresh.render())


def test_live_graph_keeps_one_figure_per_graph_shape():
    view = LiveGraph()
    a = sigmoid_neuron_gates()
    a["out"].backward()
    b = sigmoid_neuron_collapsed()
    b["out"].backward()
    fa, fb = view.figure(a["out"]), view.figure(b["out"])
    assert fa is not fb and view.figure(a["out"]) is fa
    with pytest.raises(TypeError, match="root must be a Node"):
        view.figure("f")
    x = Node(1.0, "x")
    assert view.figure(x * x) is not fa


def test_live_network_restyles_edges_and_texts():
    fig = LiveFigure(figsize=(9, 5))
    ax = fig.add_subplot()
    view = LiveNetwork(ax, node_text=[("a1", 0)])
    edges = ax.collections[0]
    dW1 = np.arange(1.0, 13.0).reshape(4, 3) - 6.0
    view.update(title="t", highlight=[("W2", 0, 1)], node_text={("a1", 0): "d = 1"},
                edge_values={"W1": dW1, "W2": np.zeros((2, 4))})
    widths = edges.get_linewidths()
    assert len(widths) == 12 + 4 + 8 + 4 + 2  # W1, sigmoid, W2, softmax, loss edges
    assert widths[-1] == 3.5  # the highlighted edge is drawn last, on top
    assert max(widths[:12]) == pytest.approx(5.0)  # |dW1| = 6 is the largest: 5 pt
    assert ax.get_title() == "t" and "d = 1" in [t.get_text() for t in ax.texts]
    with pytest.raises(ValueError, match="edges only"):
        view.update(highlight=[("a1", 0)])
    with pytest.raises(ValueError, match="not given to"):
        view.update(node_text={("a1", 1): "x"})
    with pytest.raises(ValueError, match=r"edge_values\['W1'\]"):
        view.update(edge_values={"W1": np.zeros((3, 4))})
    _, plain = plt.subplots()
    with pytest.raises(TypeError, match="LiveFigure"):
        LiveNetwork(plain)
    plt.close("all")


def test_live_graph_title_none_shows_the_legend_like_draw_graph():
    view = LiveGraph()
    g = add_mul_graph()
    g["f"].backward()
    assert view.figure(g["f"], title="custom").axes[0].get_title() == "custom"
    legend = view.figure(g["f"]).axes[0].get_title()
    ax = draw_graph(g["f"])
    assert legend == ax.get_title() and legend.startswith("green: value")
    plt.close("all")


def test_a_tiny_negative_number_is_not_shown_as_minus_zero():
    a, b = Node(-0.001, "a"), Node(1.0, "b")
    out = a * b  # value -0.001, gradients 1 and -0.001
    out.backward()
    texts = [t.get_text() for t in LiveGraph(digits=2).figure(out).axes[0].texts]
    assert "\u22120.00" not in texts and texts.count("0.00") >= 3  # a, out values; b's grad
    assert "1.00" in texts


# ------------------------------------------------------------------ alt text (issue 20)

def _shown(monkeypatch, fig) -> dict:
    """What LiveFigure.show hands to IPython's display: the mime bundle."""
    import IPython.display

    seen = []
    monkeypatch.setattr(IPython.display, "display",
                        lambda obj, raw=False: seen.append(obj))  # noqa: ARG005 (display signature)
    fig.show()
    (bundle,) = seen
    return bundle


def test_show_displays_an_image_with_its_alt_text_and_the_text_alone(monkeypatch):
    import base64
    import html
    import re

    fig, ax, line, label = _curve_figure()
    fig.alt = "A test curve"
    _set(ax, line, label, 2)
    bundle = _shown(monkeypatch, fig)
    m = re.fullmatch(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)" alt="([^"]*)">',
                     bundle["text/html"])
    assert m, bundle["text/html"][:200]
    assert html.unescape(m.group(2)) == bundle["text/plain"]
    shown = np.asarray(Image.open(io.BytesIO(base64.b64decode(m.group(1)))).convert("RGB"))
    np.testing.assert_array_equal(shown, fig.render())
    assert bundle["text/plain"].startswith("A test curve. ")
    plt.close("all")


def test_alt_text_reads_the_changing_parts_and_says_what_changed(monkeypatch):
    fig = LiveFigure(figsize=(4, 3), alt="Loss of a test run")
    ax = fig.add_subplot()
    (line,) = ax.plot([0, 1, 2], [3.0, 2.0, 1.0])
    ax.set(xlabel="step", ylabel="loss", title="lr = 0.1")
    note = ax.text(0.5, 0.5, "final loss 1", transform=ax.transAxes)
    number = ax.text(0.1, 0.1, "-4.00", transform=ax.transAxes)  # a bare number: no fact
    fig.changing(line, note, number, ax.title)
    first = _shown(monkeypatch, fig)["text/plain"]
    assert first == ("Loss of a test run. lr = 0.1; curve falls from 3 at step 0 to 1 at "
                     "step 2; final loss 1.")
    note.set_text("final loss 1 (same)")  # one fact changes, the curve does not
    second = _shown(monkeypatch, fig)["text/plain"]
    assert second.startswith("Changed: final loss 1 (same). Loss of a test run. lr = 0.1;")
    assert _shown(monkeypatch, fig)["text/plain"].startswith("Nothing changed. ")
    line.set_data([0, 1, 2], [1.0, 2.0, 5.0])
    assert "Changed: curve rises from 1 at step 0 to 5 at step 2." in (
        _shown(monkeypatch, fig)["text/plain"])
    plt.close("all")


def test_alt_text_without_a_lead_uses_titles_and_axis_labels_and_reads_bars_and_heatmaps():
    fig = LiveFigure(figsize=(6, 3))
    ax1, ax2 = fig.subplots(1, 2)
    image = ax1.imshow(np.array([[0.25, 0.5], [0.75, 1.0]]))
    bars = ax2.bar([0, 1], [0.2, 0.8])
    ax2.set_xticks([0, 1], ["a", "b"])
    ax2.set(xlabel="key", ylabel="weight", title="weights")
    fig.changing(image, *bars)
    assert fig.alt_text() == ("Figure: weights: weight against key. heatmap of 2 x 2 values "
                              "from 0.25 to 1; bars of weight: a 0.2, b 0.8.")
    with pytest.raises(TypeError, match="alt must be a str"):
        LiveFigure(alt=3)
    with pytest.raises(TypeError, match="facts must be a function"):
        fig.describe_with("not a function")
    plt.close("all")


def test_live_graph_alt_text_names_each_node_with_its_value_and_gradient(monkeypatch):
    view = LiveGraph(digits=2)
    g = add_mul_graph(-2.0, 5.0, -4.0)
    g["f"].backward()
    fig = view.figure(g["f"], title="f = (x + y) z")
    first = _shown(monkeypatch, fig)["text/plain"]
    for fact in ("x: value \u22122.00, gradient \u22124.00", "y: value 5.00, gradient \u22124.00",
                 "z: value \u22124.00, gradient 3.00", "q, the + gate: value 3.00, gradient \u22124.00",
                 "f, the \u00d7 gate: value \u221212.00, gradient 1.00"):
        assert fact in first, (fact, first)
    assert "Changed" not in first and "f = (x + y) z" in first
    g = add_mul_graph(-1.0, 5.0, -4.0)  # x moves: x, q, f and z's gradient change; y does not
    g["f"].backward()
    changed = _shown(monkeypatch, view.figure(g["f"], title="f = (x + y) z"))["text/plain"]
    changed = changed.split(". ")[0]
    assert changed == ("Changed: x: value \u22121.00, gradient \u22124.00; q, the + gate: value 4.00, "
                       "gradient \u22124.00; z: value \u22124.00, gradient 4.00; f, the \u00d7 gate: "
                       "value \u221216.00, gradient 1.00")
    plt.close("all")


def test_live_network_alt_text_names_the_highlighted_and_the_widest_edges():
    fig = LiveFigure(figsize=(8, 4), alt="The network")
    view = LiveNetwork(fig.add_subplot(), node_text=[("z2", 0)])
    W1, W2 = np.full((4, 3), 0.01), np.full((2, 4), 0.02)
    W1[1, 2], W2[0, 3], W2[1, 0] = -0.5, 0.3, 0.1
    view.update(title="gradients", highlight=[("W2", 0, 0)], node_text={("z2", 0): "d = 1"},
                edge_values={"W1": W1, "W2": W2})
    text = fig.alt_text()
    assert "logit 1: d = 1" in text and "highlighted: w2_11 (hidden neuron 1 to logit 1)" in text
    assert ("widest edges: w1_23 (input 3 to hidden neuron 2) -0.5000, w2_14 (hidden neuron 4 "
            "to logit 1) 0.3000, w2_21 (hidden neuron 1 to logit 2) 0.1000") in text
    plt.close("all")
