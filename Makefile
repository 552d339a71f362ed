# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test lint bench sample clean system-deps lock

# Installs the exact versions in constraints.txt (pyproject.toml only gives floors), so a
# fresh machine gets what the tests passed with; a changed constraints.txt reinstalls.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -c constraints.txt --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# Refresh constraints.txt: the newest releases pyproject.toml allows, installed without the
# old pins into a throw-away venv in a temp folder, then frozen (pip included; the project,
# setuptools and wheel left out). Then `make test` and commit constraints.txt.
lock:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(PYTHON) -m venv "$$tmp/venv" && \
	"$$tmp/venv/bin/pip" install --quiet --upgrade pip && \
	"$$tmp/venv/bin/pip" install --quiet -e '.[dev]' && \
	{ echo "# The exact versions the tests passed with, frozen on Python" \
	    "$$("$$tmp/venv/bin/python" -c 'import sys; print(sys.version.split()[0])'); make lock refreshes them."; \
	  echo "# make installs with pip install -c constraints.txt; pyproject.toml has the floors."; \
	  "$$tmp/venv/bin/pip" freeze --all --exclude-editable \
	    | grep -v -i -E '^(setuptools|wheel|distribute)=='; } > "$$tmp/constraints.txt" && \
	mv "$$tmp/constraints.txt" constraints.txt && \
	echo "constraints.txt: $$(grep -c '==' constraints.txt) pinned packages"

demo: $(STAMP) system-deps
	$(BIN)/hrss-fraud demo

# Debian packages the browser tests, screenshots and Chinese documents need: a headless
# browser and a CJK font (without one, Chinese renders as empty boxes); the PDF notices
# embed a TrueType one (fonts-wqy-zenhei: Noto CJK is CFF, which extractors misread);
# LibreOffice Writer and Calc, headless, and poppler-utils (pdftoppm, pdftotext), to open
# the issued notices and exported lists as a user would and render them for the docs;
# OpenJDK 17 for local Spark (the province parity tests) and PostgreSQL's server, which the
# case-store tests start on their own for a province's case store.
system-deps:
	@command -v chromium >/dev/null && fc-list :lang=zh | grep -q . \
	  && [ -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] \
	  && command -v soffice >/dev/null && command -v pdftoppm >/dev/null \
	  && command -v java >/dev/null && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-noto-cjk \
	    fonts-wqy-zenhei libreoffice-writer-nogui libreoffice-calc-nogui poppler-utils \
	    openjdk-17-jre-headless postgresql; }

test: $(STAMP) system-deps
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n 2 --dist loadgroup

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/python -m bench.runner

# Regenerate the small committed sample in sample_data/.
sample: $(STAMP)
	$(BIN)/hrss-fraud synth --persons 1000 --months 2 --seed 7 --out sample_data/county-sample --quiet

clean:
	rm -rf $(VENV) workspace bench/work .pytest_cache .ruff_cache
