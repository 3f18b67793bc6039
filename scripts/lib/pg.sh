# Shared by scripts/test, scripts/demo and bench/run: a throwaway PostgreSQL 15
# in a temporary directory on a free port. PostgreSQL refuses to run as root,
# so as root it runs as the unprivileged user `sfpg` (created when missing).
# SYNCFORCE_PG_OPTS adds server options (e.g. "-c log_min_duration_statement=0"
# to time every statement); SYNCFORCE_PG_LOG keeps the server log at that path
# when the server stops (the data directory is removed).

PG_BIN=${SYNCFORCE_PG_BIN:-/usr/lib/postgresql/15/bin}

pg_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
    echo $(( 20000 + RANDOM % 20000 ))
}

pg_as() {
  if [[ -n ${PG_RUN_USER:-} ]]; then runuser -u "$PG_RUN_USER" -- "$@"; else "$@"; fi
}

# Starts the server; sets PG_DIR, PG_PORT, PG_RUN_USER.
pg_start_throwaway() {
  PG_RUN_USER=""
  if [[ $(id -u) -eq 0 ]]; then
    PG_RUN_USER=sfpg
    id "$PG_RUN_USER" > /dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_RUN_USER"
  fi
  PG_DIR=$(mktemp -d /tmp/syncforce-pg.XXXXXX)
  [[ -n $PG_RUN_USER ]] && chown "$PG_RUN_USER" "$PG_DIR"
  PG_PORT=$(pg_free_port)
  pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U syncforce --auth=trust -E UTF8 --no-sync > "$PG_DIR/initdb.log" 2>&1 || {
    cat "$PG_DIR/initdb.log" >&2; return 1; }
  pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -w -t 60 -l "$PG_DIR/server.log" \
    -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=400 -c shared_buffers=256MB ${SYNCFORCE_PG_OPTS:-}" \
    start > /dev/null || { cat "$PG_DIR/server.log" >&2; return 1; }
  echo "PostgreSQL 15 on 127.0.0.1:$PG_PORT (data in $PG_DIR)"
}

pg_stop_throwaway() {
  [[ -n ${PG_DIR:-} && -d $PG_DIR ]] || return 0
  pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -w -t 30 -m fast stop > /dev/null 2>&1 || true
  if [[ -n ${SYNCFORCE_PG_LOG:-} ]]; then cp "$PG_DIR/server.log" "$SYNCFORCE_PG_LOG"; fi
  rm -rf "$PG_DIR"
  PG_DIR=""
}
