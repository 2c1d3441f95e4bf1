#!/usr/bin/env bash
# Regenerates constraints.txt: every package that a fresh install of the project with the
# dev and bench extras resolves to, pinned to the version it resolved to. Run it (or
# `make lock`) after changing dependencies in pyproject.toml, and commit the result.
#
# Install with the file as constraints, e.g. pip install -c constraints.txt -e ".[dev]";
# it pins the packages of every extra named in EXTRAS, so any subset of them installs too.
# Run it with the oldest Python the project supports (3.11): packages only older
# Pythons need would be missing from a file made on a newer one.
#   PYTHON=python3.11 EXTRAS=dev,bench scripts/lock.sh
# The pins already in constraints.txt are kept (a new dependency is added at its newest
# version); UPGRADE=1 resolves everything afresh.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
EXTRAS="${EXTRAS:-dev,bench}"

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

echo "lock: a fresh venv with $("$PYTHON" --version)"
"$PYTHON" -m venv "$scratch/venv"
pip=("$scratch/venv/bin/python" -m pip --disable-pip-version-check)
keep=()
if [ "${UPGRADE:-0}" != 1 ] && [ -f constraints.txt ]; then
  keep=(-c constraints.txt)
fi
echo "lock: pip install ${keep[*]} -e \".[$EXTRAS]\""
"${pip[@]}" install -q "${keep[@]}" -e ".[$EXTRAS]"
"${pip[@]}" check

{
  echo "# Every package that pip install -e \".[$EXTRAS]\" resolves to, pinned; made by"
  echo "# scripts/lock.sh (make lock) in a fresh venv on $("$PYTHON" --version). Do not edit:"
  echo "# change pyproject.toml and rerun it. Use: pip install -c constraints.txt -e \".[dev]\""
  "${pip[@]}" freeze --exclude-editable
} >constraints.txt.new
mv constraints.txt.new constraints.txt
echo "lock: constraints.txt pins $(grep -vc '^#' constraints.txt) packages"
