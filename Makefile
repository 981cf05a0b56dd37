# meeting-controller: the two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
# Generated protobuf code lives beside the package that imports it.
PROTO_SRC := proto
PROTO_OUT := controller
PROTO_FILES := $(wildcard $(PROTO_SRC)/meeting_controller/protocol/*.proto)
# Only the internal API has gRPC services; signaling travels over WebTransport.
GRPC_PROTO_FILES := $(PROTO_SRC)/meeting_controller/protocol/internal.proto

# Python 3.12 for helm-sdkpy: `python3.12` on PATH if it runs, else a pyenv-installed 3.12.
PYTHON312 ?= $(shell for p in python3.12 $$HOME/.pyenv/versions/3.12*/bin/python3.12; do \
	$$p -c 'import sys; assert sys.version_info[:2] == (3, 12)' >/dev/null 2>&1 && { echo $$p; break; }; done)
HELM_VENV ?= .venv-helm

.PHONY: help venv helm-venv web-deps webjs test lint unit proto demo bench clean

help:
	@echo "make demo   - run the Meeting Controller on embedded defaults"
	@echo "make test   - create .venv, install everything, lint and run the whole suite"
	@echo "make lint   - ruff and mypy"
	@echo "make proto  - regenerate the committed protobuf/gRPC code from proto/"
	@echo "make bench  - benchmarks vs. the raw libraries; writes bench/RESULTS.md"

# The venv is (re)built whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

venv: $(VENV)/.installed

# Real Helm for the chart tests: helm-sdkpy (Helm v4's Go library) needs Python >= 3.12.
$(HELM_VENV)/.installed:
	@test -n "$(PYTHON312)" || { echo "Python 3.12 is needed for the Helm chart tests (helm-sdkpy); set PYTHON312=/path/to/python3.12" >&2; exit 1; }
	$(PYTHON312) -m venv $(HELM_VENV)
	$(HELM_VENV)/bin/pip install --quiet --upgrade pip
	$(HELM_VENV)/bin/pip install --quiet 'helm-sdkpy==0.1.32'
	@touch $@

helm-venv: $(HELM_VENV)/.installed

# The browser console's protobuf JavaScript is generated from proto/ with protobufjs-cli
# (npm); the generated files are committed, npm is only needed to check or regenerate them.
WEB_DEPS := web/node_modules/.installed
$(WEB_DEPS): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	@touch $@

web-deps: $(WEB_DEPS)

webjs: $(WEB_DEPS)
	cd web && npm run generate

proto: venv
	rm -f $(PROTO_OUT)/meeting_controller/protocol/*_pb2*.py*
	PATH="$(abspath $(BIN)):$$PATH" $(PY) -m grpc_tools.protoc -I $(PROTO_SRC) \
		--python_out=$(PROTO_OUT) --mypy_out=$(PROTO_OUT) $(PROTO_FILES)
	PATH="$(abspath $(BIN)):$$PATH" $(PY) -m grpc_tools.protoc -I $(PROTO_SRC) \
		--grpc_python_out=$(PROTO_OUT) --mypy_grpc_out=$(PROTO_OUT) $(GRPC_PROTO_FILES)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

unit: venv helm-venv web-deps
	$(BIN)/pytest

test: lint unit

demo: venv
	$(BIN)/meeting-controller demo

# Benchmarks against the raw libraries underneath (not part of `make test`; ~3 minutes).
bench: venv
	$(BIN)/meeting-controller bench

clean:
	rm -rf $(VENV) $(HELM_VENV) web/node_modules .pytest_cache .mypy_cache .ruff_cache build *.egg-info
