#!/usr/bin/env bash
# Sourced by .ci/run and the scripts/test*.sh: one deadline for every step of the test command.
#
# deadline NAME MINUTES COMMAND…: runs COMMAND (stdin from /dev/null) under coreutils `timeout`:
# past MINUTES its processes get SIGTERM, 30 s later SIGKILL, and the step fails (status 124 or 137)
# with a line naming it. `timeout` gives the step a process group of its own (so that it ends all of
# it) and SIGINT's default disposition even when this script was started with SIGINT ignored; as
# that group is not the terminal's, Ctrl-C and SIGTERM reaching this script are passed on to it.
deadline() {
    local name=$1 minutes=$2 pid status forwarded started=$SECONDS
    shift 2
    timeout --kill-after=30s "${minutes}m" "$@" </dev/null &
    pid=$!
    trap "forwarded=1; kill -INT $pid 2>/dev/null || true" INT
    trap "forwarded=1; kill -TERM $pid 2>/dev/null || true" TERM
    while :; do  # `wait` returns early when a trapped signal arrives: wait until the step has ended
        forwarded=0 status=0
        wait "$pid" || status=$?
        [ "$forwarded" = 1 ] || break
    done
    trap - INT TERM
    if [ "$status" = 124 ] || { [ "$status" = 137 ] && [ $((SECONDS - started)) -ge $((minutes * 60)) ]; }; then
        printf '\n== TIMED OUT: step "%s" did not finish within its limit of %s min\n' "$name" "$minutes" >&2
    fi
    return "$status"
}
