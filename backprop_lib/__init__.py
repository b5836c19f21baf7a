"""backprop_lib: the companion library of the course 'Backpropagation, taught with executable
chapters'. Every function implements a derivation made in one of the chapters; its docstring
says which.
"""

from .draw import LiveGraph, draw_graph, graph_layout
from .engine import Node, topological_order
from .gradcheck import GradCheckReport, check_gradient, numerical_gradient, relative_error
from .live import LiveFigure

__all__ = [
    "Node",
    "topological_order",
    "draw_graph",
    "graph_layout",
    "LiveGraph",
    "LiveFigure",
    "check_gradient",
    "numerical_gradient",
    "relative_error",
    "GradCheckReport",
]
__version__ = "0.1.0"
