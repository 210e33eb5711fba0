# hedui — every target creates/updates the virtual environment it needs.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo serve sim test lint proto typecheck bench clean

$(STAMP): pyproject.toml examples/hedui-disability-adapter/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# the example third-party adapter: the tests exercise it through its entry point
	$(BIN)/python -m pip install --quiet -e examples/hedui-disability-adapter
	touch $(STAMP)

## demo: simulator + gateway on SQLite, several households through real gRPC, a result table
demo: $(STAMP)
	$(BIN)/hedui demo

## serve: the gateway in the foreground (Ctrl-C stops it gracefully); start `make sim` first
serve: $(STAMP)
	$(BIN)/hedui serve

## sim: the department simulator in the foreground on 127.0.0.1:8700
sim: $(STAMP)
	$(BIN)/hedui sim

## test: lint, then the whole test suite (PostgreSQL tests skip when no server, unless CI)
test: lint
	$(BIN)/pytest -q

## lint: ruff, mypy, and the generated-code drift check
lint: $(STAMP)
	$(BIN)/python scripts/genproto.py --check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## proto: regenerate gateway/api/_proto from proto/
proto: $(STAMP)
	$(BIN)/python scripts/genproto.py

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
