# The two commands of README.md: `make run` (the HelpDesk on SQLite) and `make test` (the suite on
# PostgreSQL and Redis). Both install what they need into .venv first.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
CHROMIUM := /usr/bin/chromium
DOVECOT := /usr/sbin/dovecot

.PHONY: install run test bench

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

# The e-mail channel's IMAP tests run a real Dovecot (started by the tests, unprivileged).
$(DOVECOT):
	@if [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd >/dev/null; \
	else \
	  echo "Debian's Dovecot is needed for the IMAP tests: sudo apt-get install -y dovecot-imapd" >&2; exit 1; \
	fi

run: $(INSTALLED)
	DEBUG=$${DEBUG:-true} $(PY) manage.py run_embedded

test: $(INSTALLED) $(CHROMIUM) $(DOVECOT)
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m pytest $(PYTEST_ARGS)
