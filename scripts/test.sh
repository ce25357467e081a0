#!/usr/bin/env bash
# Fresh clone → the whole test suite: bash scripts/test.sh [pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh "[test]"
.venv/bin/python manage.py makemigrations --check --dry-run -v 0
exec .venv/bin/python -m pytest -q --create-db "$@"
