# Two commands do all the set-up on a fresh machine:
#   make lab    create .venv, install everything, open JupyterLab on the first notebook
#   make test   the same install if needed, then every test, nbval on every notebook included
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
# The CIFAR-10 JPEG copy used where the original cannot be downloaded (see data/README.md).
JPEG_TARBALL ?= ../shared/data/cifar10-jpeg.tar.gz
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))
# conftest.py (repository root) makes nbval honour a trailing ';' as Jupyter does.
NBVAL_FLAGS := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: install lab test test-portable lint test-lib test-notebooks data web execute bench clean student site slides

install: $(INSTALLED)

$(INSTALLED): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	$(PY) -m pip install --disable-pip-version-check -q --no-deps -e .
	touch $@

# Extract the JPEG copy of CIFAR-10 into an ignored folder, when the copy is there (development
# machines and CI). On a user's machine the engine downloads the original through torchvision.
# ARCHIVE.sha256, written last as sha256sum prints it ("<hex>  cifar10-jpeg.tar.gz"), marks the
# extraction complete and names the archive in the data_source of every result trained on it.
data: data/cifar10-jpeg/ARCHIVE.sha256

data/cifar10-jpeg/ARCHIVE.sha256: $(wildcard $(JPEG_TARBALL))
	@if [ -f "$(JPEG_TARBALL)" ]; then \
	  mkdir -p data/cifar10-jpeg && tar -xzf "$(JPEG_TARBALL)" -C data/cifar10-jpeg && \
	  (cd "$(dir $(JPEG_TARBALL))" && sha256sum "$(notdir $(JPEG_TARBALL))") > $@.tmp && mv $@.tmp $@; \
	else echo "no $(JPEG_TARBALL): CIFAR-10 will be downloaded by torchvision when needed"; fi

# Pinned JavaScript (web/package-lock.json: reveal.js, MathJax 2, require.js, jQuery) for the offline slide
# decks and site, installed from the npm registry into the ignored web/node_modules; pages never load a CDN.
WEB_ASSETS := web/node_modules/.installed
web: $(WEB_ASSETS)

$(WEB_ASSETS): web/package.json web/package-lock.json
	npm ci --prefix web --no-audit --no-fund --loglevel=error
	touch $@

# The student edition: every notebook without its solutions (cells tagged "solution"), in the ignored build/.
student: install
	rm -rf build/student && $(PY) -m tools.build_student --out build/student

# The offline site: index.html (README's notebook table), every notebook as an HTML page with its outputs, the
# README; MathJax from web/; nothing loaded from the internet. Open build/site/index.html.
site: install web
	rm -rf build/site && $(PY) -m tools.build_site --out build/site

# Reveal.js slide decks, one per notebook (from the cells' slide metadata), with reveal.js, MathJax, require.js
# and jQuery copied from web/ into build/slides/_static: they open from file:// or any server, offline.
slides: install web
	rm -rf build/slides && $(PY) -m tools.build_slides --out build/slides

# tools/lab.sh starts JupyterLab with the project's settings (jupyter/): no news pop-up, no update check.
lab: install
	LAB_PYTHON=$(PY) tools/lab.sh notebooks/00_start_here.ipynb

# CI runs the CIFAR-10 notebook on the seconds-long smoke profile.
test: install data lint student site slides
	LRLIB_CIFAR_PROFILE=smoke $(PY) -m pytest tests notebooks $(NBVAL_FLAGS)

# The notebooks again under torch's portable kernels and numpy without its AVX-512 code paths: the
# last bits of floating point change as on another CPU, and the committed outputs must not.
PORTABLE := ATEN_CPU_CAPABILITY=default NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL AVX512_SPR"
test-portable: install data
	$(PORTABLE) LRLIB_CIFAR_PROFILE=smoke $(PY) -m pytest notebooks $(NBVAL_FLAGS)

# ruff (pinned in requirements.txt; rules in pyproject.toml): pyflakes, pycodestyle errors, isort, bugbear.
lint: install
	$(VENV)/bin/ruff check lrlib tests benchmarks tools jupyter conftest.py

test-lib: install web
	$(PY) -m pytest -q tests

test-notebooks: install data
	LRLIB_CIFAR_PROFILE=smoke $(PY) -m pytest -q $(NBVAL_FLAGS) notebooks

# Re-execute notebooks in place, top to bottom in a fresh kernel, so committed outputs are what the
# code produces: make execute NB=notebooks/02_step_decay.ipynb (default: all of them).
NB ?= $(NOTEBOOKS)
execute: install data
	for nb in $(NB); do \
	  LRLIB_CIFAR_PROFILE=$${LRLIB_CIFAR_PROFILE:-smoke} $(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace \
	    --ExecutePreprocessor.timeout=600 --ExecutePreprocessor.store_widget_state=False "$$nb" || exit 1; \
	done

bench: install
	$(PY) benchmarks/bench_schedules.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
