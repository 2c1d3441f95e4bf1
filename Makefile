.PHONY: install lint typecheck test test-unit test-contract test-integration test-e2e bench

install:
	python3 -m pip install -e ".[dev]"

lint:
	ruff check . && ruff format --check .

typecheck:
	mypy

test:
	python -m pytest

test-unit:
	python -m pytest tests/unit

test-contract:
	python -m pytest tests/contract

test-integration:
	python -m pytest tests/integration

test-e2e:
	python -m pytest tests/e2e

bench:
	python -m benchmarks.run
