"""backprop_lib: the companion library of the course 'Backpropagation, taught with executable
chapters'. Every function implements a derivation made in one of the chapters; its docstring
says which.

The drawing helpers (matplotlib) load on first use, so ``import backprop_lib.engine`` stays
light: ``bp.draw_graph`` imports backprop_lib.draw when it is first looked up.
"""

from .engine import Node, topological_order
from .gradcheck import GradCheckReport, check_gradient, numerical_gradient, relative_error

_LAZY = {"draw_graph": "draw", "graph_layout": "draw", "LiveGraph": "draw", "LiveFigure": "live"}

__all__ = ["Node", "topological_order", "draw_graph", "graph_layout", "LiveGraph", "LiveFigure",
           "check_gradient", "numerical_gradient", "relative_error", "GradCheckReport"]
__version__ = "0.1.0"


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
