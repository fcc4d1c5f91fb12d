#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: initdb + pg_ctl on a free port in a temp dir
# (as the `postgres` user when run as root). Installs Debian's postgresql package when missing.
#
#   eval "$(scripts/pg.sh start)"   # exports MESSAGEDB_TEST_PG_URL and MESSAGEDB_TEST_PG_DIR
#   scripts/pg.sh stop "$MESSAGEDB_TEST_PG_DIR"
set -euo pipefail

find_bin() {
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        [ -x "$dir/pg_ctl" ] && { echo "$dir"; return 0; }
    done
    command -v pg_ctl >/dev/null && { dirname "$(command -v pg_ctl)"; return 0; }
    return 1
}

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
    local bin
    if ! bin=$(find_bin); then
        echo "PostgreSQL not found: installing Debian's postgresql package" >&2
        if [ "$(id -u)" = 0 ]; then
            { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; } >&2
        else
            { sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; } >&2
        fi
        bin=$(find_bin) || { echo "PostgreSQL could not be installed" >&2; exit 1; }
    fi
    local dir port
    dir=$(mktemp -d /tmp/messagedb-pg.XXXXXX)
    chmod 755 "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c max_connections=300" start >&2 \
        || { cat "$dir/server.log" >&2; exit 1; }
    echo "export MESSAGEDB_TEST_PG_URL=postgres://postgres@127.0.0.1:$port/postgres"
    echo "export MESSAGEDB_TEST_PG_DIR=$dir"
}

stop() {
    local dir=$1 bin
    bin=$(find_bin) || exit 0
    [ -d "$dir/data" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}

case "${1:-}" in
    start) start ;;
    stop) stop "${2:?usage: pg.sh stop DIR}" ;;
    *) echo "usage: pg.sh start | stop DIR" >&2; exit 2 ;;
esac
