"""Reverse-mode autograd shaped like torch.autograd:  x.grad = dL/dx = sum over paths of upstream x local.

A ``Function`` subclass defines ``forward(ctx, *inputs) -> output`` and
``backward(ctx, grad_output) -> one gradient per input`` (None for inputs that need none).
``F.apply(*inputs)`` runs forward on the inputs' arrays and, when an input requires grad, records
a node ``output.grad_fn`` whose ``next_functions`` point at the nodes of the inputs. A leaf that
requires grad gets one ``AccumulateGrad`` node that adds incoming gradients into ``leaf.grad``.
``loss.backward()`` visits the nodes in reverse topological order, so a node runs only after
every gradient meant for it has been summed.

Shapes: every gradient has exactly the shape of its tensor; ``grad_output`` has the output's shape.

Layers, each importing only those before it (as MiniTorch splits autodiff / functions / tensor):
autograd.py (this engine) < ops.py (the primitive ops behind Tensor's operators) < tensor.py
(Tensor) < functions.py (Linear, Sigmoid, Softmax, SquaredError) < two_layer_net.py (the model);
transformer_autograd.py (Chapter 9's block as a program of Tensor ops) uses tensor.py alone.

Derived in: chapters/05_autograd.ipynb
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._graph import depth_first_order
from ._validate import as_float_array

__all__ = ["TensorBase", "Function", "Context", "AccumulateGrad", "BackwardNode", "Visit",
           "graph_order", "format_graph", "graph_saved_bytes"]


class Visit(NamedTuple):
    """One step of a backward pass: the node, the summed upstream gradient it received, and
    the gradients it sent to its inputs (None where nothing was sent)."""

    node: object
    grad_output: np.ndarray
    input_grads: tuple


class Context:
    """What forward leaves for backward: ``save_for_backward(*arrays)`` / ``saved_tensors``."""

    def __init__(self, needs_input_grad: tuple[bool, ...]):
        self.needs_input_grad = needs_input_grad
        self._saved: tuple = ()
        self._freed = False

    def save_for_backward(self, *arrays) -> None:
        self._saved = tuple(arrays)

    @property
    def saved_tensors(self) -> tuple:
        if self._freed:
            raise RuntimeError("Trying to backward through the graph a second time: the saved "
                               "values were freed. Call backward(retain_graph=True) the first time.")
        return self._saved

    def free(self) -> None:
        self._saved, self._freed = (), True


class BackwardNode:
    """grad_fn of a Function's output: calls ``backward(ctx, grad_output)`` and checks shapes."""

    def __init__(self, function: type, ctx: Context, next_functions: tuple, input_shapes: tuple,
                 input_names: tuple = ()):
        self.function, self.ctx = function, ctx
        self.next_functions, self.input_shapes = next_functions, input_shapes
        self.input_names = input_names  # a Tensor input's name ("" if none); None for a non-tensor
        self.retained: TensorBase | None = None  # set by Tensor.retain_grad()

    def name(self) -> str:
        return f"{self.function.__name__}Backward"

    def __repr__(self) -> str:
        return f"<{self.name()}>"

    def apply(self, grad_output: np.ndarray) -> tuple:
        if self.retained is not None:
            t = self.retained
            t.grad = grad_output.copy() if t.grad is None else t.grad + grad_output
        grads = self.function.backward(self.ctx, grad_output)
        grads = grads if isinstance(grads, tuple) else (grads,)
        if len(grads) != len(self.next_functions):
            raise RuntimeError(f"{self.name()} returned {len(grads)} gradients, expected "
                               f"{len(self.next_functions)} (one per forward input, None allowed)")
        out = []
        for i, (g, nxt, shape) in enumerate(zip(grads, self.next_functions, self.input_shapes,
                                                strict=True)):
            if nxt is None or g is None:
                out.append(None)
                continue
            g = np.asarray(g, dtype=np.float64)
            if g.shape != shape:  # dX must have exactly the shape of X
                raise ValueError(f"{self.name()} returned a gradient of shape {g.shape} for "
                                 f"input {i}, expected {shape}")
            out.append(g)
        return tuple(out)


class AccumulateGrad:
    """The node of a leaf that requires grad: ``leaf.grad += incoming gradient``."""

    next_functions: tuple = ()

    def __init__(self, leaf: TensorBase):
        self.variable = leaf

    def name(self) -> str:
        return "AccumulateGrad"

    def __repr__(self) -> str:
        return f"<AccumulateGrad {self.variable.name}>".replace(" >", ">")

    def apply(self, grad_output: np.ndarray) -> tuple:
        leaf = self.variable
        leaf.grad = grad_output.copy() if leaf.grad is None else leaf.grad + grad_output
        return ()


class TensorBase:
    """An array of float64 with ``requires_grad``, ``grad`` (= dL/d self) and ``grad_fn``.

    The engine's part of a tensor; ``backprop_lib.tensor.Tensor`` adds the operators (+, -, *,
    /, **, @, [], sum, exp, reshape, ...), which are Functions themselves (backprop_lib/ops.py),
    as in PyTorch, where ``torch.Tensor`` extends ``torch._C.TensorBase``.
    """

    __array_priority__ = 1000  # numpy scalars on the left defer to Tensor's operators

    def __init__(self, data, requires_grad: bool = False, name: str = ""):
        self.data = as_float_array(data, name or "data").copy()
        self.requires_grad = bool(requires_grad)
        self.grad: np.ndarray | None = None
        self.grad_fn: BackwardNode | None = None
        self.name = name
        self._node: AccumulateGrad | None = None

    @classmethod
    def _result(cls, data, requires_grad: bool) -> TensorBase:
        """Wrap a Function's output as is (no copy; inf/NaN allowed, as in torch)."""
        out = cls.__new__(cls)
        out.data = np.asarray(data, dtype=np.float64)
        out.requires_grad, out.grad, out.grad_fn, out.name, out._node = requires_grad, None, None, "", None
        return out

    # -- attributes, as in torch --------------------------------------------------------------
    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def shape(self) -> tuple:
        return self.data.shape

    def item(self) -> float:
        return float(self.data.reshape(-1)[0]) if self.data.size == 1 else self._not_scalar()

    def _not_scalar(self):
        raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")

    def numpy(self) -> np.ndarray:
        return self.data.copy()

    def node(self):
        """The node backward enters through: grad_fn, or the leaf's AccumulateGrad, or None."""
        if self.grad_fn is not None:
            return self.grad_fn
        if not self.requires_grad:
            return None
        if self._node is None:
            self._node = AccumulateGrad(self)
        return self._node

    def retain_grad(self) -> None:
        """Keep dL/d(self) in ``.grad`` for a non-leaf tensor too (leaves always keep it)."""
        if self.grad_fn is not None:
            self.grad_fn.retained = self

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (``grad = None``), as ``optimizer.zero_grad()`` does."""
        self.grad = None

    def __repr__(self) -> str:
        body = np.array2string(self.data, precision=4, floatmode="fixed", separator=", ",
                               prefix="tensor(")
        if self.grad_fn is not None:
            return f"tensor({body}, grad_fn=<{self.grad_fn.name()}>)"
        return f"tensor({body}, requires_grad=True)" if self.requires_grad else f"tensor({body})"

    # -- backward -------------------------------------------------------------------------------
    def backward(self, grad_output=None, *, retain_graph: bool = False, trace: list | None = None):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``.

        grad_output : dL/d(self), shape of self; omitted only for a one-element self (then 1).
        retain_graph: keep the saved values so that backward can run through the graph again.
        trace       : a list that receives a Visit(node, grad_output, input_grads) per node run.
        """
        start = self.node()
        if start is None:
            raise RuntimeError("backward() on a tensor that does not require grad and has no grad_fn")
        if grad_output is None:
            if self.data.size != 1:
                raise RuntimeError(f"grad_output can be omitted only for a one-element tensor, "
                                   f"got shape {self.shape}")
            grad = np.ones_like(self.data)
        else:
            grad = as_float_array(grad_output, "grad_output")
            if grad.shape != self.shape:
                raise ValueError(f"grad_output must have shape {self.shape}, got {grad.shape}")
        order = graph_order(start)
        pending = {id(start): grad}  # the summed upstream gradient of each node not yet run
        for node in reversed(order):
            g = pending.pop(id(node), None)
            if g is None:  # nothing flowed here (every branch above returned None)
                continue
            grads = node.apply(g)
            if trace is not None:
                trace.append(Visit(node, g, grads))
            for nxt, gi in zip(node.next_functions, grads, strict=False):
                if nxt is not None and gi is not None:
                    # a node reached along two paths receives the sum: multivariable chain rule
                    pending[id(nxt)] = pending[id(nxt)] + gi if id(nxt) in pending else gi
        if not retain_graph:
            for node in order:
                if isinstance(node, BackwardNode):
                    node.ctx.free()


class Function:
    """Subclass and define static ``forward(ctx, *inputs)`` and ``backward(ctx, grad_output)``."""

    @staticmethod
    def forward(ctx: Context, *inputs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, grad_output):
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs) -> TensorBase:
        """Run forward on the input arrays; record a grad_fn node if one requires grad."""
        tensors = [a for a in inputs if isinstance(a, TensorBase)]
        needs = tuple(isinstance(a, TensorBase) and a.requires_grad for a in inputs)
        ctx = Context(needs)
        raw = [a.data if isinstance(a, TensorBase) else a for a in inputs]
        wrap = type(tensors[0]) if tensors else TensorBase  # the output is a Tensor like its inputs
        out = wrap._result(cls.forward(ctx, *raw), requires_grad=any(needs))
        if any(needs):
            edges = tuple(a.node() if isinstance(a, TensorBase) else None for a in inputs)
            shapes = tuple(np.shape(r) for r in raw)
            names = tuple(a.name if isinstance(a, TensorBase) else None for a in inputs)
            out.grad_fn = BackwardNode(cls, ctx, edges, shapes, names)
        return out


def graph_order(start) -> list:
    """Every node reachable from ``start`` through next_functions, each after the nodes it
    sends gradient to (inputs first, ``start`` last); backward runs the reverse of this list."""
    if not hasattr(start, "next_functions"):
        raise TypeError(f"start must be a graph node (tensor.grad_fn), got {type(start).__name__}")
    return depth_first_order(start, lambda node: [n for n in node.next_functions if n is not None])


def _saved_shapes(node) -> str:
    if not isinstance(node, BackwardNode) or not node.ctx._saved:
        return ""
    shapes = ", ".join(str(tuple(np.shape(s))) for s in node.ctx._saved if s is not None)
    return f"   saved: {shapes}"


def _received(g) -> str:
    g = np.asarray(g)
    if g.size > 4:
        return f"   receives an array of shape {g.shape}"
    return "   receives " + np.array2string(g.ravel(), separator=", ",
                                            formatter={"float_kind": lambda v: f"{v:.4g}"})


def format_graph(root: TensorBase, trace: list | None = None) -> str:
    """The recorded graph as an indented tree from ``root.grad_fn`` down to the leaves.

    Each line names a node and the shapes it saved for backward; ``(no grad)`` marks an input
    that needs no gradient (backward skips it); a node reached a second time says ``(shared)``.
    With the ``trace`` of a backward pass, each node shows the gradient it received instead.
    """
    if not isinstance(root, TensorBase):
        raise TypeError(f"root must be a Tensor, got {type(root).__name__}")
    received = {id(v.node): v.grad_output for v in trace or ()}
    start = root.node()
    if start is None:
        return "(no graph: the tensor does not require grad)"
    lines, seen = [], set()

    def walk(node, prefix: str, last: bool, top: bool, name: str = ""):
        branch = "" if top else ("└─ " if last else "├─ ")
        if node is None:
            lines.append(prefix + branch + f"{name or 'tensor'} (no grad)")
            return
        note = _received(received[id(node)]) if id(node) in received else _saved_shapes(node)
        label = repr(node)[1:-1] + (" (shared)" if id(node) in seen else note)
        lines.append(prefix + branch + label)
        if id(node) in seen:
            return
        seen.add(id(node))
        child_prefix = prefix + ("" if top else ("   " if last else "│  "))
        names = getattr(node, "input_names", ())
        kids = [(k, n) for k, n in zip(node.next_functions, names, strict=True) if n is not None]
        for i, (k, n) in enumerate(kids):  # tensor inputs only: dim, exponent, index are not edges
            walk(k, child_prefix, i == len(kids) - 1, False, n)

    walk(start, "", True, True)
    return "\n".join(lines)


def _owner(a: np.ndarray) -> np.ndarray:
    """The array that owns the memory a view (a transpose, a reshape, a slice) looks into."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def graph_saved_bytes(root: TensorBase) -> int:
    """Bytes of the arrays the nodes of ``root``'s graph keep for backward (ctx.save_for_backward).

    Each buffer is counted once (a view, such as a transpose, counts as the array it looks
    into); the leaves' own data (parameters, inputs) is not counted, nor what backward freed.
    """
    if not isinstance(root, TensorBase):
        raise TypeError(f"root must be a Tensor, got {type(root).__name__}")
    start = root.node()
    nodes = graph_order(start) if start is not None else []
    leaves = {id(_owner(n.variable.data)) for n in nodes if isinstance(n, AccumulateGrad)}
    kept = {}
    for node in nodes:
        for a in node.ctx._saved if isinstance(node, BackwardNode) else ():
            if isinstance(a, np.ndarray) and id(owner := _owner(a)) not in leaves:
                kept[id(owner)] = owner.nbytes
    return sum(kept.values())
