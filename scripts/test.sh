#!/usr/bin/env bash
# Fresh clone → lint and the whole test suite: bash scripts/test.sh [pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh "[test]"
.venv/bin/ruff check .
.venv/bin/python manage.py makemigrations --check --dry-run -v 0
status=0
.venv/bin/python -m pytest -q --create-db "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "scripts/test.sh: pytest collected no tests; that is a failure, not a pass." >&2
fi
exit "$status"
