# Sourced by scripts/test-postgres.sh, bench/bench_speed.sh and bench/load/run.sh: a throw-away PostgreSQL cluster on
# a unix socket (no TCP), with a database `kpitrack`, removed again by pg_stop.
#   pg_start NAME PORT   finds initdb (installs Debian's postgresql when missing and root), starts the cluster as an
#                        unprivileged user (PostgreSQL refuses root), exports DATABASE_URL; sets PG_BINDIR, PG_DATA,
#                        PG_SOCKET
#   pg_stop [MODE]       stops it (pg_ctl -m MODE, default immediate) and removes its files; safe to call twice
PG_DATA=""

pg_find() {
  local candidate
  for candidate in "$(dirname "$(readlink -f "$(command -v initdb 2>/dev/null || echo /nonexistent)")")" /usr/lib/postgresql/*/bin; do
    if [ -x "$candidate/initdb" ] && [ -x "$candidate/pg_ctl" ] && [ -x "$candidate/createdb" ]; then PG_BINDIR="$candidate"; return 0; fi
  done
  return 1
}

pg_as_runner() { if [ "$(id -u)" = 0 ]; then su -s /bin/sh "$PG_RUNNER" -c "$*"; else sh -c "$*"; fi; }

pg_start() {
  local name="$1" port="$2"
  if ! pg_find && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  if ! pg_find; then echo "$name: PostgreSQL (initdb) not found and could not be installed" >&2; return 1; fi
  PG_RUNNER="$(id -un)"
  if [ "$(id -u)" = 0 ]; then
    PG_RUNNER=postgres
    id -u "$PG_RUNNER" >/dev/null 2>&1 || useradd --system --no-create-home "$PG_RUNNER"
  fi
  PG_DATA="$(mktemp -d "/tmp/$name.XXXXXX")"
  PG_SOCKET="$PG_DATA/socket"
  mkdir -p "$PG_SOCKET"
  chown -R "$PG_RUNNER" "$PG_DATA"
  pg_as_runner "'$PG_BINDIR/initdb' -D '$PG_DATA/db' -U kpitrack --auth=trust -E UTF8 >/dev/null"
  pg_as_runner "'$PG_BINDIR/pg_ctl' -D '$PG_DATA/db' -o \"-p $port -k $PG_SOCKET -c listen_addresses=''\" -l '$PG_DATA/log' -w start" >/dev/null
  pg_as_runner "'$PG_BINDIR/createdb' -h '$PG_SOCKET' -p $port -U kpitrack kpitrack"
  # The socket directory as the host, percent-encoded (dj-database-url reads it as a unix socket path).
  export DATABASE_URL="postgres://kpitrack@${PG_SOCKET//\//%2F}:$port/kpitrack"
  echo "$name: PostgreSQL $("$PG_BINDIR/postgres" --version | awk '{print $3}') on $PG_SOCKET"
}

pg_stop() {
  [ -n "$PG_DATA" ] || return 0
  pg_as_runner "'$PG_BINDIR/pg_ctl' -D '$PG_DATA/db' -m ${1:-immediate} stop" >/dev/null 2>&1 || true
  rm -rf "$PG_DATA"
  PG_DATA=""
}
