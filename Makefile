# Two commands do all set-up on a fresh machine: `make run` and `make test`.
VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3
export FLASK_APP := portal

.PHONY: run test lint fmt install i18n clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(BIN)/.installed

run: install
	$(BIN)/flask db upgrade heads
	$(BIN)/portal demo
	@echo ""
	@echo "Portal: http://127.0.0.1:8000/login  (demo logins above)"
	$(BIN)/gunicorn -c deploy/gunicorn.conf.py --bind 127.0.0.1:8000 wsgi:app

test: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	tests/run_all.sh

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

fmt: install
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

i18n: install
	$(BIN)/portal i18n update
	$(BIN)/portal i18n missing

clean:
	rm -rf $(VENV) instance test-artifacts
