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
        if cell.cell_type == "code":
            cell.outputs = _merge_streams(cell.outputs)
    nb.metadata.pop("widgets", None) if not _has_widgets(nb) else None
    nbformat.write(nb, path)
    print(f"refreshed {path}")


def _merge_streams(outputs: list) -> list:
    """Join consecutive stdout (or stderr) chunks: how a kernel splits a print into messages
    depends on timing, and the stored file should not."""
    merged = []
    for out in outputs:
        prev = merged[-1] if merged else None
        if (out.get("output_type") == "stream" and prev is not None
                and prev.get("output_type") == "stream" and prev.get("name") == out.get("name")):
            prev["text"] = "".join(prev["text"]) + "".join(out["text"])
        else:
            merged.append(out)
    return merged


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
