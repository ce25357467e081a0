#!/usr/bin/env bash
# The whole test suite on PostgreSQL 15: starts a throw-away cluster on a unix socket, runs pytest against it,
# stops and removes it. Installs Debian's postgresql when initdb is missing. Pass pytest arguments through.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh "[test,postgres]"
source scripts/_postgres.sh

trap pg_stop EXIT
pg_start test-postgres "${PGPORT_TEST:-55439}"
.venv/bin/python -m pytest -q --create-db "$@"
