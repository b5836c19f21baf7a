"""The test machinery itself: the portable-output check, the test build's lifetime, make lab."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest
from common import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import portable_check  # noqa: E402


def test_levels_above_baseline_are_the_dispatch_targets_the_cpu_has():
    info = {"baseline": ["X86_V2"], "dispatch": ["X86_V3", "X86_V4", "AVX512_ICL", "AVX512_SPR"],
            "features": {"X86_V2": True, "X86_V3": True, "X86_V4": True, "AVX512_ICL": False,
                         "AVX512_SPR": False}}
    assert portable_check.levels_above_baseline(info) == ["X86_V3", "X86_V4"]
    info["features"] = {"X86_V2": True}
    assert portable_check.levels_above_baseline(info) == []


def test_the_portable_environment_switches_those_kernels_off():
    levels = portable_check.levels_above_baseline(portable_check.probe())
    if not levels:
        pytest.skip("this CPU has no numpy dispatch level above the baseline")
    off = portable_check.probe(portable_check.portable_env(levels))
    assert not any(off["features"][name] for name in levels), off["features"]
    assert portable_check.portable_env(levels)["OPENBLAS_NUM_THREADS"] == "1"


def _build_processes(root: psutil.Process) -> list[psutil.Process]:
    return [p for p in root.children(recursive=True)
            if any("book_build.py" in part or "jupyter-book" in part for part in _cmdline(p))]


def _cmdline(p: psutil.Process) -> list[str]:
    try:
        return p.cmdline()
    except psutil.Error:
        return []


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill-9"])
def test_an_interrupted_run_leaves_no_book_build_behind(tmp_path, how):
    """A full `pytest` run starts the book build in the background; interrupt the run while the
    build is going (Ctrl-C, or SIGKILL that no cleanup code sees) and check that every build
    process is gone shortly after."""
    # the run holds for up to 60 s right after starting its build (tests/conftest.py), so the
    # signal always lands at the same point, however loaded the machine is
    env = {**os.environ, "BACKPROP_TEST_SITE": str(tmp_path / "site"), "CI": "",
           "BACKPROP_TEST_HOLD_AFTER_BUILD_START": "60"}
    for var in ("BACKPROP_TEST_RUN", "BACKPROP_PREBUILT_HTML", "PYTEST_XDIST_WORKER"):
        env.pop(var, None)
    run = subprocess.Popen([sys.executable, "-m", "pytest", "-n", "0", "-q", "-p", "no:cacheprovider"],
                           cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        parent = psutil.Process(run.pid)
        deadline, seen = time.monotonic() + 60, []
        while time.monotonic() < deadline and run.poll() is None:
            seen = _build_processes(parent)
            if any("jupyter-book" in " ".join(_cmdline(p)) for p in seen):
                break
            time.sleep(0.05)
        assert any("jupyter-book" in " ".join(_cmdline(p)) for p in seen), (
            "the run never started its background book build")
        run.send_signal(how)
        run.wait(timeout=60)
        # a build left running would go on for 10 s or more (a fresh site); ours stop within ~1 s
        gone, alive = psutil.wait_procs(seen, timeout=4)
        assert not alive, f"book build processes outlived the run: {[_cmdline(p) for p in alive]}"
    finally:
        if run.poll() is None:
            run.kill()


def test_make_lab_passes_allow_root_exactly_when_run_as_root():
    out = subprocess.run(["make", "-n", "lab"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    line = next(ln for ln in out.splitlines() if "jupyter lab" in ln)
    assert ("--allow-root" in line) == (os.geteuid() == 0), line


def test_make_book_refuses_to_run_beside_another_book_build():
    """tools/build_book.py holds _build/.book.lock; a second build says so and stops."""
    sys.path.insert(0, str(ROOT / "tools"))
    import build_book

    build_book.LOCK.parent.mkdir(exist_ok=True)
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, sys, time; f = open(sys.argv[1], 'a+'); fcntl.flock(f, fcntl.LOCK_EX); "
        "f.write('4242'); f.flush(); print('locked', flush=True); time.sleep(30)"),
        str(build_book.LOCK)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        second = subprocess.run([sys.executable, str(ROOT / "tools" / "build_book.py")],
                                cwd=ROOT, capture_output=True, text=True, timeout=30)
        assert second.returncode == 1
        assert "another book build is writing _build/html" in second.stderr, second.stderr
    finally:
        holder.kill()
        holder.wait()



def test_the_intro_page_links_the_pdf_only_when_it_exists(tmp_path):
    """_ext/site_fixes.py: the link appears after the intro's title once make pdf has run."""
    sys.path.insert(0, str(ROOT / "_ext"))
    import site_fixes

    class App:
        srcdir = str(tmp_path)

    body = '<section><h1>Backpropagation<a class="headerlink" href="#">#</a></h1><p>text</p>'
    context = {"body": body}
    site_fixes._link_the_pdf(App, "intro", "page.html", context, None)
    assert context["body"] == body, "linked a PDF that does not exist"
    pdf = tmp_path / "_build" / "pdf" / site_fixes.PDF_NAME
    pdf.parent.mkdir(parents=True)
    pdf.write_bytes(b"%PDF-1.7 " + b"x" * 2_400_000)
    site_fixes._link_the_pdf(App, "notation", "page.html", context, None)
    assert context["body"] == body, "linked the PDF from another page than the intro"
    site_fixes._link_the_pdf(App, "intro", "page.html", context, None)
    link = f'<p class="pdf-download"><a href="{site_fixes.PDF_NAME}" download>'
    assert context["body"].startswith(body.split("<p>")[0] + link), context["body"]
    assert "(2.4 MB, built " in context["body"]
