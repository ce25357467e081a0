#!/usr/bin/env bash
# The whole test suite on PostgreSQL 15: starts a throw-away cluster on a unix socket, runs pytest against it,
# stops and removes it. Installs Debian's postgresql when initdb is missing. Pass pytest arguments through.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh "[test,postgres]"

bindir=""
for candidate in "$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent)")" /usr/lib/postgresql/*/bin; do
  if [ -x "$candidate/initdb" ] && [ -x "$candidate/pg_ctl" ]; then bindir="$candidate"; break; fi
done
if [ -z "$bindir" ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  for candidate in /usr/lib/postgresql/*/bin; do [ -x "$candidate/initdb" ] && bindir="$candidate"; done
fi
if [ -z "$bindir" ]; then echo "test-postgres: PostgreSQL (initdb) not found and could not be installed" >&2; exit 1; fi

# PostgreSQL refuses to run as root: run the cluster as an unprivileged user.
runner="$(id -un)"
if [ "$(id -u)" = 0 ]; then
  runner=postgres
  id -u "$runner" >/dev/null 2>&1 || useradd --system --no-create-home "$runner"
fi
data="$(mktemp -d /tmp/kpitrack-pg.XXXXXX)"
socket="$data/socket"
mkdir -p "$socket"
chown -R "$runner" "$data"
as_runner() { if [ "$(id -u)" = 0 ]; then su -s /bin/sh "$runner" -c "$*"; else sh -c "$*"; fi; }
port="${PGPORT_TEST:-55439}"
stop() { as_runner "'$bindir/pg_ctl' -D '$data/db' -m immediate stop" >/dev/null 2>&1 || true; rm -rf "$data"; }
trap stop EXIT
as_runner "'$bindir/initdb' -D '$data/db' -U kpitrack --auth=trust -E UTF8 >/dev/null"
as_runner "'$bindir/pg_ctl' -D '$data/db' -o \"-p $port -k $socket -c listen_addresses=''\" -l '$data/log' -w start" >/dev/null
# The socket directory as the host, percent-encoded (dj-database-url reads it as a unix socket path).
export DATABASE_URL="postgres://kpitrack@${socket//\//%2F}:$port/kpitrack"
echo "test-postgres: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on $socket"
.venv/bin/python -m pytest -q --create-db "$@"
