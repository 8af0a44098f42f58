#!/bin/sh
# bench/callgrind.sh: instructions per delivery, counted by valgrind's
# callgrind over the whole server process tree (supervisor and every
# session), for one or more builds. Instruction counts do not depend on
# what else the machine is doing, so this A/B is repeatable where the
# wall-clock one (compare.sh) is noisy. The server runs under valgrind
# (50x slower), so batches are bigger than in a real run: compare builds
# with each other, never with compare.sh's figures.
#
#   sh bench/callgrind.sh [-m "--workers 1"] [-c CLIENTS] BUILD...
#
# -m the process model's parleyd options ("" for one process per client;
# default "--workers 1"); -c clients, all sending (default 20).
MODEL="--workers 1"
CLIENTS=20
while getopts m:c: opt; do
	case $opt in
	m) MODEL=$OPTARG ;;
	c) CLIENTS=$OPTARG ;;
	*) echo "usage: $0 [-m MODEL] [-c CLIENTS] BUILD..." >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || { echo "usage: $0 [-m MODEL] [-c CLIENTS] BUILD..." >&2; exit 2; }
command -v valgrind >/dev/null || { echo "callgrind.sh: needs valgrind" >&2; exit 2; }
TMP=$(mktemp -d /tmp/parley-cg.XXXXXX) || exit 2
PID=
cleanup() {
	[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

for build in "$@"; do
	rm -f "$TMP"/cg.* "$TMP"/log
	# In a session of its own, as a service manager starts it.
	# shellcheck disable=SC2086 # MODEL is a word list
	setsid valgrind --tool=callgrind --trace-children=yes \
	    --callgrind-out-file="$TMP/cg.%p" "$build/parleyd" \
	    --listen 127.0.0.1:0 --http-listen none --db none --flood-rate 0 \
	    --max-per-address 0 $MODEL \
	    >"$TMP/log" 2>&1 &
	PID=$!
	i=0
	until grep -q 'listening on 127\.0\.0\.1:' "$TMP/log" 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -lt 300 ] || { echo "$build: parleyd did not start" >&2; exit 1; }
		sleep 0.1
	done
	PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$TMP/log" | head -n 1)
	"$build/parley-bench" --no-progress --clients "$CLIENTS" \
	    --senders "$CLIENTS" --window 8 --duration 4 "127.0.0.1:$PORT" \
	    >"$TMP/bench" 2>&1
	kill -TERM "$PID"
	wait "$PID"
	PID=
	d=$(grep -o 'delivered=[0-9]*' "$TMP/bench" | cut -d= -f2)
	ir=0
	for f in "$TMP"/cg.*; do
		n=$(awk '/^summary:/ { print $2 }' "$f")
		ir=$((ir + ${n:-0}))
	done
	[ -n "$d" ] && [ "$d" -gt 0 ] || { echo "$build: no deliveries" >&2; exit 1; }
	echo "callgrind: build=$build model=\"$MODEL\" clients=$CLIENTS delivered=$d instructions=$ir per_delivery=$((ir / d))"
done
