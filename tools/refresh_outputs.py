"""Re-execute chapters in place so their stored outputs match the library (`make outputs`).

Runs each notebook with chapters/ as working directory (as the book build does), stores the
widget state (so the default view of a widget shows on GitHub, Colab and the site), and drops
timing metadata so that re-running an unchanged chapter gives an identical file.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def refresh(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", record_timing=False,
                            store_widget_state=True,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nb.metadata.pop("widgets", None) if not _has_widgets(nb) else None
    nbformat.write(nb, path)
    print(f"refreshed {path}")


def _has_widgets(nb) -> bool:
    return any(
        o.get("output_type") == "display_data"
        and "application/vnd.jupyter.widget-view+json" in o.get("data", {})
        for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
    )


if __name__ == "__main__":
    paths = [Path(p) for p in sys.argv[1:]]
    if not paths:
        sys.exit("usage: refresh_outputs.py NOTEBOOK...")
    for p in paths:
        refresh(p)
