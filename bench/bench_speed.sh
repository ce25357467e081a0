#!/usr/bin/env bash
# The speed tables of issue 12 for SQLite and PostgreSQL: builds the national data set in a throw-away SQLite file
# and a throw-away PostgreSQL cluster (as scripts/test-postgres.sh does), then runs bench/bench_speed.py on each.
#   bash bench/bench_speed.sh [--runs 30] [--label after]        (SPEED_DATABASES="sqlite postgres" by default)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh "[test,postgres]"
export SECRET_KEY="bench-only-$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"  # the same key for gunicorn

build() {  # the national data set in the database the environment names
  .venv/bin/python manage.py migrate -v 0
  .venv/bin/python manage.py load_seed >/dev/null
  .venv/bin/python manage.py load_demo_users >/dev/null
  .venv/bin/python manage.py generate_national_data
}

for database in ${SPEED_DATABASES:-sqlite postgres}; do
  if [ "$database" = sqlite ]; then
    file="$(mktemp /tmp/kpitrack-speed.XXXXXX.sqlite3)"
    (export SQLITE_PATH="$file"; unset DATABASE_URL; build && .venv/bin/python bench/bench_speed.py "$@")
    rm -f "$file"
    continue
  fi
  bindir=""
  for candidate in "$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent)")" /usr/lib/postgresql/*/bin; do
    if [ -x "$candidate/initdb" ] && [ -x "$candidate/pg_ctl" ]; then bindir="$(dirname "$(readlink -f "$candidate/initdb")")"; break; fi
  done
  if [ -z "$bindir" ]; then echo "bench_speed: PostgreSQL (initdb) not found; skipped" >&2; continue; fi
  runner="$(id -un)"
  if [ "$(id -u)" = 0 ]; then
    runner=postgres
    id -u "$runner" >/dev/null 2>&1 || useradd --system --no-create-home "$runner"
  fi
  data="$(mktemp -d /tmp/kpitrack-speed-pg.XXXXXX)"
  socket="$data/socket"
  mkdir -p "$socket"
  chown -R "$runner" "$data"
  as_runner() { if [ "$(id -u)" = 0 ]; then su -s /bin/sh "$runner" -c "$*"; else sh -c "$*"; fi; }
  port="${PGPORT_BENCH:-55441}"
  as_runner "'$bindir/initdb' -D '$data/db' -U kpitrack --auth=trust -E UTF8 >/dev/null"
  as_runner "'$bindir/pg_ctl' -D '$data/db' -o \"-p $port -k $socket -c listen_addresses=''\" -l '$data/log' -w start" >/dev/null
  as_runner "'$bindir/createdb' -h '$socket' -p $port -U kpitrack kpitrack"
  status=0
  (export DATABASE_URL="postgres://kpitrack@${socket//\//%2F}:$port/kpitrack"; build && .venv/bin/python bench/bench_speed.py "$@") || status=$?
  as_runner "'$bindir/pg_ctl' -D '$data/db' -m immediate stop" >/dev/null 2>&1 || true
  rm -rf "$data"
  [ "$status" = 0 ] || exit "$status"
done
