"""The course stands on its own: each section's main text mentions the source documents at most
once (issue 14). Mentions inside collapsed blocks (dropdowns, "About the source notes") and on
the errata page do not count; neither does code."""

import json
import re

import pytest
from common import CHAPTERS

LIMIT = 1
NOT_YET: set[str] = set()  # every chapter reads without the sources (issue 14)

# What names the course's source documents: the notes, the slides, the lecture, "the source(s)",
# a seed document by its number ("003 §3.2").
MENTION = re.compile(
    r"\bthe\s+(?:[\w-]+\s+)?notes\b|\b(?:these|source|lecture|original)\s+notes\b|\bnotes'"
    r"|\bslides?\b|\blectures?\b"
    r"|\bthe\s+sources?\b(?!\s+(?:code|of)\b)|\bsources?(?:'s?|\s+(?:notes|slides|documents?|programs?|text))\b"
    r"|\bsource's\b"
    r"|\b00[0-3]\b(?=\s*(?:§|\"|“|'|,|\s+§))|\bseed\s+documents?\b",
    re.IGNORECASE,
)
FENCE = re.compile(r"^\s*(`{3,}|:{3,})\s*(\{[\w-]+\})?(.*)$")
HEADING = re.compile(r"^(#{1,6})\s+(.*)")


def main_text_sections(nb: dict) -> list[tuple[str, str]]:
    """(heading, main text) per section: markdown outside code, dropdowns and MyST comments."""
    sections = [("(top)", [])]
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        lines = "".join(cell["source"]).splitlines()
        stack = []  # open fences: (fence, hidden)
        i = 0
        while i < len(lines):
            line = lines[i]
            m = FENCE.match(line)
            if m and stack and m.group(2) is None and not m.group(3).strip() \
                    and m.group(1)[0] == stack[-1][0][0] and len(m.group(1)) >= len(stack[-1][0]):
                stack.pop()
                i += 1
                continue
            if m and (m.group(2) or m.group(1)[0] == "`"):
                directive = (m.group(2) or "").strip("{}")
                options = []
                j = i + 1
                while j < len(lines) and lines[j].lstrip().startswith(":") and not FENCE.match(lines[j]):
                    options.append(lines[j])
                    j += 1
                collapsed = directive in {"dropdown", "toggle"} or any(
                    re.match(r"\s*:class:.*\bdropdown\b", o) for o in options)
                code = m.group(1)[0] == "`" and not m.group(2)
                hidden = collapsed or code or bool(stack and stack[-1][1])
                if not hidden:  # a visible admonition's title is main text
                    sections[-1][1].append(m.group(3))
                stack.append((m.group(1), hidden))
                i = j
                continue
            hidden = bool(stack and stack[-1][1])
            h = HEADING.match(line)
            if h and not stack:
                sections.append((h.group(2).strip(), []))
            elif not hidden and not line.lstrip().startswith("%"):
                sections[-1][1].append(line)
            i += 1
    return [(title, "\n".join(body)) for title, body in sections]


def mentions(text: str) -> list[str]:
    return [m.group(0) for m in MENTION.finditer(text)]


def over_limit(path) -> list[str]:
    nb = json.loads(path.read_text())
    return [f"{title!r}: {len(found)} mentions {found}"
            for title, found in ((t, mentions(body)) for t, body in main_text_sections(nb))
            if len(found) > LIMIT]


def test_the_counter_sees_mentions_and_skips_dropdowns():
    nb = {"cells": [{"cell_type": "markdown", "source": [
        "## A\nThe notes write it so; the slides too.\n"
        ":::{admonition} About the source notes\n:class: dropdown\nThe notes, the slides.\n:::\n"
        ":::{dropdown} Solution\nthe lecture\n:::\n"
        "## B\nthe source notes' example\n"
        ":::{admonition} Erratum in the slides\n:class: warning\nsee above\n:::\n"
        "## C\nThe attention notes and the lecture's example, on 003 §3.2.\n"]}]}
    counts = {t: len(mentions(b)) for t, b in main_text_sections(nb)}
    assert counts == {"(top)": 0, "A": 2, "B": 2, "C": 3}


@pytest.mark.parametrize("path", [
    pytest.param(p, marks=pytest.mark.xfail(strict=True, reason="issue 14: not yet rewritten"))
    if p.stem in NOT_YET else p for p in CHAPTERS], ids=[p.stem for p in CHAPTERS])
def test_each_section_mentions_the_sources_at_most_once(path):
    bad = over_limit(path)
    assert not bad, f"{path.name}: sections citing the sources more than {LIMIT}x:\n" + "\n".join(bad)
