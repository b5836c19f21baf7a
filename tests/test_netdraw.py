"""backprop_lib.netdraw: the network drawing names its nodes and edges after the math."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from backprop_lib.netdraw import draw_network, network_edges, network_layout  # noqa: E402


@pytest.mark.parametrize("sizes", [(3, 4, 2), (2, 5, 3), (1, 1, 1)])
def test_layout_and_edges_cover_the_network(sizes):
    D, H, D_out = sizes
    pos, edges = network_layout(sizes), network_edges(sizes)
    assert len(pos) == D + 2 * H + 2 * D_out + 1
    assert len(edges) == H * D + H + D_out * H + D_out * D_out + D_out
    assert edges[("W1", H - 1, D - 1)] == (("a0", D - 1), ("z1", H - 1))  # w_jk: from k to j
    assert edges[("sig", H - 1)] == (("z1", H - 1), ("a1", H - 1))  # delta^1 sits at z1, not a1
    assert all(a in pos and b in pos for a, b in edges.values())


def test_draw_with_highlights_texts_and_edge_values(rng):
    ax = draw_network(highlight=[("W2", 0, 1), ("z2", 0)], node_text={("L",): "0.2344"},
                      edge_text={("W1", 3, 2): "w"},
                      edge_values={"W1": rng.normal(size=(4, 3)), "W2": np.zeros((2, 4))},
                      title="t")
    texts = [t.get_text() for t in ax.texts]
    assert "0.2344" in texts and "w" in texts and ax.get_title() == "t"
    plt.close("all")


def test_unknown_names_are_reported():
    with pytest.raises(ValueError, match="unknown node or edge names"):
        draw_network(highlight=[("W3", 0, 0)])
    plt.close("all")
