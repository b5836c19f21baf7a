"""One topological order for both engines (scalar Node of Chapter 1, tensor graph of Chapter 5)."""

from __future__ import annotations


def depth_first_order(root, children) -> list:
    """Every node reachable from ``root`` through ``children(node)``, each after all of its
    children (root last); backward runs the reverse of this list."""
    order, seen, stack = [], set(), [(root, False)]
    while stack:  # iterative DFS: deep graphs must not hit the recursion limit
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((c, False) for c in reversed(children(node)) if id(c) not in seen)
    return order
