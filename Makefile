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

.PHONY: help venv test lint typecheck unit proto demo clean

help:
	@echo "make demo   - run the Meeting Controller on embedded defaults"
	@echo "make test   - create .venv, install everything, lint and run the whole suite"
	@echo "make lint   - ruff and mypy"
	@echo "make proto  - regenerate the committed protobuf/gRPC code from proto/"

# The venv is (re)built whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

venv: $(VENV)/.installed

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

unit: venv
	$(BIN)/pytest

test: lint unit

demo: venv
	$(BIN)/meeting-controller demo

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
