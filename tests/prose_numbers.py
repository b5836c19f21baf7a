"""Check that every decimal number written in a chapter's prose was computed by the chapter.

A number in a markdown cell passes when some stored output of the same notebook, rounded to the
number of decimals the prose uses, equals it (sign included, unless the minus sign is a binary
minus as in "1 - 0.73"). Numbers that are inputs or definitions can be exempted per cell with a
MyST comment line (invisible on the site):

    % exempt-numbers: 0.1 0.5 -0.3

Section numbers ("section 1.3", "## 1.2 Title") and version strings (2.13.0) are not numbers.
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
    re.compile(r"(?i)\b(?:sections?|chapters?|§|figure|table|equation|step|version)\s+\d+(?:\.\d+)+"),
    re.compile(r"\d+\.\d+\.\d+(?:\.\d+)*"),  # version strings
    re.compile(r"\]\([^)]*\)"),  # link targets
    re.compile(r"`[^`]*`"),  # inline code: names, not claims
    re.compile(r"^%.*$", re.M),  # MyST comments (including the exemption line itself)
]
EXEMPT = re.compile(r"^%\s*exempt-numbers:(.*)$", re.M)


@dataclass
class Miss:
    cell: int
    text: str
    context: str
    nearest: float | None

    def __str__(self) -> str:
        near = "no computed numbers" if self.nearest is None else f"nearest computed {self.nearest:g}"
        return f"markdown cell {self.cell}: {self.text!r} in \"...{self.context}...\" ({near})"


def _float(s: str) -> float:
    return float(s.replace(MINUS, "-"))


def output_numbers(nb: dict) -> list[float]:
    """Every number printed in the stored outputs (text, streams, HTML, LaTeX, markdown)."""
    values = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
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
        ctx = source[max(0, m.start() - 30): m.end() + 10].replace("\n", " ")
        mantissa, _, exponent = num.partition("e")
        yield sign + num, value, (len(mantissa.split(".")[1]), int(exponent or 0)), binary, ctx


def matches(value: float, decimals, computed: list[float]) -> bool:
    """``decimals``: the digits after the point, or (digits, exponent) for 2.50e-18."""
    digits, exponent = decimals if isinstance(decimals, tuple) else (decimals, 0)
    tol = 0.5 * 10.0 ** (exponent - digits) + (1e-12 if exponent == 0 else 0.0)
    return any(abs(v - value) <= tol for v in computed)


def check_notebook(path: str | Path) -> list[Miss]:
    """Return every prose number of the notebook that no stored output accounts for."""
    nb = json.loads(Path(path).read_text())
    computed = output_numbers(nb)
    misses = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        for text, value, decimals, binary, ctx in prose_numbers(source):
            ok = matches(value, decimals, computed) or (binary and matches(-value, decimals, computed))
            if not ok:
                nearest = min(computed, key=lambda v: abs(v - value)) if computed else None
                misses.append(Miss(i, text, ctx, nearest))
    return misses
