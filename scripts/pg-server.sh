#!/usr/bin/env bash
# A real PostgreSQL 15 + pgvector 0.8 server for integration tests, in a throwaway cluster
# outside the repository. Needs root (apt, and running the server as user postgres).
#
#   bash scripts/pg-server.sh install    apt packages + pgvector from Debian trixie's source
#   bash scripts/pg-server.sh start      initdb if needed, start, print the DATABASE_URL
#   bash scripts/pg-server.sh stop | url | status | reset-db
#
# Environment: PG_TEST_PORT (55432), PG_TEST_DB (local_rag_test), LOCAL_RAG_CACHE_DIR.
# stdout carries only the URL (start, url); everything else goes to stderr.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/apt.sh
source "$script_dir/lib/apt.sh"

pg_bin=/usr/lib/postgresql/15/bin
pg_config="$pg_bin/pg_config"
vector_control=/usr/share/postgresql/15/extension/vector.control
# Debian trixie ships pgvector 0.8.x (iterative index scans); bookworm ships no pgvector at all.
pgvector_suite=trixie

port="${PG_TEST_PORT:-55432}"
database="${PG_TEST_DB:-local_rag_test}"
app_user=local_rag
app_password=local_rag
home_dir="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"
cache_root="${LOCAL_RAG_CACHE_DIR:-${XDG_CACHE_HOME:-$home_dir/.cache}/local-rag}"
cluster_dir="$cache_root/pg15"
data_dir="$cluster_dir/data"
socket_dir="$cluster_dir/socket"
log_file="$cluster_dir/postgres.log"
database_url="postgres://$app_user:$app_password@127.0.0.1:$port/$database"

# The admin commands below name host, port, user and database explicitly; drop the libpq
# variables anyway so that a caller's PGOPTIONS or PGSERVICE cannot change what they do.
unset PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGPASSWORD PGOPTIONS PGSERVICE PGDATA

log() { printf '[pg-server] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Both go into SQL and the URL unquoted, so accept only plain identifiers and numbers.
[[ "$database" =~ ^[a-z_][a-z0-9_]*$ ]] || die "PG_TEST_DB must be a lower-case identifier, got '$database'"
[[ "$port" =~ ^[0-9]+$ ]] || die "PG_TEST_PORT must be a number, got '$port'"

# A unix socket path is limited to 107 bytes; a deep cache directory falls back to /tmp.
if [ "${#socket_dir}" -gt 90 ]; then
  socket_dir="${TMPDIR:-/tmp}/local-rag-pg15-$port"
fi

# Runs a command as postgres from /, so that an unreadable working directory (root's home)
# does not make initdb or pg_ctl complain. Closes the lock (fd 9): a postmaster that
# inherited it would hold the lock for its whole life and block every later command.
as_postgres() { (cd / && runuser -u postgres -- "$@" 9>&-); }

# Superuser SQL over the cluster's own socket (trust auth; the socket dir is postgres-only).
admin_sql() {
  local target_database="$1"; shift
  PGOPTIONS='-c client_min_messages=warning' \
    "$pg_bin/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$socket_dir" -p "$port" -U postgres -d "$target_database" "$@"
}

# Serialises commands on one cluster: two test runners calling `start` at once must not
# both run initdb or pg_ctl start.
take_lock() {
  mkdir -p "$cache_root"
  exec 9>"$cache_root/pg15.lock"
  flock 9
}

# ---------------------------------------------------------------------------------------------
# install

vector_version() {
  sed -n "s/^default_version *= *'\\(.*\\)'.*/\\1/p" "$vector_control" 2>/dev/null || true
}

build_pgvector() {
  local work_dir
  work_dir="$(mktemp -d "${TMPDIR:-/tmp}/pgvector-build.XXXXXX")"
  # shellcheck disable=SC2064 # expand now: work_dir is local
  trap "rm -rf '$work_dir'" EXIT
  apt_fetch_source "$pgvector_suite" pgvector "$work_dir/source"
  local source_dir
  source_dir="$(find "$work_dir/source" -mindepth 1 -maxdepth 1 -type d -name 'pgvector-*' | head -n 1)"
  [ -n "$source_dir" ] || die "apt-get source pgvector unpacked nothing"
  log "building $(basename "$source_dir") against $("$pg_config" --version)"
  # OPTFLAGS='' drops pgvector's default -march=native: the cached build must not fault on a
  # machine of the same kind with an older CPU.
  local build_log="$work_dir/build.log"
  if ! { make -C "$source_dir" -j "$(nproc)" PG_CONFIG="$pg_config" OPTFLAGS='' &&
    make -C "$source_dir" install PG_CONFIG="$pg_config" OPTFLAGS=''; } >"$build_log" 2>&1; then
    tail -n 40 "$build_log" >&2
    die 'building pgvector failed'
  fi
  rm -rf "$work_dir"
  trap - EXIT
}

# Creates the extension in a scratch cluster in single-user mode (no port, no socket) and
# prints the version PostgreSQL reports, which proves the library loads, not just that files exist.
verify_pgvector() {
  local scratch_dir
  scratch_dir="$(mktemp -d "${TMPDIR:-/tmp}/pgvector-verify.XXXXXX")"
  chown postgres "$scratch_dir"
  as_postgres "$pg_bin/initdb" -D "$scratch_dir/data" -U postgres --auth=trust -E UTF8 --locale=C --no-sync >/dev/null
  local output
  output="$(printf '%s\n' \
    'CREATE EXTENSION vector;' \
    "SELECT 'extversion=' || extversion FROM pg_extension WHERE extname = 'vector';" |
    as_postgres "$pg_bin/postgres" --single -D "$scratch_dir/data" -c fsync=off postgres 2>&1)" || true
  rm -rf "$scratch_dir"
  local version
  version="$(printf '%s\n' "$output" | sed -n 's/.*"extversion=\([^"]*\)".*/\1/p' | head -n 1)"
  [ -n "$version" ] || { printf '%s\n' "$output" >&2; die 'CREATE EXTENSION vector failed'; }
  printf '%s\n' "$version"
}

command_install() {
  take_lock
  local packages=(postgresql-15 postgresql-server-dev-15 acl)
  command -v make >/dev/null || packages+=(make)
  command -v gcc >/dev/null || packages+=(gcc)
  # apt-get source unpacks with dpkg-source, which lives in dpkg-dev.
  command -v dpkg-source >/dev/null || packages+=(dpkg-dev)
  # Without the lock fd too: a postinst may start the system's own cluster as a daemon.
  apt_ensure_packages "${packages[@]}" 9>&-

  if [ -f "$vector_control" ] && [ -f "$("$pg_config" --pkglibdir)/vector.so" ]; then
    log "pgvector $(vector_version) already installed for PostgreSQL 15"
    return 0
  fi
  build_pgvector
  local version
  version="$(verify_pgvector)"
  case "$version" in
    0.8.*) log "pgvector $version installed; CREATE EXTENSION vector works" ;;
    *) die "pgvector $version installed, but 0.8.x was expected" ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# the cluster

is_running() {
  [ -f "$data_dir/PG_VERSION" ] && as_postgres "$pg_bin/pg_ctl" status -D "$data_dir" >/dev/null 2>&1
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

# postgres must be able to walk down to its data directory, and a cache under root's home
# (mode 700) is closed to it. Grant only search (x) on each ancestor it cannot pass, by ACL,
# rather than opening the directories to everyone.
grant_postgres_traversal() {
  local path='' part
  local IFS=/
  for part in $cluster_dir; do
    [ -n "$part" ] || continue
    path="$path/$part"
    [ -d "$path" ] || break
    if ! as_postgres test -x "$path"; then
      command -v setfacl >/dev/null || die "postgres cannot reach $path; run 'install' (brings setfacl) or set LOCAL_RAG_CACHE_DIR"
      log "granting postgres search permission on $path (ACL u:postgres:x)"
      setfacl -m u:postgres:x "$path"
    fi
  done
}

init_cluster() {
  [ -x "$pg_bin/initdb" ] || die "PostgreSQL 15 is not installed; run: bash scripts/pg-server.sh install"
  [ -f "$vector_control" ] || die "pgvector is not installed; run: bash scripts/pg-server.sh install"
  mkdir -p "$cluster_dir"
  chown postgres: "$cluster_dir"
  chmod 700 "$cluster_dir"
  grant_postgres_traversal
  [ -f "$data_dir/PG_VERSION" ] && return 0
  log "initdb $data_dir"
  rm -rf "$data_dir"
  local initdb_output
  if ! initdb_output="$(as_postgres "$pg_bin/initdb" -D "$data_dir" -U postgres -E UTF8 --locale=C \
    --no-sync --no-instructions --auth-local=trust --auth-host=scram-sha-256 2>&1)"; then
    printf '%s\n' "$initdb_output" >&2
    die 'initdb failed'
  fi
  # Only loopback over TCP, with a password; superuser work goes over the private socket.
  cat >"$data_dir/pg_hba.conf" <<'HBA'
local all all               trust
host  all all 127.0.0.1/32  scram-sha-256
HBA
  # Throwaway test data: durability settings off for speed.
  cat >>"$data_dir/postgresql.conf" <<'CONF'

# scripts/pg-server.sh: a throwaway test cluster
fsync = off
synchronous_commit = off
full_page_writes = off
unix_socket_permissions = 0700
max_connections = 100
CONF
  chown postgres: "$data_dir/pg_hba.conf" "$data_dir/postgresql.conf"
}

ensure_database() {
  admin_sql postgres <<SQL
SELECT 'CREATE ROLE $app_user LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$app_user') \\gexec
ALTER ROLE $app_user LOGIN PASSWORD '$app_password';
SELECT 'CREATE DATABASE $database OWNER $app_user' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$database') \\gexec
SQL
  # As superuser, because pgvector is not a trusted extension: the owner's own migrations then
  # find it and their CREATE EXTENSION IF NOT EXISTS is a no-op.
  admin_sql "$database" -c 'CREATE EXTENSION IF NOT EXISTS vector'
}

command_start() {
  take_lock
  if is_running; then
    ensure_database
    printf '%s\n' "$database_url"
    return 0
  fi
  port_in_use && die "port $port on 127.0.0.1 is taken by another server; set PG_TEST_PORT"
  init_cluster
  mkdir -p "$socket_dir"
  chown postgres: "$socket_dir"
  chmod 700 "$socket_dir"
  log "starting PostgreSQL 15 on 127.0.0.1:$port (log: $log_file)"
  if ! as_postgres "$pg_bin/pg_ctl" start -D "$data_dir" -l "$log_file" -w -t 60 -s \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$socket_dir'" >&2; then
    tail -n 30 "$log_file" >&2 || true
    die 'PostgreSQL did not start'
  fi
  local attempt
  for attempt in $(seq 1 50); do
    "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$port" && break
    [ "$attempt" -eq 50 ] && die 'PostgreSQL is not accepting connections'
    sleep 0.1
  done
  ensure_database
  printf '%s\n' "$database_url"
}

command_stop() {
  take_lock
  if is_running; then
    log 'stopping PostgreSQL'
    as_postgres "$pg_bin/pg_ctl" stop -D "$data_dir" -m fast -w -t 60 -s >&2
  else
    log 'not running'
  fi
}

command_status() {
  if is_running; then
    log "running: $database_url"
  else
    log 'stopped'
    return 1
  fi
}

command_reset_db() {
  take_lock
  is_running || die "not running; run: bash scripts/pg-server.sh start"
  log "recreating database $database"
  admin_sql postgres -c "DROP DATABASE IF EXISTS $database WITH (FORCE)"
  ensure_database
}

case "${1:-}" in
  install) command_install ;;
  start) command_start ;;
  stop) command_stop ;;
  url) printf '%s\n' "$database_url" ;;
  status) command_status ;;
  reset-db) command_reset_db ;;
  *)
    printf 'usage: bash scripts/pg-server.sh install|start|stop|url|status|reset-db\n' >&2
    exit 2
    ;;
esac
