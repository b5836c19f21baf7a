# Two commands do all the set-up on a fresh machine that has only python3:
#   make book   -> builds the website into _build/html
#   make test   -> ruff + pytest (library tests, nbval over the chapters, the book build)
# Both create .venv and install requirements.txt when it is missing or changed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JB_FLAGS := -W -n --keep-going

.PHONY: help venv book pdf test test-portable test-pdf outputs lab bench sync-url clean

help:
	@echo "make book      build the website into _build/html"
	@echo "make pdf       the whole course as one PDF: _build/pdf/backprop-course.pdf"
	@echo "make test      ruff, library tests, nbval (strict) over chapters/, book build"
	@echo "make test-portable  nbval over chapters/ again with numpy's baseline CPU kernels"
	@echo "make test-pdf  build the PDF from the test site and check it"
	@echo "make outputs   re-execute the chapters in place (refresh stored outputs)"
	@echo "make lab       open the chapters in JupyterLab (http://localhost:8888/lab)"
	@echo "make bench     run the benchmark (not part of make test)"
	@echo "make sync-url  copy repository.url from _config.yml into the Colab install cells"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install only when requirements.txt or pyproject.toml changed since the last install.
$(STAMP): requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $(STAMP)

venv: $(STAMP)

# MathJax (and axe-core for the browser tests) from the npm registry (no CDN at view time).
ASSETS := _vendor/.versions
$(ASSETS): tools/fetch_assets.py | $(STAMP)
	$(BIN)/python tools/fetch_assets.py

# tools/build_book.py: one `make book` at a time (a lock, and a clear message if one runs).
book: $(STAMP) $(ASSETS)
	$(BIN)/python tools/build_book.py $(JB_FLAGS)
	@echo
	@echo "Built. Open file://$(CURDIR)/_build/html/index.html"
	@echo "(or serve it: $(BIN)/python -m http.server -d _build/html 8000)"

# Printed from the built site by Debian's chromium (tools/make_pdf.py); then `make book` again,
# which copies the PDF into the site and links it from the intro page (only that page is rebuilt).
pdf: book
	@$(BIN)/python -c "import pypdf, playwright" 2>/dev/null || $(BIN)/python -m pip install --quiet "pypdf>=5" "playwright>=1.42"
	$(BIN)/python tools/make_pdf.py
	$(BIN)/python tools/build_book.py $(JB_FLAGS)

# pytest runs one worker per core (-n auto), so each worker's BLAS gets one thread: with more
# threads than cores OpenBLAS spins, and a small matrix product took 20 ms instead of 0.24 ms.
test: $(STAMP) $(ASSETS)
	$(BIN)/ruff check backprop_lib tests tools _ext
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m pytest

# The stored outputs once more, with numpy's kernels above its baseline switched off: proves
# they do not depend on this CPU (tools/portable_check.py). .ci/run runs it after `make test`.
test-portable: $(STAMP)
	$(BIN)/python tools/portable_check.py

# The PDF test prints the whole site (about a minute), so it is not part of `make test`; .ci/run
# runs it.
test-pdf: $(STAMP) $(ASSETS)
	BACKPROP_TEST_PDF=1 $(BIN)/python -m pytest tests/test_pdf.py -n 0

outputs: $(STAMP)
	$(BIN)/python tools/refresh_outputs.py chapters/*.ipynb

lab: $(STAMP)
	@$(BIN)/python -c "import jupyterlab" 2>/dev/null || $(BIN)/python -m pip install --quiet jupyterlab
	$(BIN)/jupyter lab chapters/ $(if $(filter 0,$(shell id -u)),--allow-root)

bench: $(STAMP)
	$(BIN)/python tools/bench.py

sync-url: $(STAMP)
	$(BIN)/python tools/sync_repo_url.py

clean:
	rm -rf _build .pytest_cache .ruff_cache .hypothesis
