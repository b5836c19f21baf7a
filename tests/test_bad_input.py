"""Bad input on every public function of backprop_lib, found by introspection.

Every module of the package is imported and every public function (in ``__all__``, or not
starting with ``_`` when a module has no ``__all__``) must have a row in CASES (valid example
arguments and what each argument is) or in EXEMPT (with the reason). A new function without a
row fails ``test_every_public_function_has_a_case``, so none escapes.

For each row the test tries, per argument kind:
  array  : a wrong shape (ValueError naming the argument, the expected and the given shape),
           a Python list (accepted, same result), an integer array (accepted, converted to
           float64: same result as the float array of the same values), NaN (ValueError naming
           the argument, unless the argument is listed in ``nan_propagates`` and the docstring
           says so), and non-numeric input (TypeError naming the argument);
  real   : non-numeric (TypeError), NaN (ValueError), each naming the argument;
  count  : non-numeric (TypeError), a fraction and a negative number (ValueError);
  object : a string where a graph, cache, dict or function belongs (TypeError naming it).
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import re
from dataclasses import dataclass, field

import numpy as np
import pytest

import backprop_lib
from backprop_lib import deep
from backprop_lib import language_model as lm
from backprop_lib import network as nw
from backprop_lib import transformer as tr
from backprop_lib.adam import adam_init
from backprop_lib.attention_head import attention_head_forward
from backprop_lib.engine import Node
from backprop_lib.linear import linear_forward, linear_forward_col
from backprop_lib.normalization import RunningStats, batch_norm_forward, layer_norm_forward
from backprop_lib.tensor import Tensor
from backprop_lib.vectorized import wx_norm_sq


def A(*shape):
    """A deterministic, non-integer, non-uniform float array (no zeros, mixed signs)."""
    n = int(np.prod(shape)) if shape else 1
    return (0.37 * np.arange(1, n + 1) * (-1.0) ** np.arange(n) + 0.11).reshape(shape)


def P(*shape):
    """Probabilities: positive, each column sums to 1 (a softmax output along axis 0)."""
    e = np.exp(A(*shape) / 3)
    return e / e.sum(axis=0, keepdims=True)


@dataclass
class Case:
    make: object  # () -> dict of valid keyword arguments (fresh each call)
    wrong: dict = field(default_factory=dict)  # array arg -> a shape that must be rejected
    any_shape: tuple = ()  # array args every shape of which is valid (or that fix the shape)
    reals: tuple = ()
    counts: tuple = ()
    objects: tuple = ()
    nan_propagates: tuple = ()
    compare: bool = True  # compare results of list / int inputs with the float call


def _graph():
    x, w = Node(2.0, "x"), Node(-3.0, "w")
    return x * w + 1.0


def _tensor_graph():
    t = Tensor(A(2, 3), requires_grad=True, name="t")
    return (t * t).sum()


def _net_cache():
    return nw.forward(np.array([1.0, 0.5, -1.0]), nw.example()["params"])


F = lambda v: float(np.sum(v ** 2))  # noqa: E731


def _block():
    return tr.init_block(4, 2, seed=1)


def _lm():
    """A language model of vocab 5, d = 4, h = 2, one block, T_max = 6 (token ids are int lists)."""
    return lm.init_model(5, 4, 2, 1, 6, seed=0)


_TOKENS, _TARGETS = [[0, 1, 4, 2], [3, 4, 0, 1]], [[-100, -100, 3, 1], [-100, 2, 2, -100]]

CASES = {
    # activations
    "activations.sigmoid": Case(lambda: dict(z=A(3, 2)), any_shape=("z",)),
    "activations.sigmoid_backward": Case(lambda: dict(dout=A(3, 2), a=P(3, 2)), wrong={"dout": (2, 3)},
                                         any_shape=("a",)),
    "activations.softmax": Case(lambda: dict(z=A(3, 2), axis=0), wrong={"z": (1, 1, 1, 2)},
                                objects=("axis",)),
    "activations.softmax_jacobian": Case(lambda: dict(a=P(3)), wrong={"a": (3, 2)}),
    "activations.softmax_vjp": Case(lambda: dict(dout=A(3, 2), a=P(3, 2)),
                                    wrong={"dout": (2, 3), "a": (1, 1, 1, 2)}),
    "activations.tanh": Case(lambda: dict(z=A(3, 2)), any_shape=("z",)),
    "activations.tanh_backward": Case(lambda: dict(dout=A(3, 2), a=P(3, 2)), wrong={"dout": (2, 3)},
                                      any_shape=("a",)),
    "activations.relu": Case(lambda: dict(z=A(3, 2)), any_shape=("z",)),
    "activations.relu_backward": Case(lambda: dict(dout=A(3, 2), a=A(3, 2)), wrong={"dout": (2, 3)},
                                      any_shape=("a",)),
    # adam
    "adam.adam_init": Case(lambda: dict(params={"W": A(2, 3), "b": A(3)}), objects=("params",)),
    "adam.adam_step": Case(lambda: dict(params={"W": A(2, 3), "b": A(3)}, grads={"W": A(2, 3) / 3, "b": A(3)},
                                        state=adam_init({"W": A(2, 3), "b": A(3)}), lr=0.1,
                                        betas=(0.9, 0.999), eps=1e-8),
                           objects=("params", "grads", "state", "betas"), reals=("lr", "eps")),
    # attention
    "attention.weighted_values": Case(lambda: dict(V=A(2, 3), A=A(3)),
                                      wrong={"V": (2, 3, 1, 1), "A": (4,)}),
    "attention.weighted_values_backward": Case(lambda: dict(dVbar=A(2), V=A(2, 3), A=A(3)),
                                               wrong={"dVbar": (3,), "V": (2, 3, 1, 1), "A": (4,)}),
    "attention.value_layer": Case(lambda: dict(W=A(2, 3), b=A(2), X=A(3, 4)),
                                  wrong={"W": (2, 3, 1), "b": (3,), "X": (2, 4)}),
    "attention.value_layer_backward": Case(lambda: dict(dv=A(2, 4), W=A(2, 3), X=A(3, 4)),
                                           wrong={"dv": (2, 5), "W": (2, 3, 1), "X": (2, 4)}),
    "attention.projection": Case(lambda: dict(W=A(2, 3), X=A(3)), wrong={"W": (2, 3, 1), "X": (4,)}),
    "attention.projection_backward": Case(lambda: dict(dout=A(2), W=A(2, 3), X=A(3)),
                                          wrong={"dout": (3,), "W": (2, 3, 1), "X": (4,)}),
    "attention.scores": Case(lambda: dict(Q=A(2), K=A(2, 3), scale=0.7),
                             wrong={"Q": (2, 1, 1, 1), "K": (3, 3)}, reals=("scale",)),
    "attention.scores_backward": Case(lambda: dict(dS=A(3), Q=A(2), K=A(2, 3), scale=0.7),
                                      wrong={"dS": (4,), "Q": (2, 1, 1, 1), "K": (3, 3)},
                                      reals=("scale",)),
    "attention.softmax_circuit": Case(lambda: dict(s=A(3)), wrong={"s": (3, 1)}),
    "attention.softmax_branches": Case(lambda: dict(s=A(3)), wrong={"s": (3, 1)}),
    "attention.query_update_as_written": Case(lambda: dict(dq=A(2), x1=np.r_[A(2), 1.0]),
                                              wrong={"dq": (2, 1), "x1": (4,)}),
    "attention.values_program": Case(
        lambda: dict(Wv=A(2, 3) / 10, b=A(2) / 10, x=A(3, 4) / 10, y=A(2), alpha=P(4), eta=0.002, steps=3),
        wrong={"Wv": (2, 3, 1), "b": (3,), "x": (2, 4), "alpha": (5,), "y": (3,)},
        reals=("eta",), counts=("steps",)),
    "attention.query_program": Case(
        lambda: dict(Wq=A(2, 3) / 10, K=A(2, 4) / 10, x1=np.r_[A(2) / 10, 1.0], y=A(4), eta=0.02, steps=3),
        wrong={"Wq": (2, 3, 1), "K": (3, 4), "x1": (4,), "y": (5,)}, reals=("eta",), counts=("steps",)),
    "attention.keys_program": Case(
        lambda: dict(Wk=A(2, 3) / 10, q=A(2) / 10, x=A(3, 4) / 10, y=A(4), eta=0.01, steps=3),
        wrong={"Wk": (2, 3, 1), "q": (3,), "x": (2, 4), "y": (5,)}, reals=("eta",), counts=("steps",)),
    # attention_head
    "attention_head.causal_mask": Case(lambda: dict(T=4), counts=("T",)),
    "attention_head.attention_head_forward": Case(
        lambda: dict(X=A(3, 5) / 5, Wq=A(2, 3) / 5, Wk=A(2, 3) / 7, Wv=A(2, 3) / 9),
        wrong={"X": (3, 5, 1, 1), "Wq": (2, 4), "Wk": (3, 3), "Wv": (2, 4)}),
    "attention_head.attention_head_backward": Case(
        lambda: dict(dout=A(2, 5), cache=attention_head_forward(A(3, 5) / 5, A(2, 3) / 5, A(2, 3) / 7,
                                                                A(2, 3) / 9)[1]),
        wrong={"dout": (2, 4)}, objects=("cache",)),
    "attention_head.mask_scores": Case(lambda: dict(S=A(3, 3)), wrong={"S": (3, 3, 3, 3)}),
    "attention_head.make_benchmark": Case(lambda: dict(T=8, d=4, batch=1, seed=0),
                                          counts=("T", "d", "batch", "seed"), compare=False),
    # autograd
    "autograd.graph_order": Case(lambda: dict(start=_tensor_graph().grad_fn), objects=("start",),
                                 compare=False),
    "autograd.format_graph": Case(lambda: dict(root=_tensor_graph()), objects=("root",)),
    "autograd.graph_saved_bytes": Case(lambda: dict(root=_tensor_graph()), objects=("root",)),
    # cross_entropy (y as integer labels in a list: labels are not floats; see test_cross_entropy.py)
    "cross_entropy.log_softmax": Case(lambda: dict(z=A(3, 2), axis=0), wrong={"z": (1, 1, 1, 2)},
                                      objects=("axis",)),
    "cross_entropy.log_softmax_backward": Case(lambda: dict(dout=A(3, 2), logp=np.log(P(3, 2)), axis=0),
                                               wrong={"dout": (2, 3), "logp": (1, 1, 1, 2)},
                                               objects=("axis",)),
    "cross_entropy.cross_entropy": Case(lambda: dict(z=A(3, 2), y=[0, 2]), wrong={"z": (3, 2, 1), "y": (3,)},
                                        objects=("y",)),
    "cross_entropy.cross_entropy_backward": Case(lambda: dict(z=A(3, 2), y=[0, 2], dout=1.5),
                                                 wrong={"z": (3, 2, 1), "y": (3,)}, objects=("y",),
                                                 reals=("dout",)),
    "cross_entropy.binary_cross_entropy_with_logits": Case(lambda: dict(z=A(3, 2), y=P(3, 2)),
                                                           wrong={"y": (2, 3)}, any_shape=("z",)),
    "cross_entropy.binary_cross_entropy_with_logits_backward": Case(
        lambda: dict(z=A(3, 2), y=P(3, 2), dout=1.5), wrong={"y": (2, 3)}, any_shape=("z",),
        reals=("dout",)),
    # clipping
    "clipping.clip_grad_norm": Case(lambda: dict(grads=[A(2, 3), A(4)], max_norm=1.5),
                                    objects=("grads",), reals=("max_norm",)),
    # deep
    "deep.init_std": Case(lambda: dict(fan_in=4, fan_out=3, init="he", scale=1.5),
                          counts=("fan_in", "fan_out"), reals=("scale",)),
    "deep.init_mlp": Case(lambda: dict(sizes=[3, 4, 2], init="xavier", scale=1.0, norm="batch", seed=1),
                          objects=("sizes",), reals=("scale",), counts=("seed",)),
    "deep.mlp_forward": Case(lambda: dict(X=A(4, 3) / 5, params=deep.init_mlp([3, 4, 2], norm="batch"),
                                          activation="tanh", norm="batch", residual=False),
                             wrong={"X": (4, 2)}, objects=("params", "residual")),
    "deep.mlp_backward": Case(lambda: dict(dout=A(4, 2), cache=deep.mlp_forward(A(4, 3) / 5,
                                                                                deep.init_mlp([3, 4, 2]))[1]),
                              wrong={"dout": (4, 3)}, objects=("cache",)),
    "deep.mlp_gradients": Case(lambda: dict(X=A(4, 3) / 5, y=A(4, 2), params=deep.init_mlp([3, 4, 4, 2]),
                                            activation="relu", residual=True),
                               wrong={"X": (4, 2), "y": (4, 3)}, objects=("params", "residual")),
    "deep.train_mlp": Case(lambda: dict(X=A(4, 3) / 5, y=A(4, 2) / 5, params=deep.init_mlp([3, 4, 2]),
                                        steps=3, lr=0.1, max_norm=1.0),
                           wrong={"X": (4, 2), "y": (4, 3)}, objects=("params",), counts=("steps",),
                           reals=("lr", "max_norm")),
    # draw, engine
    "draw.graph_layout": Case(lambda: dict(root=_graph()), objects=("root",), compare=False),
    "draw.draw_graph": Case(lambda: dict(root=_graph()), objects=("root",), compare=False),
    "draw.edge_gradients": Case(lambda: dict(root=_graph()), objects=("root",), compare=False),
    "draw.draw_diagram": Case(lambda: dict(nodes={"a": (0.0, 0.0, "a"), "b": (2.0, 0.0, "b")},
                                           edges=[("a", "b", "1", None)]),
                              objects=("nodes", "edges"), compare=False),
    "engine.topological_order": Case(lambda: dict(root=_graph()), objects=("root",), compare=False),
    # gradcheck
    "gradcheck.numerical_gradient": Case(lambda: dict(f=F, x=A(3), eps=1e-6), any_shape=("x",),
                                         objects=("f",), reals=("eps",)),
    "gradcheck.relative_error": Case(lambda: dict(analytic=A(3), numeric=A(3) * 1.01, floor=1e-4),
                                     wrong={"numeric": (4,)}, any_shape=("analytic",), reals=("floor",),
                                     nan_propagates=("analytic", "numeric")),
    "gradcheck.check_gradient": Case(lambda: dict(f=lambda x: F(x), inputs={"x": A(3)},
                                                  analytic={"x": 2 * A(3)}),
                                     objects=("f", "inputs", "analytic"), compare=False),
    # language_model (tokens and targets are int lists; tests/test_language_model.py checks their errors)
    "language_model.init_model": Case(lambda: dict(vocab=5, d=4, h=2, n_blocks=1, T_max=6, seed=1),
                                      counts=("vocab", "d", "h", "n_blocks", "T_max", "seed")),
    "language_model.model_forward": Case(lambda: dict(tokens=_TOKENS, params=_lm(), h=2),
                                         objects=("tokens", "params"), counts=("h",)),
    "language_model.model_backward": Case(
        lambda: dict(dlogits=A(2, 4, 5), cache=lm.model_forward(_TOKENS, _lm(), h=2)[1]),
        wrong={"dlogits": (2, 4, 4)}, objects=("cache",)),
    "language_model.loss_and_grads": Case(lambda: dict(tokens=_TOKENS, targets=_TARGETS, params=_lm(), h=2),
                                          objects=("tokens", "targets", "params"), counts=("h",)),
    "language_model.train_model": Case(
        lambda: dict(params=_lm(), h=2, steps=2, lr=0.01, seed=1, batch=2, length=3, record_every=1,
                     betas=(0.9, 0.999), eps=1e-8),
        objects=("params", "betas"), counts=("h", "steps", "seed", "batch", "length", "record_every"),
        reals=("lr", "eps")),
    "language_model.chapter_run": Case(lambda: dict(steps=2), counts=("steps",)),
    "language_model.predict": Case(lambda: dict(tokens=_TOKENS, params=_lm(), h=2),
                                   objects=("tokens", "params"), counts=("h",)),
    "language_model.accuracy": Case(lambda: dict(tokens=_TOKENS, targets=_TARGETS, params=_lm(), h=2),
                                    objects=("tokens", "targets", "params"), counts=("h",)),
    "language_model.generate": Case(lambda: dict(tokens=_TOKENS, params=_lm(), h=2, n_new=2),
                                    objects=("tokens", "params"), counts=("h", "n_new")),
    # linear
    "linear.linear_forward": Case(lambda: dict(X=A(4, 3), W=A(3, 2), b=A(2)),
                                  wrong={"X": (4, 3, 1), "W": (4, 2), "b": (3,)}),
    "linear.linear_backward": Case(lambda: dict(dout=A(4, 2),
                                                cache=linear_forward(A(4, 3), A(3, 2), A(2))[1]),
                                   wrong={"dout": (4, 3)}, objects=("cache",)),
    "linear.linear_forward_col": Case(lambda: dict(W=A(2, 3), X=A(3, 4), b=A(2)),
                                      wrong={"W": (2, 3, 1), "X": (2, 4), "b": (3,)}),
    "linear.linear_backward_col": Case(
        lambda: dict(dout=A(2, 4), cache=linear_forward_col(A(2, 3), A(3, 4), A(2))[1]),
        wrong={"dout": (2, 5)}, objects=("cache",)),
    "linear.absorb_bias": Case(lambda: dict(W=A(2, 3), b=A(2)), wrong={"W": (2, 3, 1), "b": (3,)}),
    "linear.append_ones": Case(lambda: dict(X=A(3, 4)), wrong={"X": (3, 4, 1)}),
    "linear.train_linear": Case(lambda: dict(X=A(2, 5) / 5, y=A(2, 5), W0=A(2, 2) / 5, b0=A(2), lr=0.01,
                                             steps=5),
                                wrong={"X": (3, 5), "y": (2, 4), "W0": (2, 2, 1), "b0": (3,)},
                                reals=("lr",), counts=("steps",)),
    "linear.max_stable_lr": Case(lambda: dict(X=A(2, 5)), wrong={"X": (2, 5, 1)}),
    # losses
    "losses.squared_error": Case(lambda: dict(pred=A(3, 2), target=A(3, 2) / 2),
                                 wrong={"target": (2, 3)}, any_shape=("pred",)),
    "losses.squared_error_backward": Case(lambda: dict(pred=A(3, 2), target=A(3, 2) / 2, dout=1.5),
                                          wrong={"target": (2, 3)}, any_shape=("pred",), reals=("dout",)),
    # netdraw
    "netdraw.network_layout": Case(lambda: dict(sizes=(3, 4, 2)), objects=("sizes",)),
    "netdraw.network_edges": Case(lambda: dict(sizes=(3, 4, 2)), objects=("sizes",)),
    "netdraw.draw_network": Case(lambda: dict(sizes=(3, 4, 2)), objects=("sizes",), compare=False),
    # network
    "network.example": Case(lambda: {}),
    "network.forward": Case(lambda: dict(x=A(3), params=nw.example()["params"]), wrong={"x": (4,)},
                            objects=("params",)),
    "network.loss": Case(lambda: dict(cache=_net_cache(), y=np.array([1.0, 0.0])), wrong={"y": (3,)},
                         objects=("cache",)),
    "network.backward": Case(lambda: dict(cache=_net_cache(), y=np.array([1.0, 0.0])), wrong={"y": (3,)},
                             objects=("cache",)),
    "network.gradients": Case(lambda: dict(x=A(3), y=np.array([1.0, 0.0]), params=nw.example()["params"]),
                              wrong={"x": (4,), "y": (3,)}, objects=("params",)),
    "network.sgd_step": Case(lambda: dict(params=nw.example()["params"],
                                          grads=nw.gradients(A(3), [1.0, 0.0], nw.example()["params"]),
                                          lr=0.5),
                             objects=("params", "grads"), reals=("lr",)),
    "network.train": Case(lambda: dict(x=A(3), y=np.array([1.0, 0.0]), params=nw.example()["params"],
                                       lr=0.5, steps=4),
                          wrong={"x": (4,), "y": (3,)}, objects=("params",), reals=("lr",),
                          counts=("steps",)),
    # normalization
    "normalization.batch_norm_forward": Case(
        lambda: dict(x=A(4, 3), gamma=A(3), beta=A(3), axis=0, eps=1e-5, running=RunningStats.start(3),
                     training=True),
        wrong={"x": (1, 3), "gamma": (4,), "beta": (2,)}, reals=("eps",),
        objects=("axis", "running", "training")),
    "normalization.batch_norm_backward": Case(
        lambda: dict(dout=A(4, 3), cache=batch_norm_forward(A(4, 3), A(3), A(3))[1]),
        wrong={"dout": (3, 4)}, objects=("cache",)),
    "normalization.layer_norm_forward": Case(
        lambda: dict(x=A(2, 4, 3), gamma=A(3), beta=A(3), axis=-1, eps=1e-5),
        wrong={"gamma": (4,), "beta": (2,)}, any_shape=("x",), reals=("eps",), objects=("axis",)),
    "normalization.layer_norm_backward": Case(
        lambda: dict(dout=A(2, 3), cache=layer_norm_forward(A(2, 3), A(3), A(3))[1]),
        wrong={"dout": (3, 2)}, objects=("cache",)),
    # report
    "report.format_table": Case(lambda: dict(headers=["a", "b"], rows=[(1, 0.5)], digits=3),
                                counts=("digits",)),
    "report.print_table": Case(lambda: dict(headers=["a", "b"], rows=[(1, 0.5)], digits=3),
                               counts=("digits",)),
    "report.agreement": Case(lambda: dict(a=A(3), b=A(3), tol=1e-8), wrong={"b": (4,)}, any_shape=("a",),
                             reals=("tol",), nan_propagates=("a", "b")),
    # residual
    "residual.residual_forward": Case(lambda: dict(x=A(3, 2), block_forward=lambda v: (np.tanh(v), v)),
                                      any_shape=("x",), objects=("block_forward",)),
    "residual.residual_backward": Case(
        lambda: dict(dout=A(3, 2), cache=((3, 2), A(3, 2)), block_backward=lambda d, c: (d * c,)),
        wrong={"dout": (2, 3)}, objects=("cache", "block_backward")),
    # scalar_examples
    "scalar_examples.add_mul_graph": Case(lambda: dict(x=-2.0, y=5.0, z=-4.0), reals=("x", "y", "z")),
    "scalar_examples.sigmoid_neuron_gates": Case(lambda: dict(w=A(2), b=-3.0, x=A(2)),
                                                 wrong={"w": (3,), "x": (3,)}, reals=("b",)),
    "scalar_examples.sigmoid_neuron_collapsed": Case(lambda: dict(w=A(2), b=-3.0, x=A(2)),
                                                     wrong={"w": (3,), "x": (3,)}, reals=("b",)),
    # tasks (token ids are ints, given as lists: see tests/test_tasks.py for their checks)
    "tasks.make_batch": Case(lambda: dict(rng_or_seed=3, batch=4, length=3, n_symbols=5),
                             counts=("rng_or_seed", "batch", "length", "n_symbols")),
    "tasks.loss_mask": Case(lambda: dict(targets=[-100, 2, 3]), objects=("targets",)),
    "tasks.decode": Case(lambda: dict(tokens=[0, 1, 4, 1, 0], n_symbols=4), objects=("tokens",),
                         counts=("n_symbols",)),
    # transformer (a block of d = 4 features, h = 2 heads, d_ff = 16; X (2, 3, 4))
    "transformer.init_block": Case(lambda: dict(d=4, h=2, d_ff=6, seed=1), counts=("d", "h", "d_ff", "seed")),
    "transformer.split_heads": Case(lambda: dict(X=A(2, 3, 4), h=2), wrong={"X": (3, 4)}, counts=("h",)),
    "transformer.merge_heads": Case(lambda: dict(X_h=A(2, 2, 3, 2)), wrong={"X_h": (2, 3, 4)}),
    "transformer.gelu": Case(lambda: dict(x=A(2, 3)), any_shape=("x",)),
    "transformer.gelu_backward": Case(lambda: dict(dout=A(2, 3), x=A(2, 3)), wrong={"dout": (3, 2)},
                                      any_shape=("x",)),
    "transformer.multi_head_attention_forward": Case(
        lambda: dict(X=A(2, 3, 4) / 9, params=_block(), h=2, causal=True), wrong={"X": (3, 4)},
        objects=("params", "causal"), counts=("h",)),
    "transformer.multi_head_attention_backward": Case(
        lambda: dict(dout=A(2, 3, 4),
                     cache=tr.multi_head_attention_forward(A(2, 3, 4) / 9, _block(), h=2)[1]),
        wrong={"dout": (2, 4, 4)}, objects=("cache",)),
    "transformer.feed_forward": Case(lambda: dict(X=A(2, 3, 4) / 9, params=_block()), wrong={"X": (3, 4)},
                                     objects=("params",)),
    "transformer.feed_forward_backward": Case(
        lambda: dict(dout=A(2, 3, 4), cache=tr.feed_forward(A(2, 3, 4) / 9, _block())[1]),
        wrong={"dout": (2, 3, 5)}, objects=("cache",)),
    "transformer.block_forward": Case(
        lambda: dict(X=A(2, 3, 4) / 9, params=_block(), h=2, causal=True, checkpoint=False),
        wrong={"X": (3, 4)}, objects=("params", "causal", "checkpoint"), counts=("h",)),
    "transformer.block_backward": Case(
        lambda: dict(dout=A(2, 3, 4),
                     cache=tr.block_forward(A(2, 3, 4) / 9, _block(), h=2, checkpoint=True)[1]),
        wrong={"dout": (2, 3)}, objects=("cache",)),
    "transformer.saved_bytes": Case(lambda: dict(cache=tr.block_forward(A(2, 3, 4) / 9, _block(), h=2)[1]),
                                    objects=("cache",)),
    "transformer.activation_bytes": Case(lambda: dict(B=2, T=3, d=4, h=2, d_ff=6, checkpoint=False),
                                         counts=("B", "T", "d", "h", "d_ff"), objects=("checkpoint",)),
    "transformer.checkpoint_cost": Case(lambda: dict(B=1, T=3, d=4, h=2, n_blocks=2, seed=0, repeat=1),
                                        counts=("B", "T", "d", "h", "n_blocks", "seed", "repeat"),
                                        compare=False),
    # vectorized
    "vectorized.wx_norm_sq": Case(lambda: dict(W=A(2, 3), x=A(3)), wrong={"W": (2, 3, 1), "x": (4,)}),
    "vectorized.norm_sq_backward": Case(lambda: dict(dout=1.5, q=A(2)), wrong={"q": (2, 1)}, reals=("dout",)),
    "vectorized.wx_norm_sq_backward": Case(lambda: dict(dout=1.5, cache=wx_norm_sq(A(2, 3), A(3))[1]),
                                           reals=("dout",), objects=("cache",)),
    "vectorized.dq_dW": Case(lambda: dict(x=A(3), m=2), wrong={"x": (3, 1)}, counts=("m",)),
    "vectorized.numerical_jacobian": Case(lambda: dict(f=lambda v: v ** 2, x=A(3)), any_shape=("x",),
                                          objects=("f",)),
    "vectorized.relu_jacobian": Case(lambda: dict(x=A(3)), wrong={"x": (3, 1)}),
    "vectorized.relu_vjp": Case(lambda: dict(dout=A(3), x=A(3)), wrong={"dout": (4,), "x": (3, 1)}),
    "vectorized.jacobian_vs_vjp_cost": Case(lambda: dict(ns=[4, 8], rng=np.random.default_rng(0), repeat=1),
                                            objects=("ns", "rng"), counts=("repeat",), compare=False),
    # modes
    "modes.gradients_three_ways": Case(lambda: dict(n_hidden=3, rng=np.random.default_rng(0)),
                                       objects=("rng",), counts=("n_hidden",), compare=False),
    "modes.gradient_mode_cost": Case(lambda: dict(hidden_sizes=[2, 3], rng=np.random.default_rng(0),
                                                  repeat=1),
                                     objects=("hidden_sizes", "rng"), counts=("repeat",), compare=False),
    # transformer_autograd
    "transformer_autograd.block_forward_tensor": Case(
        lambda: dict(X=A(2, 3, 4) / 9, params=_block(), h=2, causal=True), wrong={"X": (3, 4)},
        objects=("params", "causal"), counts=("h",)),
    "transformer_autograd.block_gradients_autograd": Case(
        lambda: dict(X=A(2, 3, 4) / 9, params=_block(), dout=A(2, 3, 4), h=2, causal=True),
        wrong={"X": (3, 4), "dout": (2, 3, 5)}, objects=("params", "causal"), counts=("h",)),
}

# Whole modules or single functions that are not walked, with the reason.
EXEMPT = {
    "exercises": "the self-check exercises (backprop_lib/exercises) take a learner's functions, "
                 "not arrays; they have their own tests",
    "training": "descend takes the forward and backward of a public training function, which "
                "checks every argument before it calls descend",
}
# Arguments not checked, with the reason.
EXEMPT_ARGS = {
    ("activations.softmax", "axis"): "checked separately below (TypeError for a non-integer axis)",
}


def public_functions():
    found = {}
    for info in pkgutil.iter_modules(backprop_lib.__path__):
        if info.name.startswith("_") or info.name in EXEMPT:
            continue
        mod = importlib.import_module(f"backprop_lib.{info.name}")
        names = getattr(mod, "__all__", None) or [n for n in vars(mod) if not n.startswith("_")]
        for n in names:
            obj = getattr(mod, n)
            if inspect.isfunction(obj) and obj.__module__ == mod.__name__:
                found[f"{info.name}.{n}"] = obj
    return found


FUNCTIONS = public_functions()


def test_every_public_function_has_a_case():
    missing = sorted(set(FUNCTIONS) - set(CASES))
    assert not missing, f"public functions without a row in CASES (add one, or to EXEMPT): {missing}"
    stale = sorted(set(CASES) - set(FUNCTIONS))
    assert not stale, f"CASES rows for functions that no longer exist: {stale}"


def test_every_argument_of_every_case_is_classified():
    for key, case in CASES.items():
        kwargs = case.make()
        params = inspect.signature(FUNCTIONS[key]).parameters
        assert set(kwargs) <= set(params), key
        for name, value in kwargs.items():
            kinds = [name in case.wrong, name in case.any_shape, name in case.reals, name in case.counts,
                     name in case.objects, (key, name) in EXEMPT_ARGS]
            if isinstance(value, np.ndarray):
                assert kinds[0] or kinds[1] or kinds[5], (
                    f"{key}: array argument {name} needs a wrong shape, any_shape or an EXEMPT_ARGS reason")
            elif not isinstance(value, (str, list, tuple)) or name in case.objects:
                assert any(kinds), f"{key}: argument {name} is not classified"


def _names(msg: str, name: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", msg) is not None


def _same(x, y) -> bool:
    if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
        return np.shape(x) == np.shape(y) and np.allclose(x, y, rtol=1e-12, atol=0, equal_nan=True)
    if isinstance(x, dict):
        return isinstance(y, dict) and x.keys() == y.keys() and all(_same(x[k], y[k]) for k in x)
    if isinstance(x, (tuple, list)):
        return len(x) == len(y) and all(_same(a, b) for a, b in zip(x, y, strict=True))
    if dataclasses.is_dataclass(x):
        return _same(dataclasses.asdict(x), dataclasses.asdict(y))
    if isinstance(x, float):
        return np.isclose(x, y, rtol=1e-12, atol=0)
    if isinstance(x, (Node, Tensor)):
        return repr(x) == repr(y)
    return x == y


def _call(key, kwargs):
    import matplotlib.pyplot as plt

    try:
        return FUNCTIONS[key](**kwargs)
    finally:
        plt.close("all")


def _array_args(kwargs):
    return [n for n, v in kwargs.items() if isinstance(v, np.ndarray)]


KEYS = sorted(CASES)


@pytest.mark.parametrize("key", KEYS)
def test_valid_example_runs(key):
    _call(key, CASES[key].make())


@pytest.mark.parametrize("key", KEYS)
def test_wrong_shape_raises_value_error_naming_argument_and_shapes(key):
    case = CASES[key]
    for name, shape in case.wrong.items():
        kwargs = case.make()
        kwargs[name] = A(*shape)
        with pytest.raises(ValueError) as info:
            _call(key, kwargs)
        msg = str(info.value)
        assert _names(msg, name), f"{key}({name} of shape {shape}): message does not name {name}: {msg}"
        assert str(tuple(shape)) in msg, f"{key}: message does not give the shape {shape}: {msg}"
        assert "must" in msg and ("shape" in msg or "-D" in msg), f"{key}: no expected shape: {msg}"


@pytest.mark.parametrize("key", KEYS)
def test_lists_and_integer_arrays_are_accepted_as_float64(key):
    case = CASES[key]
    for name in _array_args(case.make()):
        kwargs = case.make()
        base = kwargs[name]
        as_list = _call(key, {**kwargs, name: base.tolist()})
        if case.compare:
            assert _same(as_list, _call(key, case.make())), f"{key}: list {name} gives another result"
        ints = np.round(base * 4).astype(np.int64)
        if name in ("A", "a", "alpha") and key.split(".")[-1] not in ("agreement",):
            ints = np.ones_like(ints)  # keep probabilities valid-looking; still an int array
        got = _call(key, {**case.make(), name: ints})
        if case.compare:
            want = _call(key, {**case.make(), name: ints.astype(np.float64)})
            assert _same(got, want), f"{key}: integer {name} is not treated as float64"


@pytest.mark.parametrize("key", KEYS)
def test_nan_and_infinity_are_rejected_or_documented_to_propagate(key):
    case = CASES[key]
    for name in _array_args(case.make()) + list(case.reals):
        if (key, name) in EXEMPT_ARGS:
            continue
        for bad in (np.nan, np.inf):
            kwargs = case.make()
            if isinstance(kwargs[name], np.ndarray):
                arr = kwargs[name].copy()
                arr.flat[-1] = bad
                kwargs[name] = arr
            else:
                kwargs[name] = bad
            if name in case.nan_propagates:
                _call(key, kwargs)
                assert "NaN" in (FUNCTIONS[key].__doc__ or ""), f"{key}: NaN propagation is not documented"
                continue
            with pytest.raises(ValueError) as info:
                _call(key, kwargs)
            assert _names(str(info.value), name), f"{key}({name}={bad}): {info.value}"


@pytest.mark.parametrize("key", KEYS)
def test_non_numeric_input_raises_type_error_naming_argument(key):
    case = CASES[key]
    names = _array_args(case.make()) + list(case.reals) + list(case.counts) + list(case.objects)
    for name in names:
        if (key, name) in EXEMPT_ARGS:
            continue
        bad_values = ["abc"]
        if isinstance(case.make()[name], np.ndarray):
            bad_values.append([["a", "b"]])
        for bad in bad_values:
            with pytest.raises(TypeError) as info:
                _call(key, {**case.make(), name: bad})
            assert _names(str(info.value), name), f"{key}({name}={bad!r}): {info.value}"


@pytest.mark.parametrize("key", [k for k in KEYS if CASES[k].counts])
def test_counts_must_be_whole_non_negative_numbers(key):
    case = CASES[key]
    for name in case.counts:
        for bad in (2.5, -1):
            with pytest.raises(ValueError) as info:
                _call(key, {**case.make(), name: bad})
            assert _names(str(info.value), name), f"{key}({name}={bad}): {info.value}"


def test_softmax_axis_must_be_an_integer_in_range():
    from backprop_lib.activations import softmax, softmax_vjp

    with pytest.raises(TypeError, match="axis"):
        softmax(A(3, 2), axis="rows")
    with pytest.raises(ValueError, match="axis"):
        softmax(A(3, 2), axis=2)
    with pytest.raises(ValueError, match="axis"):
        softmax_vjp(A(3, 2), P(3, 2), axis=-3)


def test_nested_arrays_are_named_too():
    """Arrays inside dicts (network params, gradcheck inputs) are named by their key."""
    from backprop_lib import check_gradient

    p = nw.example()["params"]
    with pytest.raises(ValueError, match=r"W2 must have shape \(any, 4\), got \(2, 3\)"):
        nw.forward(A(3), {**p, "W2": A(2, 3)})
    with pytest.raises(ValueError, match="W1 contains NaN"):
        nw.forward(A(3), {**p, "W1": np.full((4, 3), np.nan)})
    with pytest.raises(ValueError, match=r"analytic\['x'\] has shape \(2,\) but x has shape \(3,\)"):
        check_gradient(F, {"x": A(3)}, {"x": A(2)})
