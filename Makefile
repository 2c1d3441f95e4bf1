.PHONY: install lint typecheck test test-unit test-contract test-integration test-e2e test-browser bench lock ci

# In a venv (README.md). The bench extra's clients are also what mypy checks benchmarks/ against.
install:
	python -m pip install -c constraints.txt -e ".[dev,bench]"

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

# The web console in Chromium; CONSOLE_SCREENSHOTS=docs/images/console refreshes the docs' pictures.
test-browser:
	python -m pytest tests/browser

bench:
	python -m benchmarks.run

# constraints.txt from a fresh venv, after a change to the dependencies in pyproject.toml.
lock:
	bash scripts/lock.sh

# What CI runs, in a venv of its own.
ci:
	bash .ci/run
