"""How often would the prose-number check (tests/prose_numbers.py) miss a drifted number?

For every chapter, two kinds of drift are planted in the markdown cells that state numbers,
and each is counted as a false pass when the check would still accept it:

* drift: every number the check reads, moved by +-1 and +-2 in its last printed digit
  (0.73 -> 0.71, 0.72, 0.74, 0.75);
* planted: every 1-decimal number in [-3, 3] (-3.0, -2.9, ..., 3.0) written in each of those
  cells (a value the cell already states or exempts is left out).

A drift onto a value the cell exempts counts as a false pass (the check skips it).

Two rules are compared: "notebook" (any stored output of the notebook may match: the rule
before issue 18) and "scope" (the cell's section and the nearest code cell on either side:
the rule of tests/prose_numbers.py). Usage:

    .venv/bin/python tools/prose_false_pass.py [chapters/NN_name.ipynb ...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from prose_numbers import (  # noqa: E402  (tests/ is not a package)
    EXEMPT,
    _float,
    _source,
    accounts_for,
    cell_output_numbers,
    prose_numbers,
    scope,
    sections,
)

DRIFTS = (-2, -1, 1, 2)
PLANTED = [k / 10 for k in range(-30, 31)]


def rates(path: Path) -> dict[str, tuple[int, int]]:
    """{"drift notebook": (false passes, trials), ...} for one chapter."""
    nb = json.loads(path.read_text())
    cells, starts = nb["cells"], sections(nb)
    everything = [v for c in cells for v in cell_output_numbers(c)]
    counts = {f"{kind} {rule}": [0, 0] for kind in ("drift", "planted") for rule in ("notebook", "scope")}
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "markdown":
            continue
        source = _source(cell)
        stated = list(prose_numbers(source))
        if not stated:
            continue
        near = [v for j in scope(nb, i, starts) for v in cell_output_numbers(cells[j])]
        computed = {"notebook": everything, "scope": near}
        exempt = {abs(_float(t)) for line in EXEMPT.findall(source) for t in line.split()}
        trials = [("drift", value + d * 10.0**-decimals, decimals, binary)
                  for _, value, decimals, binary, _ in stated for d in DRIFTS]
        said = {round(v, 1) for _, v, *_ in stated} | exempt
        trials += [("planted", v, 1, False) for v in PLANTED if v not in said and abs(v) not in exempt]
        for kind, value, decimals, binary in trials:
            for rule, numbers in computed.items():
                c = counts[f"{kind} {rule}"]
                c[0] += abs(value) in exempt or accounts_for(value, decimals, binary, numbers)
                c[1] += 1
    return {k: (a, b) for k, (a, b) in counts.items()}


def main(paths: list[str]) -> None:
    paths = [Path(p) for p in paths] or sorted((ROOT / "chapters").glob("*.ipynb"))
    cols = ["drift notebook", "drift scope", "planted notebook", "planted scope"]
    print("| chapter | " + " | ".join(cols) + " |")
    print("|---|" + "---:|" * len(cols))
    for path in paths:
        r = rates(path)
        cells = [f"{100 * a / b:.0f} % ({a}/{b})" if b else "-" for a, b in (r[c] for c in cols)]
        print(f"| {path.stem} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
