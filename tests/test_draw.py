"""backprop_lib.draw: the gradient written on each edge, coloured branches, and block diagrams.

Expected edge gradients are worked out by hand from the chain rule, not by the engine."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from backprop_lib import Node  # noqa: E402
from backprop_lib.draw import draw_diagram, draw_graph, edge_gradients  # noqa: E402


def _slide_graph():
    x, y, z = Node(-2.0, "x"), Node(5.0, "y"), Node(-4.0, "z")
    q = x + y
    f = q * z
    f.backward()
    return x, y, z, q, f


def test_edge_gradients_are_upstream_times_local():
    x, y, z, q, f = _slide_graph()
    g = edge_gradients(f)
    # df/dq = z = -4 and df/dz = q = 3 on the mul gate; the add gate passes -4 to x and y
    assert g[(id(q), id(f))] == pytest.approx(-4.0)
    assert g[(id(z), id(f))] == pytest.approx(3.0)
    assert g[(id(x), id(q))] == pytest.approx(-4.0)
    assert g[(id(y), id(q))] == pytest.approx(-4.0)
    assert len(g) == 4
    # reading the edges leaves the node gradients as backward set them
    assert (x.grad, y.grad, z.grad, q.grad) == (-4.0, -4.0, 3.0, -4.0)


def test_edge_gradients_of_a_branching_node_add_up_to_its_gradient():
    a = Node(0.7, "a")
    b = a.exp()
    out = a * b + b  # a feeds two gates, b feeds two gates
    out.backward()
    g = edge_gradients(out)
    into_b = [v for (p, _c), v in g.items() if p == id(b)]
    into_a = [v for (p, _c), v in g.items() if p == id(a)]
    assert sum(into_b) == pytest.approx(b.grad)
    assert sum(into_a) == pytest.approx(a.grad)
    assert len(into_a) == 2 and len(into_b) == 2


def test_a_squared_node_gets_both_contributions_on_its_one_edge():
    x = Node(1.5, "x")
    sq = x * x
    sq.backward()
    assert edge_gradients(sq) == {(id(x), id(sq)): pytest.approx(3.0)}  # d(x^2)/dx = 2x


def test_draw_graph_writes_one_number_per_edge_and_colours_branches():
    x, y, z, q, f = _slide_graph()
    plain = draw_graph(f)
    n_plain = len(plain.texts)
    ax = draw_graph(f, edge_grad=True, edge_colors={(x, q): "#1f5fbf"})
    assert len(ax.texts) == n_plain + 4
    edge_labels = sorted(t.get_text() for t in ax.texts if t.get_fontstyle() == "italic")
    assert edge_labels == sorted(["\u22124.00", "3.00", "\u22124.00", "\u22124.00"])
    widths = sorted(a.arrow_patch.get_linewidth() for a in ax.texts if getattr(a, "arrow_patch", None))
    assert widths[-1] > widths[0]  # the coloured edge is drawn thicker
    plt.close("all")


def test_edge_colors_must_name_real_edges():
    x, y, z, q, f = _slide_graph()
    with pytest.raises(ValueError, match="not a parent"):
        draw_graph(f, edge_colors={(x, f): "red"})
    with pytest.raises(TypeError, match="edge_colors"):
        draw_graph(f, edge_colors=[(x, q)])
    with pytest.raises(TypeError, match="pairs"):
        draw_graph(f, edge_colors={x: "red"})
    plt.close("all")


def test_diagram_boxes_hold_their_text():
    nodes = {"a": (0.0, 0.0, "a rather long label = (1.234, 5.678)"), "b": (6.0, 0.0, "b")}
    ax = draw_diagram(nodes, [("a", "b", "0.5", "red")])
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    label = next(t for t in ax.texts if t.get_text().startswith("a rather"))
    box = next(p for p in ax.patches if abs(p.get_x() + p.get_width() / 2) < 1e-9)
    text_box = label.get_window_extent(renderer)
    patch_box = box.get_window_extent(renderer)
    assert patch_box.x0 <= text_box.x0 and text_box.x1 <= patch_box.x1
    assert "0.5" in [t.get_text() for t in ax.texts]
    assert fig.get_facecolor()[:3] == (1.0, 1.0, 1.0)  # white: readable in dark mode
    plt.close("all")


def test_diagram_rejects_unknown_nodes_and_bad_specs():
    with pytest.raises(ValueError, match="unknown node 'c'"):
        draw_diagram({"a": (0.0, 0.0, "a")}, [("a", "c", "", None)])
    with pytest.raises(ValueError, match=r"nodes\['a'\]"):
        draw_diagram({"a": (0.0, 0.0)})
    with pytest.raises(TypeError, match="nodes"):
        draw_diagram("a")
    with pytest.raises(ValueError, match="each edge"):
        draw_diagram({"a": (0.0, 0.0, "a")}, [("a",)])
    plt.close("all")
