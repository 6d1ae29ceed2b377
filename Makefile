# The two commands of README.md: `make run` (the HelpDesk on SQLite) and `make test` (the suite on
# PostgreSQL and Redis). Both install what they need into .venv first.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
CHROMIUM := /usr/bin/chromium

.PHONY: install run test bench openapi

install: $(INSTALLED)

$(INSTALLED): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
	  echo "Debian's Chromium is needed for the browser tests: sudo apt-get install -y chromium" >&2; exit 1; \
	fi

run: $(INSTALLED)
	DEBUG=$${DEBUG:-true} $(PY) manage.py run_embedded

test: $(INSTALLED) $(CHROMIUM)
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m pytest $(PYTEST_ARGS)

# The API's contract, docs/openapi.yaml, regenerated from the code (a test compares them).
openapi: $(INSTALLED)
	DJANGO_SETTINGS_MODULE=tests.settings $(PY) manage.py spectacular --validate --fail-on-warn --file docs/openapi.yaml
