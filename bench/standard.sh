#!/bin/sh
# bench/standard.sh: the short standard benchmark matrix ("make bench").
# Runs every workload of bench/workloads.conf against a freshly started
# parleyd, in the fork-per-client model and with --workers 2, and prints a
# table. About 40 s; exits non-zero if any run lost, duplicated,
# reordered or corrupted a message, or could not be done.
#
#   sh bench/standard.sh [BUILD]        BUILD defaults to "build"

PB_DIR=$(cd "$(dirname "$0")" && pwd)
BUILD=${1:-build}
DUR=${PB_DURATION:-2}
RDUR=${PB_RATE_DURATION:-4}
PB_PARLEYD_ARGS=${PB_PARLEYD_ARGS:-}
. "$PB_DIR/lib.sh"

for f in "$BUILD/parleyd" "$BUILD/parley-bench"; do
	[ -x "$f" ] || { pb_log "missing $f: run make first"; exit 2; }
done
# shellcheck disable=SC3045 # dash and bash both have ulimit -n/-H
ulimit -n "$(ulimit -Hn)" 2>/dev/null

pb_log "parley standard benchmark: $(date -u '+%Y-%m-%d %H:%M UTC')," \
    "$(nproc) CPUs, closed loop ${DUR}s, open loop ${RDUR}s"
pb_workloads "$DUR" "$RDUR" >"$PB_TMP/workloads"
while read -r name clients senders args; do
	for server in parley-fork parley-w2; do
		if ! pb_start "$server" "$BUILD"; then
			printf 'parley-bench: label=%s/%s/1 result=ERROR\n' \
			    "$name" "$server" >>"$PB_TMP/results"
			PB_FAILED=1
			continue
		fi
		# shellcheck disable=SC2086 # args is a word list on purpose
		pb_run "$BUILD" "$server" "$name/$server/1" "$clients" \
		    "$senders" $args </dev/null
		pb_stop_server
	done
done <"$PB_TMP/workloads"

echo
pb_table "$PB_TMP/results"
if [ "$PB_FAILED" -ne 0 ]; then
	echo "standard benchmark: FAILED (see the result column)"
	exit 1
fi
echo "standard benchmark: ok"
