# The two commands of README.md: `make run` (the HelpDesk on SQLite) and `make test` (the suite on
# PostgreSQL and Redis). Both install what they need into .venv first.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
CHROMIUM := /usr/bin/chromium
# Receipts and credit notes: WeasyPrint's Debian libraries (Pango, HarfBuzz's subsetter) and, for
# the tests that read the PDFs back, poppler-utils' pdftotext.
DOCUMENT_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core poppler-utils
DOVECOT := /usr/sbin/dovecot

.PHONY: install run test bench documents deploy-check openapi

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

documents:
	@if dpkg -s $(DOCUMENT_PACKAGES) >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DOCUMENT_PACKAGES) >/dev/null; \
	else \
	  echo "Receipts need WeasyPrint's libraries: sudo apt-get install -y $(DOCUMENT_PACKAGES)" >&2; exit 1; \
	fi

# The e-mail channel's IMAP tests run a real Dovecot (started by the tests, unprivileged).
$(DOVECOT):
	@if [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd >/dev/null; \
	else \
	  echo "Debian's Dovecot is needed for the IMAP tests: sudo apt-get install -y dovecot-imapd" >&2; exit 1; \
	fi

run: $(INSTALLED) documents
	DEBUG=$${DEBUG:-true} $(PY) manage.py run_embedded

test: $(INSTALLED) $(CHROMIUM) $(DOVECOT) documents
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m pytest $(PYTEST_ARGS)

# docker-compose.yml brought up with podman on this machine, exercised and torn down (README,
# "Production"); installs podman as root when missing and caches the base images' stand-ins.
deploy-check: $(INSTALLED)
	deploy/check.sh

# The API's contract, docs/openapi.yaml, regenerated from the code (a test compares them).
openapi: $(INSTALLED)
	DJANGO_SETTINGS_MODULE=tests.settings $(PY) manage.py spectacular --validate --fail-on-warn --file docs/openapi.yaml
