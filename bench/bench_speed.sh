#!/usr/bin/env bash
# The speed tables of issue 12 for SQLite and PostgreSQL: builds the national data set in a throw-away SQLite file
# and a throw-away PostgreSQL cluster (as scripts/test-postgres.sh does), then runs bench/bench_speed.py on each.
#   bash bench/bench_speed.sh [--runs 30] [--label after]        (SPEED_DATABASES="sqlite postgres" by default)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh "[test,postgres]"
source scripts/_postgres.sh
trap pg_stop EXIT
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
  status=0
  pg_start bench-speed "${PGPORT_BENCH:-55441}" || { echo "bench_speed: PostgreSQL skipped" >&2; continue; }
  (build && .venv/bin/python bench/bench_speed.py "$@") || status=$?
  pg_stop
  unset DATABASE_URL
  [ "$status" = 0 ] || exit "$status"
done
