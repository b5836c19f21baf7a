"""Check that every decimal number written in a chapter's prose was computed next to it.

A number in a markdown cell passes when a stored output of a code cell in its *scope*, rounded
to the number of decimals the prose uses, equals it (sign included, unless the minus sign is a
binary minus as in "1 - 0.73"). The scope of a markdown cell is its section (the cells from the
heading above it, or its own heading, to the next heading of any level; a cell with text above
its heading also belongs to the section before) plus the nearest code cell before it and the
nearest code cell after it, so that a paragraph may recap the cell just above or announce the
cell just below. An output anywhere else in the notebook does not count: with the whole
notebook as the scope, a drifted number often matched some unrelated output
(tools/prose_false_pass.py measures how often). Numbers that are inputs or definitions can be
exempted per cell with a MyST comment line (invisible on the site):

    % exempt-numbers: 0.1 0.5 -0.3

Section numbers ("section 1.3", "sections 6.2 and 6.3", "## 1.2 Title") and version strings
(2.13.0) are not numbers.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

MINUS = "\u2212"
PROSE_NUMBER = re.compile(
    r"(?<![\w.\\^_])(?P<sign>[-\u2212])?(?P<num>\d+\.\d+(?:e[-+]\d+)?)(?![\d.]*\d)(?!\.\d)"
)  # an exponent (2.50e-18) is part of the number: it is compared to its own digits
OUTPUT_NUMBER = re.compile(r"[-\u2212]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
NOT_NUMBERS = [
    re.compile(r"^\s*#+\s+[\d.]+", re.M),  # numbered headings
    re.compile(r"(?i)\b(?:sections?|chapters?|§|figures?|tables?|equations?|steps?|versions?)\s+"
               r"\d+(?:\.\d+)+(?:(?:\s*,\s*|\s+and\s+|\s+or\s+|\s*[-\u2013]\s*)\d+(?:\.\d+)+)*"),
    re.compile(r"\d+\.\d+\.\d+(?:\.\d+)*"),  # version strings
    re.compile(r"\]\([^)]*\)"),  # link targets
    re.compile(r"`[^`]*`"),  # inline code: names, not claims
    re.compile(r"^%.*$", re.M),  # MyST comments (including the exemption line itself)
]
EXEMPT = re.compile(r"^%\s*exempt-numbers:(.*)$", re.M)
HEADING = re.compile(r"^#{1,6}\s", re.M)
FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)  # code blocks: a "# comment" is no heading


@dataclass
class Miss:
    cell: int
    text: str
    context: str
    nearest: float | None  # the nearest number computed in the cell's scope
    elsewhere: int | None = None  # a code cell outside the scope whose output matches

    def __str__(self) -> str:
        near = ("no computed numbers nearby" if self.nearest is None
                else f"nearest computed nearby {self.nearest:g}")
        if self.elsewhere is not None:
            near += (f"; code cell {self.elsewhere}, outside the section, prints it: print it "
                     f"here or say it where it is computed")
        return f"markdown cell {self.cell}: {self.text!r} in \"...{self.context}...\" ({near})"


def _float(s: str) -> float:
    return float(s.replace(MINUS, "-"))


def _source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def output_numbers(nb: dict) -> list[float]:
    """Every number printed in the stored outputs (text, streams, HTML, LaTeX, markdown)."""
    return [v for cell in nb["cells"] for v in cell_output_numbers(cell)]


def cell_output_numbers(cell: dict) -> list[float]:
    """Every number printed in the stored outputs of one cell (none for a markdown cell)."""
    values = []
    if cell["cell_type"] == "code":
        for out in cell.get("outputs", []):
            texts = []
            if out.get("output_type") == "stream":
                texts.append(out.get("text", ""))
            for mime in ("text/plain", "text/html", "text/latex", "text/markdown"):
                if mime in out.get("data", {}):
                    texts.append(out["data"][mime])
            for t in texts:
                t = "".join(t) if isinstance(t, list) else t
                values += [_float(m) for m in OUTPUT_NUMBER.findall(t)]
    return values


def sections(nb: dict) -> list[int]:
    """For each cell, the index of the cell holding the heading of its section (0 before any)."""
    starts, current = [], 0
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "markdown" and HEADING.search(FENCE.sub("", _source(cell))):
            current = i
        starts.append(current)
    return starts


def scope(nb: dict, i: int, starts: list[int] | None = None) -> list[int]:
    """The code cells whose outputs may account for a number in markdown cell i: those of its
    section and the nearest code cell on either side of it."""
    starts = sections(nb) if starts is None else starts
    own = {starts[i]}
    text = FENCE.sub("", _source(nb["cells"][i]))
    first = HEADING.search(text)
    if first and i > 0 and text[: first.start()].strip():  # text above its heading: the section before
        own.add(starts[i - 1])
    code = [j for j, c in enumerate(nb["cells"]) if c["cell_type"] == "code"]
    before = [j for j in code if j < i][-1:]
    after = [j for j in code if j > i][:1]
    return sorted({j for j in code if starts[j] in own} | set(before) | set(after))


def prose_numbers(source: str):
    """Yield (text, value, decimals, binary_minus, context) for each decimal number in markdown."""
    exempt = {_float(tok) for line in EXEMPT.findall(source) for tok in line.split()}
    cleaned = source
    for pat in NOT_NUMBERS:
        cleaned = pat.sub(lambda m: " " * len(m.group(0)), cleaned)
    for m in PROSE_NUMBER.finditer(cleaned):
        sign, num = m.group("sign") or "", m.group("num")
        value = _float(sign + num)
        if value in exempt or abs(value) in exempt:
            continue
        before = cleaned[: m.start()].rstrip()
        # "1 - 0.73", "(a) - 0.5", "x - 0.2" subtract; "gradient -0.53", "= -0.2" are negative
        last_word = re.search(r"(\w+)$", before)
        binary = bool(sign) and bool(before) and (
            before[-1].isdigit() or before[-1] in ")}]" or bool(last_word and len(last_word.group(1)) == 1)
        )
        # "0.2 - 0.15": an unsigned number after a spaced minus is the size of a negative term
        binary = binary or (not sign and before.endswith(("-", MINUS)))
        ctx = source[max(0, m.start() - 30): m.end() + 10].replace("\n", " ")
        mantissa, _, exponent = num.partition("e")
        yield sign + num, value, (len(mantissa.split(".")[1]), int(exponent or 0)), binary, ctx


def matches(value: float, decimals, computed: list[float]) -> bool:
    """``decimals``: the digits after the point, or (digits, exponent) for 2.50e-18."""
    digits, exponent = decimals if isinstance(decimals, tuple) else (decimals, 0)
    tol = 0.5 * 10.0 ** (exponent - digits) + (1e-12 if exponent == 0 else 0.0)
    return any(abs(v - value) <= tol for v in computed)


def accounts_for(value: float, decimals: int, binary: bool, computed: list[float]) -> bool:
    """Whether some computed number, rounded to ``decimals``, is the prose's number."""
    return matches(value, decimals, computed) or (binary and matches(-value, decimals, computed))


def check_notebook(path: str | Path) -> list[Miss]:
    """Return every prose number of the notebook that no stored output in its scope accounts for."""
    nb = json.loads(Path(path).read_text())
    cells, starts = nb["cells"], sections(nb)
    misses = []
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "markdown":
            continue
        computed = [v for j in scope(nb, i, starts) for v in cell_output_numbers(cells[j])]
        for text, value, decimals, binary, ctx in prose_numbers(_source(cell)):
            if accounts_for(value, decimals, binary, computed):
                continue
            nearest = min(computed, key=lambda v: abs(v - value)) if computed else None
            elsewhere = min((j for j, c in enumerate(cells)
                             if accounts_for(value, decimals, binary, cell_output_numbers(c))),
                            key=lambda j: abs(j - i), default=None)
            misses.append(Miss(i, text, ctx, nearest, elsewhere))
    return misses
