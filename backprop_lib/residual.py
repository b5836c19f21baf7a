"""A residual connection  o = x + F(x)  around any block F with a forward/backward pair.

    do/dx = I + dF/dx,  so  dx = do + (dF/dx)^T do = do + (the block's own dx)

The identity adds 1 to every diagonal entry of the local Jacobian: even where the block's
gradient vanishes, do reaches x unchanged. F must keep the shape of x.

Derived in: chapters/08_deep_networks.ipynb
"""

from __future__ import annotations

import numpy as np

from ._validate import as_float_array

__all__ = ["residual_forward", "residual_backward"]


def residual_forward(x, block_forward, *args, **kwargs):
    """o = x + F(x), with block_forward(x, *args, **kwargs) -> (F(x), block_cache); any shape of x.

    Returns (o, cache); F(x) must have the shape of x.
    """
    x = as_float_array(x, "x")
    if not callable(block_forward):
        raise TypeError(f"block_forward must be a function (x, ...) -> (F(x), cache), "
                        f"got {type(block_forward).__name__}")
    fx, block_cache = block_forward(x, *args, **kwargs)
    fx = np.asarray(fx, dtype=np.float64)
    if fx.shape != x.shape:
        raise ValueError(f"block_forward must return F(x) with the shape of x {x.shape}, got {fx.shape}")
    return x + fx, (x.shape, block_cache)


def residual_backward(dout, cache, block_backward):
    """dx = dout + (the block's dx); block_backward(dout, block_cache) -> (dx_block, *param_grads).

    Returns (dx, param_grads) with param_grads the tuple of the block's other gradients.
    """
    if not (isinstance(cache, tuple) and len(cache) == 2 and isinstance(cache[0], tuple)):
        raise TypeError(f"cache must be the cache returned by residual_forward, got {type(cache).__name__}")
    if not callable(block_backward):
        raise TypeError(f"block_backward must be a function (dout, cache) -> (dx, ...), "
                        f"got {type(block_backward).__name__}")
    shape, block_cache = cache
    dout = as_float_array(dout, "dout")
    if dout.shape != shape:
        raise ValueError(f"dout must have the shape of x {shape}, got {dout.shape}")
    dx_block, *param_grads = block_backward(dout, block_cache)
    return dout + dx_block, tuple(param_grads)
