"""Chapter 1 exercises: the backward of single gates (scalars).

    mul:      f = x y          dx = dout * y,  dy = dout * x          (the switcher)
    max:      f = max(x, y)    the larger input gets dout, the other 0 (the router)
    sigmoid:  a = sigma(z)     dz = dout * a (1 - a)

Derived in: chapters/01_computational_graphs.ipynb
"""

from __future__ import annotations

import numpy as np

from ..activations import sigmoid
from ._checker import Case, Exercise, Feedback, Mistake, wrong_entry


def _pair(rng, far: float = 0.0):
    while True:
        x, y = (float(v) for v in np.round(rng.uniform(-4, 4, size=2), 2))
        if abs(x - y) > max(far, 0.1) and min(abs(x), abs(y)) > 0.1:
            return x, y


def _pairs(rng, n=4):
    cases = [_pair(rng, far=0.5) for _ in range(n)]
    # make sure both orders occur: max must route to x in one case and to y in another
    cases[0] = (max(cases[0]), min(cases[0]))
    cases[1] = (min(cases[1]), max(cases[1]))
    return [Case({"x": x, "y": y}) for x, y in cases]


MUL = Exercise(
    name="mul_gate", signature="mul_backward(dout, x, y) -> dx, dy",
    returns="(dx, dy): the gradients of the loss with respect to x and y, two numbers",
    forward=lambda x, y: np.asarray(x) * np.asarray(y), cases=_pairs,
    mistakes=(
        Mistake(lambda p, d: (d * p["x"], d * p["y"]), "not_swapped", """
            each input's local gradient is the OTHER input (df/dx = y): the multiply gate switches its
            inputs."""),
        Mistake(lambda _p, d: (d, d), "distributor", """
            both inputs got dout unchanged: that is the add gate (local gradients 1); for f = x y the
            local gradients are y and x."""),
    ),
)

MAX = Exercise(
    name="max_gate", signature="max_backward(dout, x, y) -> dx, dy",
    returns="(dx, dy): dout for the larger input and 0 for the other, two numbers",
    forward=lambda x, y: np.maximum(x, y), cases=_pairs,
    mistakes=(
        Mistake(lambda _p, d: (d, d), "distributor", """
            both inputs got dout: that is the add gate. The max gate routes: only the input that won
            (the larger one) affects f, so the other gets 0."""),
        Mistake(lambda p, d: (d * (p["x"] < p["y"]), d * (p["y"] < p["x"])), "swapped", """
            the gradient went to the smaller input; it belongs to the larger one, the only input that f
            depends on near this point."""),
        Mistake(lambda p, _d: (max(p["x"], p["y"]) * (p["x"] > p["y"]),
                              max(p["x"], p["y"]) * (p["y"] > p["x"])),
                "value", """
            you routed the forward value max(x, y); backward routes the upstream gradient dout."""),
    ),
)


def _logits(rng):
    return [Case({"z": float(np.round(v, 2))}) for v in rng.uniform(-4, 4, size=4)]


SIGMOID = Exercise(
    name="sigmoid_gate", signature="sigmoid_gate_backward(dout, a) -> dz",
    returns="dz = dL/dz, one number, computed from dout and the saved output a",
    forward=lambda z: sigmoid(np.asarray(z)),
    call=lambda fn, p, dout: fn(dout, float(sigmoid(np.asarray(p["z"])))),
    cases=_logits,
    mistakes=(
        Mistake(lambda p, d: (d * sigmoid(np.asarray(p["z"])),), "local", """
            you multiplied dout by a; the local gradient is da/dz = a (1 - a)."""),
        Mistake(lambda p, d: (d * (1 - sigmoid(np.asarray(p["z"]))),), "local", """
            you multiplied dout by (1 - a); the local gradient is da/dz = a (1 - a)."""),
    ),
)



# ---- build it: the topological order and backward of a scalar engine ------------------------
#
# The reader's engine works on `Var`s: a value, a gradient, the parents and, for each parent, the
# local gradient d(node)/d(parent) as a number. The checker builds graphs of them (a reused node,
# a diamond, a deep chain of diamonds), runs the reader's backward(root), and compares the leaves'
# gradients with central differences of the same graph rebuilt with nudged leaves.

class _Budget(Exception):
    """Raised inside the reader's code when it reads far more parents than the graph has."""


class Var:
    """A node of the exercise's engine: ``value``, ``grad``, ``parents``, ``local``.

    ``local[i]`` is d(this node)/d(parents[i]), evaluated at the forward values.
    """

    __slots__ = ("value", "grad", "label", "_parents", "_local", "_meter")

    def __init__(self, value: float, parents=(), local=(), label: str = "", meter=None):
        self.value, self.grad, self.label = float(value), 0.0, label
        self._parents, self._local, self._meter = tuple(parents), tuple(local), meter

    @property
    def parents(self) -> tuple:
        if self._meter is not None:
            self._meter.tick()
        return self._parents

    @property
    def local(self) -> tuple:
        return self._local

    def __repr__(self) -> str:
        return f"Var({self.label or '?'}: value={self.value:.4g}, grad={self.grad:.4g})"


class _Meter:
    def __init__(self):
        self.reads, self.limit = 0, None

    def tick(self):
        self.reads += 1
        if self.limit is not None and self.reads > self.limit:
            raise _Budget


def _graph(leaves: dict, build, meter=None):
    """Build a graph: ``build(leaf, add, mul, exp)`` from leaves -> the root."""
    nodes = {k: Var(v, label=k, meter=meter) for k, v in leaves.items()}

    def add(a, b):
        return Var(a.value + b.value, (a, b), (1.0, 1.0), meter=meter)

    def mul(a, b):
        return Var(a.value * b.value, (a, b), (b.value, a.value), meter=meter)

    def scale(a, c):
        return Var(c * a.value, (a,), (c,), meter=meter)

    def exp(a):
        e = float(np.exp(a.value))
        return Var(e, (a,), (e,), meter=meter)

    root = build(nodes, add, mul, scale, exp)
    return nodes, root


def _count(root) -> int:
    """Number of distinct nodes root depends on (root included), read without the meter."""
    seen, stack = {id(root)}, [root]
    while stack:
        for p in stack.pop()._parents:
            if id(p) not in seen:
                seen.add(id(p))
                stack.append(p)
    return len(seen)


def _chain_of_diamonds(n):
    def build(v, add, _mul, scale, _exp):
        x = v["x"]
        for _ in range(n):  # x -> 0.7 x and 0.4 x -> their sum: two paths per step
            x = add(scale(x, 0.7), scale(x, 0.4))
        return x
    return build


def _reused(v, add, mul):
    q = mul(v["x"], v["y"])
    return add(mul(q, q), v["x"])


def _diamond(v, add, mul, scale, exp):
    u = mul(v["x"], v["y"])  # u reaches f directly and through exp: arms of length 1 and 3
    return add(u, scale(exp(u), 3.0))


_ENGINE_CASES = [
    ("f = (x + y) z, the graph of section 1.1", {"x": -2.0, "y": 5.0, "z": -4.0},
     lambda v, add, mul, _s, _e: mul(add(v["x"], v["y"]), v["z"])),
    ("a reused node: f = q q + x with q = x y", {"x": 1.5, "y": -2.0},
     lambda v, add, mul, _s, _e: _reused(v, add, mul)),
    ("a diamond of unequal arms: f = u + 3 exp(u) with u = x y", {"x": 0.5, "y": -1.2},
     lambda v, add, mul, scale, exp: _diamond(v, add, mul, scale, exp)),
    ("a deep chain: 40 diamonds in a row (2^40 paths from x to f)", {"x": 0.8},
     _chain_of_diamonds(40)),
]


def _expected(leaves, build, eps=1e-6):
    out = {}
    for k in leaves:
        hi = _graph({**leaves, k: leaves[k] + eps}, build)[1].value
        lo = _graph({**leaves, k: leaves[k] - eps}, build)[1].value
        out[k] = (hi - lo) / (2 * eps)
    return out


def _engine_mistake_backwards():
    """Typical wrong engines: backward(root) for each, to compare the reader's gradients with."""
    def postorder(root, dedupe=True):
        order, seen = [], set()

        def visit(n):
            if dedupe and id(n) in seen:
                return
            seen.add(id(n))
            for p in n.parents:
                visit(p)
            order.append(n)
        visit(root)
        return order

    def run(order, assign=False):
        def go(root):
            root.grad = 1.0
            for n in order(root):
                for p, loc in zip(n.parents, n.local, strict=True):
                    p.grad = loc * n.grad if assign else p.grad + loc * n.grad
        return go

    def preorder(root):  # breadth first from the root: a node may come before a consumer
        order, seen, queue = [], {id(root)}, [root]
        while queue:
            n = queue.pop(0)
            order.append(n)
            for p in n.parents:
                if id(p) not in seen:
                    seen.add(id(p))
                    queue.append(p)
        return order

    return [
        ("overwrite", run(lambda r: reversed(postorder(r)), assign=True),
         "a node used by two gates got the gradient of only one of them: backward must "
         "accumulate (p.grad += local * node.grad), not assign (p.grad = ...). The multivariable "
         "chain rule sums the contributions of all paths."),
        ("order", run(preorder),
         "a node passed its gradient on before all of its consumers had added theirs: in a "
         "breadth-first (or pre-order) walk from the root a node can come before a gate that "
         "uses it. Visit the nodes in reverse topological order: every node after all the "
         "nodes that use it."),
        ("duplicate", run(lambda r: reversed(postorder(r, dedupe=False))),
         "some gradients are too large: a node reached along two paths was put in the order "
         "twice, so its gradient was passed on twice. The topological order must list every "
         "node once (keep a set of visited nodes)."),
    ]


def _engine_stub_message():
    return ("backward is not implemented yet: after backward(root) every .grad was still 0.\n"
            "It should set root.grad = 1 and give every node the gradient of root with respect "
            "to it, visiting the nodes in reverse topological order.")


class EngineExercise:
    """``check("scalar_engine", backward)``: the reader's backward(root) on four graphs."""

    name = "scalar_engine"
    function = "backward"

    def run(self, fn):
        for i, (what, leaves, build) in enumerate(_ENGINE_CASES):
            label = f"case {i + 1} of {len(_ENGINE_CASES)}: {what}"
            meter = _Meter()
            nodes, root = _graph(leaves, build, meter)
            meter.reads, meter.limit = 0, 20 * _count(root) + 20  # a correct engine: ~2 per node
            try:
                fn(root)
            except _Budget:
                return Feedback(False, "exponential",
                                f"backward read the parents of nodes more than {meter.limit} "
                                f"times on {label}. It revisits shared nodes once per path, "
                                f"and the number of paths doubles with each diamond (2^40 here). "
                                f"A recursion that pushes each contribution down at once gets "
                                f"the right sums, but its cost is exponential: order the nodes "
                                f"first (each once), then visit each once.",
                                {"case": i})
            except RecursionError:
                return Feedback(False, "exception",
                                f"backward raised RecursionError on {label}: a recursive walk "
                                f"this deep passes Python's recursion limit. Use an explicit "
                                f"stack (a list) instead of recursion.", {"case": i})
            except Exception as exc:  # the reader's bug: report it briefly
                msg = (str(exc).strip().splitlines() or [""])[0][:200]
                return Feedback(False, "exception",
                                f"backward raised {type(exc).__name__}: {msg}\n  (on {label}). "
                                f"Fix the error, then run this cell again.", {"case": i})
            given = {k: n.grad for k, n in nodes.items()}
            if i == 0 and root.grad == 0.0 and not any(given.values()):
                return Feedback(False, "stub", _engine_stub_message())
            want = _expected(leaves, build)
            if all(abs(given[k] - want[k]) <= 1e-5 * max(1.0, abs(want[k])) for k in want):
                continue
            for kind, wrong, message in _engine_mistake_backwards():
                w_meter = _Meter()
                w_nodes, w_root = _graph(leaves, build, w_meter)
                w_meter.limit = 20 * _count(w_root) + 20
                try:
                    wrong(w_root)
                except _Budget:  # this mistake is exponential on this graph: not the reader's
                    continue
                if all(abs(given[k] - w_nodes[k].grad) <= 1e-9 * max(1.0, abs(want[k]))
                       for k in want):
                    return Feedback(False, kind, f"{message}\n  (Failing: {label}.)", {"case": i})
            k = next(k for k in want if abs(given[k] - want[k]) > 1e-5 * max(1.0, abs(want[k])))
            return wrong_entry(f"the gradient of {k} is wrong on {label}", want[k], given[k],
                               "your backward", case=i)
        return Feedback(True, "pass",
                        f"Correct: backward passes all {len(_ENGINE_CASES)} graphs (a simple "
                        "graph, a reused node, a diamond and a chain of 40 diamonds): every "
                        "leaf's gradient agrees with central differences, and each node's "
                        "parents are read a bounded number of times.")


ENGINE = EngineExercise()

EXERCISES = [MUL, MAX, SIGMOID, ENGINE]
