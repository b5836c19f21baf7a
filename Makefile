# Two commands do all the set-up on a fresh machine that has only python3:
#   make book   -> builds the website into _build/html
#   make test   -> ruff + pytest (library tests, nbval over the chapters, the book build)
# Both create .venv and install requirements.txt when it is missing or changed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JB_FLAGS := -W -n --keep-going

.PHONY: help venv book test outputs lab bench sync-url clean

help:
	@echo "make book      build the website into _build/html"
	@echo "make test      ruff, library tests, nbval (strict) over chapters/, book build"
	@echo "make outputs   re-execute the chapters in place (refresh stored outputs)"
	@echo "make lab       open the chapters in JupyterLab"
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

# MathJax, require.js and the ipywidgets HTML manager, from the npm registry (no CDN at view time).
ASSETS := _vendor/.versions
$(ASSETS): tools/fetch_assets.py | $(STAMP)
	$(BIN)/python tools/fetch_assets.py

book: $(STAMP) $(ASSETS)
	$(BIN)/jupyter-book build . $(JB_FLAGS)
	@echo
	@echo "Built. Open file://$(CURDIR)/_build/html/index.html"
	@echo "(or serve it: $(BIN)/python -m http.server -d _build/html 8000)"

test: $(STAMP) $(ASSETS)
	$(BIN)/ruff check backprop_lib tests tools _ext
	$(BIN)/python -m pytest

outputs: $(STAMP)
	$(BIN)/python tools/refresh_outputs.py chapters/*.ipynb

lab: $(STAMP)
	@$(BIN)/python -c "import jupyterlab" 2>/dev/null || $(BIN)/python -m pip install --quiet jupyterlab
	$(BIN)/jupyter lab chapters/

bench: $(STAMP)
	$(BIN)/python tools/bench.py

sync-url: $(STAMP)
	$(BIN)/python tools/sync_repo_url.py

clean:
	rm -rf _build .pytest_cache .ruff_cache .hypothesis
