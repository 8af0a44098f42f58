#!/bin/sh
# bench/store.sh BUILD [MESSAGES] [JOINS]: what the store costs, for
# BENCHMARKS.md: the archiving rate (rows/s) for a burst of MESSAGES
# (default 1,000,000) and the latency of a join with 20 lines of history
# (JOINS of them, default 50), against parleyd with a fresh --db in a
# temporary directory. PB_PARLEYD_ARGS adds parleyd options (--workers 2).
# A benchmark: run it on a quiet machine, not in the tests.
#
#   sh bench/store.sh build               # the real figures
#   sh bench/store.sh build 20000 5       # a functional check: seconds
cd "$(dirname "$0")/.." || exit 2
. bench/lib.sh
build=${1:-build}
messages=${2:-1000000}
joins=${3:-50}
PB_PARLEYD_ARGS=${PB_PARLEYD_ARGS:-}

# shellcheck disable=SC2086 # PB_PARLEYD_ARGS is a word list
pb_start_parleyd "$build" --db "$PB_TMP/store.db" \
    --metrics-listen 127.0.0.1:0 $PB_PARLEYD_ARGS || exit 1
metrics=$(sed -n 's|.*metrics on http://\([^/]*\)/metrics.*|\1|p' \
    "$PB_TMP/parleyd.log" | head -n 1)
[ -n "$metrics" ] || { pb_log "no metrics address in the log"; exit 1; }
"$build/storebench" --messages "$messages" --joins "$joins" \
    --metrics "$metrics" "127.0.0.1:$PB_PORT"
rc=$?
pb_stop_server
[ "$rc" -eq 0 ] || tail -5 "$PB_TMP/parleyd.log" >&2
exit "$rc"
