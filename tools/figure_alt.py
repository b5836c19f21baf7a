"""Alt text for every figure a chapter draws (stored in the cell's metadata.mystnb.image.alt).

myst-nb puts `alt` on the <img> of a cell's image outputs; without it the alt text is the file
name. tests/test_notebooks.py fails for a figure cell without alt text. To describe a new
figure, add an entry here (chapter prefix, code-cell source start) and run
`python tools/figure_alt.py`, or set the metadata in JupyterLab (Property Inspector).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# (chapter file prefix, first characters of the cell source) -> alt text
ALT = {
    ("01", 'bp.draw_graph(g["f"]'): "Computational graph of f = (x + y) z: inputs x = -2, y = 5, "
        "z = -4; q = 3, f = -12; gradients -4, -4, 3 on x, y, z and -4 on q.",
    ("01", 'bp.draw_graph(n["out"]'): "The sigmoid neuron as eight primitive gates from the inputs "
        "w1, x1, w2, x2 and the bias b to the output 0.73, each box with its forward value in green "
        "above and its gradient in red below.",
    ("01", 'bp.draw_graph(c["out"]'): "The same neuron with one sigmoid gate: the weighted sum 1.00 "
        "feeds a sigma node with output 0.73 and gradient 0.20 passed back to the sum.",
    ("01", "x, y, z, w = bp.Node"): "Graph of f = 2(xy + max(z, w)): the add gate passes 2 to both "
        "inputs, the max gate routes 2 to z and 0 to w, the mul gate gives x -8 and y 6.",
    ("02", "cost = jacobian_vs_vjp_cost"): "Two log-log plots against n: time and peak memory of "
        "building the n-by-n Jacobian grow like n squared, while the vector-Jacobian product "
        "grows like n and stays orders of magnitude smaller.",
    ("02", "cost = gradient_mode_cost"): "Log-log plot of the cost of the whole gradient, in "
        "forward passes, against the number of parameters from 24 to 768: central differences "
        "and forward mode rise along the slope-1 line, reverse mode stays flat at a few passes.",
    ("02", "def central_error"): "Error of the central difference of exp at 1 against the step "
        "epsilon, for float32 and float64: the float64 error is a V with its bottom near the "
        "checker's epsilon 1e-6, round-off on the left and truncation on the right; the float32 "
        "error is far larger and, for steps below about 3e-8, flat at about 2.7 because the "
        "estimate is exactly zero.",
    ("03", "rng = np.random.default_rng(7)"): "Loss curve of a linear layer trained with gradient "
        "descent, on a log scale, falling steadily over the training steps.",
    ("04", "draw_network(title=\"row 1"): "The 3-4-2 network: three inputs, four hidden "
        "neurons drawn as their weighted input z1 and sigmoid output a1, two logits, a softmax "
        "and the loss; the three weights into hidden neuron 1 are highlighted.",
    ("04", "values = {"): "The 3-4-2 network with the forward value written at every node, from "
        "the input (1.0, 0.5, -1.0) through the weighted inputs z1 and activations a1 to the loss.",
    ("04", 'draw_network(title=r"$\\delta^2_1'): "The network with the two paths from logit 1 "
        "through both softmax outputs to the loss highlighted.",
    ("04", 'draw_network(title=r"$\\partial L/\\partial w^2'): "The network with every edge of W2 "
        "highlighted in green; each edge carries its gradient delta2_j times a1_k, written along "
        "the edge near the hidden neuron it starts from, and each logit is labelled with its "
        "delta.",
    ("04", 'draw_network(title=r"$\\delta^1_1'): "The network with hidden neuron 1 (its weighted input "
        "z1_1, the sigmoid, its output a1_1) and its two outgoing weights to the logits highlighted "
        "in blue, labelled with the weights and the logits' deltas.",
    ("04", 'draw_network(title=r"$\\partial L/\\partial w^1'): "The network with every edge of W1 "
        "highlighted in orange; the edges into hidden neuron 1 are labelled with their gradients, "
        "and each weighted input z1_j with its delta1_j.",
    ("04", "steps = 1000"): "Loss curve of the 3-4-2 network trained on one example for 1000 "
        "steps, falling from 0.2344 towards zero on a log scale.",
    ("04", "# training with both losses"): "Two panels of loss curves on a log scale over 1000 "
        "steps, squared error in blue and cross-entropy in red. From the example's start both fall "
        "steadily. From the confidently wrong start (b2 = (-8, 8)) the squared-error curve stays "
        "flat near 1 for all 1000 steps, while the cross-entropy curve drops from about 16 to "
        "below 0.01 within the first hundred steps.",
    ("04", "# |delta2_1| against the logit margin"): "Log-scale plot of the size of the output "
        "error signal against the logit margin from -20 to 20, target class 1. The cross-entropy "
        "curve (red) stays at 1 for every negative margin and falls for positive ones; the "
        "squared-error curve (blue) peaks below 0.3 near margin 0 and falls exponentially on both "
        "sides, to about 2e-7 at the marked margin -16, where the logits are (-8, 8).",
    ("06", "from backprop_lib.draw import draw_diagram"): "The value layer as a network: the three entries"
        " x11 = 1, x21 = 4, x31 = 2 of the first input and a constant 1 on the left, the three entries "
        "v11 = 37, v21 = 14, v31 = 35 of the first value on the right; each blue edge carries its "
        "weight (rows -1 6 7, 2 2 2, 5 5 5) and the green edges from the 1 carry the biases, all 0.",
    ("06", "def matrix_text"): "Block diagram of V = W_v x + b 1-transposed with the example's entries:"
        " W_v (3 by 3) times x (3 by 2, columns (1, 4, 2) and (3, 0.3, 2)) plus b (3 by 1, zeros) times"
        " a row of two ones equals V (3 by 2, columns (37, 14, 35) and (12.8, 10.6, 26.5)).",
    ("06", "V = value_layer(Wv0, b0, x_values)\ndV_start"): "Two copies of the layer network, one per "
        "input column, with the gradient on every edge at the start of training: for column 1 "
        "the output gradients are 802, 144, 585 and edge (W_v)_ik carries dV_i1 times x_k1 (for "
        "example 3208 = 802 times 4); for column 2 they are -320.8, -57.6, -234; the green bias "
        "edges carry the output gradients themselves.",
    ("06", "def vec(a, digits=4)"): "Graph of v-bar = alpha1 v1 + alpha2 v2: v1 = (37, 14, 35) and "
        "alpha1 = 5 feed a multiply gate, v2 = (12.8, 10.6, 26.5) and alpha2 = -2 another, both "
        "feed an add gate giving v-bar = (159.4, 48.8, 122) and the loss. Red edge labels: the add "
        "gate passes d v-bar = (160.4, 28.8, 117) to both products, v1 receives (802, 144, 585), v2 "
        "receives (-320.8, -57.6, -234), alpha1 receives 10433 and alpha2 5458.9.",
    ("06", "s = scores(q1, K_fixed)\nds = s - y_qk\nnodes"): "Graph of the query: W_q and x-tilde-1 = "
        "(0.5, 0.5, 0.3, 1) give q1 = (3.06, 1.62, 4.8), which meets the three keys in the scores "
        "s1 = 25.5, s2 = 14.82, s3 = 24.78, which feed the loss. The loss sends 28.64, 21.12 and "
        "22.57 back to the scores, and the three edges into q1 carry (28.64, 57.28, 114.6), "
        "(-63.36, 0, 105.6) and (135.4, 22.57, 22.57), which add up to dq1 = (100.7, 79.85, 242.7).",
    ("06", 'nodes = {"K"'): "Graph of the keys: W_k feeds three keys k1 = (0.8, 1.3, 4.8), "
        "k2 = (1.1, 0.65, 2.05), k3 = (2.8, 1.5, 5.3), each meeting the fixed query (1, 5, 0.2) in "
        "one score (8.26, 4.76, 11.36). The loss sends 11.4, 11.06 and 9.15 back; each key "
        "receives its own gradient, for example (11.4, 57, 2.28) for k1, and W_k receives the sum "
        "of dk_j times x-tilde-j transposed over the three edges.",
    ("06", "dWv_start = dV_start"): "Three block equations with the example's numbers, boxes sized by"
        " matrix shape: dW_v (3 by 3) = dV (3 by 2) times x transposed (2 by 3); dW_q (3 by 4) = dq1 (3"
        " by 1) times x-tilde-1 transposed (1 by 4), whose first two columns are equal because "
        "x-tilde-1 starts 0.5, 0.5; dW_k (3 by 4) = dK (3 by 3) times x-tilde transposed (3 by 4).",
    ("06", "s = np.array([0.8, -0.4])"): "Softmax as a black box: scores s1 = 0.8 and s2 = -0.4 go "
        "in, alpha1 = 0.7685 and alpha2 = 0.2315 come out; for the loss L = alpha1 the gradients "
        "1 and 0 come back from the outputs and 0.1779 and -0.1779 leave towards the scores.",
    ("06", "TOP, MID"): "The softmax as a circuit of gates, drawn twice, for alpha1 and for alpha2: "
        "s1 and s2 go through exp gates (E1 = 2.2255, E2 = 0.6703), an add gate C = 2.8959 and a "
        "reciprocal gate 1/C = 0.3453, and a multiply gate gives the output. The top branch "
        "through the numerator is blue, the mid branch through the denominator orange; each edge "
        "carries its gradient, and the branches add at E1 to 0.0799, so s1 receives 0.1779 = "
        "alpha1(1 - alpha1) for alpha1 and -0.1779 for alpha2.",
    ("06", 'fig, ax = plt.subplots(figsize=(6, 3.5), facecolor="white")\n'
           "ax.semilogy(np.arange(len(run_values"):
        "Loss of the values program on a log scale over 10 steps.",
    ("06", "fig, ax = plt.subplots(figsize=(6, 3.5), facecolor=\"white\")\nsteps_axis"):
        "Loss of the query program on a log scale over 100 steps, for the update as written in "
        "the source and for the corrected gradient, which ends lower.",
    ("06", "fig, ax = plt.subplots(figsize=(6, 3.5), facecolor=\"white\")\nax.semilogy(np.arange(steps_keys"):
        "Loss of the keys program on a log scale over 300 steps.",
    ("07", "fig, ax = plt.subplots(figsize=(6, 3.5)"): "Loss curve of one attention head learning "
        "to reverse five tokens, falling by about three orders of magnitude over 400 steps.",
    ("07", "from backprop_lib.widgets.ch07_attention"): "Heatmap of the trained head's attention "
        "weights for one test "
        "sequence: each query attends almost entirely to the key in the mirrored position, "
        "an anti-diagonal.",
}


def figure_cells(nb):
    """Code cells with a PNG among their outputs (widget figures live in the widget state)."""
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code" and any(
                "image/png" in o.get("data", {}) for o in cell.get("outputs", [])):
            yield i, cell


def main() -> int:
    missing = []
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        changed = False
        for i, cell in figure_cells(nb):
            src = "".join(cell["source"])
            alt = next((t for (ch, start), t in ALT.items()
                        if path.name.startswith(ch) and src.startswith(start)), None)
            if alt is None:
                if not cell["metadata"].get("mystnb", {}).get("image", {}).get("alt"):
                    missing.append(f"{path.name} cell {i}: {src.splitlines()[0][:60]!r}")
                continue
            image = cell["metadata"].setdefault("mystnb", {}).setdefault("image", {})
            if image.get("alt") != alt:
                image["alt"] = alt
                changed = True
        if changed:
            path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
            print(f"updated {path.relative_to(ROOT)}")
    for m in missing:
        print("no alt text:", m)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
