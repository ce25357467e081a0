#!/usr/bin/env bash
# The load test on PostgreSQL 15 behind gunicorn, on loopback, bounded in time; everything it starts it stops.
#
#   bash bench/load/run.sh                 # 60 s, 2 sync workers
#   LOAD_SECONDS=30 LOAD_WORKERS=3 bash bench/load/run.sh -- --branches 8 --hq 6
#
# Steps: a throw-away PostgreSQL cluster on a unix socket (Debian's postgresql installed when missing, run as the
# `postgres` user when root) → migrate → the seed and the national data set (47 branches × LOAD_YEARS years) →
# gunicorn serving kpitrack.wsgi with DEBUG off → bench/load/loadtest.py (load users, timed mix, report,
# database check). Exits with the load test's status: non-zero on any error, stale read or lost save.
# Environment: LOAD_SECONDS (60), LOAD_WORKERS (2), LOAD_PORT (a free one), LOAD_PGPORT (55449), LOAD_YEARS (10),
# LOAD_OUT (bench/results/load.json), LOAD_CACHE (locmem: each worker's own cache, the default; redis: a throw-away
# redis-server shared by the workers, as several app servers would share one, Debian's redis-server installed when
# missing).
# Arguments after `--` go to loadtest.py (see its --help).
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "${1:-}" = "--" ] && shift
source scripts/_venv.sh "[bench]"
source scripts/_postgres.sh

seconds="${LOAD_SECONDS:-60}"
workers="${LOAD_WORKERS:-2}"
# A free loopback port unless one is given (another server on a fixed port would be measured instead).
port="${LOAD_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
pgport="${LOAD_PGPORT:-55449}"
years="${LOAD_YEARS:-10}"

server=""
redis=""
stop() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true; fi
  if [ -n "$redis" ]; then kill "$redis" 2>/dev/null && wait "$redis" 2>/dev/null || true; fi
  pg_stop fast
}
trap stop EXIT
pg_start load-test "$pgport"
data="$PG_DATA"
export DEBUG=False
SECRET_KEY="load-test-$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(40))')"
export SECRET_KEY
export ALLOWED_HOSTS="127.0.0.1,localhost"
export STATIC_ROOT="$data/static"  # pages link static files; the load does not fetch them
mkdir -p "$STATIC_ROOT"

watch_redis=()
if [ "${LOAD_CACHE:-locmem}" = redis ]; then
  if ! command -v redis-server >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  fi
  redis-server --unixsocket "$data/redis.sock" --port 0 --save "" --appendonly no >"$data/redis.log" 2>&1 &
  redis=$!
  for _ in $(seq 50); do [ -S "$data/redis.sock" ] && break; sleep 0.1; done
  export CACHE_BACKEND=django.core.cache.backends.redis.RedisCache CACHE_LOCATION="unix://$data/redis.sock"
  watch_redis=(--watch "redis=$redis")
fi

.venv/bin/python manage.py migrate -v 0
.venv/bin/python manage.py load_seed >/dev/null
# The national data set ends with fiscal 2025 (the year the load reads and saves), like the benchmark's.
.venv/bin/python manage.py generate_national_data --first-year $((2026 - years)) --years "$years"
.venv/bin/python manage.py shell -c "from django.db import connection; connection.cursor().execute('ANALYZE')" >/dev/null

# gunicorn.conf.py is read too (its access log goes to a file here, as on a server, not to this console)
GUNICORN_ACCESS_LOG="$data/gunicorn-access.log" .venv/bin/gunicorn kpitrack.wsgi --workers "$workers" --worker-class sync --bind "127.0.0.1:$port" \
  --timeout 60 --log-level warning --error-logfile "$data/gunicorn.log" &
server=$!
sleep 1
if ! kill -0 "$server" 2>/dev/null; then echo "load test: gunicorn did not start:" >&2; cat "$data/gunicorn.log" >&2; exit 1; fi
postmaster="$(head -n 1 "$data/db/postmaster.pid")"
status=0
out="${LOAD_OUT:-bench/results/load.json}"
.venv/bin/python bench/load/loadtest.py --base "http://127.0.0.1:$port" --duration "$seconds" "$@" --out "$out" \
  --watch "gunicorn=$server" --watch "postgresql=$postmaster" "${watch_redis[@]}" || status=$?
if [ -s "$data/gunicorn.log" ] && [ "$status" != 0 ]; then
  echo "--- gunicorn log (last 40 lines) ---"; tail -n 40 "$data/gunicorn.log"
fi
echo "load test: gunicorn $workers sync workers, cache ${LOAD_CACHE:-locmem}, $seconds s; exit status $status"
exit "$status"
