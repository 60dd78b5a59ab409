# Two commands for a fresh Debian machine (run as root, or with sudo available):
#   make run   installs everything, builds the demo store if none exists, serves http://127.0.0.1:8050
#   make test  installs everything and runs the whole test suite (browser tests included)
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SYSTEM_PACKAGES := chromium chromium-driver fonts-thai-tlwg fonts-noto-core \
	postgresql postgis libreoffice-impress-nogui poppler-utils python3-venv
DB ?= data/atlas.duckdb

PLOTLY_BUNDLE := dashboard/assets/plotly-map.min.js

.PHONY: install system python plotlyjs run test bench demo clean

install: system python plotlyjs

# apt-get only runs when a package is missing, so repeated runs stay quick.
system:
	@if ! dpkg -s $(SYSTEM_PACKAGES) >/dev/null 2>&1; then \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(SYSTEM_PACKAGES); \
	fi

python: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

# A partial plotly.js (core + MapLibre choropleth) that the page loads instead of the full one:
# built from npm packages pinned with their hashes in package-lock.json (npm ci checks them).
plotlyjs: $(PLOTLY_BUNDLE)

$(PLOTLY_BUNDLE): dashboard/plotlyjs/map-bundle.js dashboard/plotlyjs/country-lookup.js dashboard/plotlyjs/package.json dashboard/plotlyjs/package-lock.json
	@command -v npm >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nodejs npm; }
	cd dashboard/plotlyjs && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error && npm run --silent build

demo: install
	@[ -e "$(DB)" ] || { $(PY) -m geodata demo --db "$(DB)" && $(PY) -m geodata raster demo --db "$(DB)"; }

# The app's own modules are byte-compiled first, so the server starts without compiling them
# (PYTHONDONTWRITEBYTECODE, common on servers, would otherwise make every start compile them).
run: demo
	$(PY) -m compileall -q dashboard layers geodata callbacks
	$(PY) -m dashboard --db "$(DB)" --host 127.0.0.1 --port 8050

test: install
	$(PY) -m pytest

bench: install
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) data test-artifacts dashboard/plotlyjs/node_modules dashboard/assets/plotly-map.min.*
