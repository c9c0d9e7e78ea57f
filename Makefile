# Daiban: the README's two commands are `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app crm

.PHONY: run test test-unit test-e2e install install-dev translations db demo worker alert-sinks browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Compile the Chinese (and English) catalogs; .mo files are build output, not committed.
translations: $(VENV)/.installed
	$(BIN)/python scripts/translations.py compile

db: install translations
	$(FLASK) db upgrade

demo: db
	$(FLASK) crm demo

## The app with demo data at http://127.0.0.1:5000 (web + worker [+ redis]); Ctrl-C stops all.
run: demo
	$(BIN)/python scripts/run.py

worker: db
	$(FLASK) crm worker

## Local SMTP and WeCom-robot receivers that print what the demo's alerts send (README).
alert-sinks: install-dev
	$(BIN)/python scripts/alert_sinks.py

## The whole test suite: SQLite (unit and integration on $(TEST_WORKERS) processes, then the
## browser tests), then PostgreSQL when CRM_TEST_DATABASE_URL is set.  Each pytest-xdist
## process has its own database and Redis database (tests/conftest.py).
TEST_WORKERS ?= 2
test: install-dev translations browser
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not e2e" $(PYTEST_ARGS)
	$(BIN)/python -m pytest -m e2e $(PYTEST_ARGS)
	@if [ -n "$$CRM_TEST_DATABASE_URL" ]; then \
	  echo "== again on PostgreSQL ($$CRM_TEST_DATABASE_URL), database-backed tests =="; \
	  CRM_TEST_DB=postgresql $(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not unit and not e2e" $(PYTEST_ARGS); \
	fi

test-unit: install-dev translations
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

test-e2e: install-dev translations browser
	$(BIN)/python -m pytest tests/e2e $(PYTEST_ARGS)

# Browser tests drive Debian's Chromium (never a downloaded browser).
browser:
	@bash scripts/ensure-chromium.sh

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
