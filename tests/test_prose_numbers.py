"""The text can never drift from the code: every decimal in the prose was computed."""

import json

import pytest
from conftest import CHAPTERS
from prose_numbers import check_notebook


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_every_prose_number_is_computed(path):
    misses = check_notebook(path)
    assert not misses, (
        f"{path.name}: {len(misses)} number(s) in the prose were not computed by the notebook "
        "(fix the prose, refresh outputs with `make outputs`, or mark an input with "
        "'% exempt-numbers: ...'):\n  " + "\n  ".join(map(str, misses))
    )


def _nb(tmp_path, markdown, outputs):
    nb = {"cells": [
        {"cell_type": "markdown", "metadata": {}, "source": markdown},
        {"cell_type": "code", "metadata": {}, "source": "", "execution_count": 1,
         "outputs": [{"output_type": "stream", "name": "stdout", "text": outputs}]},
    ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    p = tmp_path / "nb.ipynb"
    p.write_text(json.dumps(nb))
    return p


def test_checker_accepts_rounded_matches(tmp_path):
    p = _nb(tmp_path, "The output is $0.73$ and the gradient $-0.20$, i.e. -0.196612.",
            "out 0.731059 grad -0.196612\n")
    assert check_notebook(p) == []


def test_checker_reports_a_drifted_number_with_its_cell_and_the_nearest_value(tmp_path):
    p = _nb(tmp_path, "Intro.\n\nThe loss is 0.2345 after one step.", "loss 0.234375\n")
    misses = check_notebook(p)
    assert len(misses) == 1
    msg = str(misses[0])
    assert "markdown cell 0" in msg and "'0.2345'" in msg and "nearest computed 0.234375" in msg


def test_checker_is_sign_sensitive_but_knows_binary_minus(tmp_path):
    assert check_notebook(_nb(tmp_path, "gradient -0.53", "0.534447\n"))
    assert check_notebook(_nb(tmp_path, "$(1 - 0.73)$", "0.731059\n")) == []


def test_checker_ignores_sections_versions_code_and_exempted_inputs(tmp_path):
    md = ("## 1.2 Title\nsee section 3.4, torch 2.13.0, `lr=0.5`.\n"
          "% exempt-numbers: 0.1 -0.3\nW = [[0.1, -0.3]]")
    assert check_notebook(_nb(tmp_path, md, "nothing\n")) == []
    assert check_notebook(_nb(tmp_path, md + " and 0.8", "nothing\n"))


def test_checker_reads_exponents_in_the_prose(tmp_path):
    assert check_notebook(_nb(tmp_path, "the ratio is 2.50e-18 here", "ratio 2.50e-18\n")) == []
    assert check_notebook(_nb(tmp_path, "the ratio is 2.50e-18 here", "ratio 2.5046e-18\n")) == []
    assert check_notebook(_nb(tmp_path, "the ratio is 2.50e-18 here", "ratio 2.60e-18\n"))
    assert check_notebook(_nb(tmp_path, "the ratio is 2.50e-18 here", "ratio 2.50\n"))  # not the mantissa
