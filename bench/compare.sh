#!/bin/sh
# bench/compare.sh: parleyd (fork-per-client and --workers 2) against
# ngircd from Debian's packages, same workloads back to back, alternating
# the order, several repetitions; prints every run, the medians and the
# parley/ngircd ratios. ngircd runs in the foreground with its own relaxed
# config under a temp dir (see lib.sh and BENCHMARKS.md). 3-5 minutes.
#
#   sh bench/compare.sh [-b BUILD] [-n REPS] [-o FILE] [-s "SERVERS"]
#                       [-w "WORKLOADS"]
#
# -n repetitions (default 3); -o also write the raw summary lines to FILE;
# -s the servers to compare (default "parley-fork parley-w2 ngircd";
# parley-irc-fork and parley-irc-w2 run the same workloads over parleyd's
# IRC port; parley-db-fork and parley-db-w2 with the store on (a fresh
# --db for each run; the others run --db none); parley-fork-old and
# parley-w2-old run the parleyd of
# PB_OLD_BUILD, for an A/B of two builds);
# -w only these workloads of workloads.conf (default: all of them).
# PB_DURATION / PB_RATE_DURATION set the closed / open loop seconds (2 / 5);
# PB_PARLEYD_ARGS adds parleyd options.

PB_DIR=$(cd "$(dirname "$0")" && pwd)
BUILD=build
REPS=3
OUT=
SERVERS="parley-fork parley-w2 ngircd"
ONLY=
while getopts b:n:o:s:w: opt; do
	case $opt in
	b) BUILD=$OPTARG ;;
	n) REPS=$OPTARG ;;
	o) OUT=$OPTARG ;;
	s) SERVERS=$OPTARG ;;
	w) ONLY=$OPTARG ;;
	*) echo "usage: $0 [-b BUILD] [-n REPS] [-o FILE] [-s SERVERS]" \
	       "[-w WORKLOADS]" >&2
	   exit 2 ;;
	esac
done
DUR=${PB_DURATION:-2}
RDUR=${PB_RATE_DURATION:-5}
PB_PARLEYD_ARGS=${PB_PARLEYD_ARGS:-}
. "$PB_DIR/lib.sh"

for f in "$BUILD/parleyd" "$BUILD/parley-bench"; do
	case $SERVERS in
	*parley*) [ -x "$f" ] || { pb_log "missing $f: run make"; exit 2; } ;;
	*) [ -x "$BUILD/parley-bench" ] || exit 2 ;;
	esac
done

# ngircd from Debian's packages. A freshly installed package may start its
# own service: stop it, we run our own instance.
case $SERVERS in
*ngircd*)
	if ! command -v ngircd >/dev/null 2>&1; then
		SUDO=
		[ "$(id -u)" -eq 0 ] || SUDO=sudo
		pb_log "installing ngircd (apt-get)"
		if ! { $SUDO apt-get update &&
		    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y \
		    ngircd; } >"$PB_TMP/apt.log" 2>&1; then
			tail -5 "$PB_TMP/apt.log" >&2
			exit 2
		fi
		if command -v systemctl >/dev/null 2>&1 &&
		    systemctl is-active --quiet ngircd 2>/dev/null; then
			$SUDO systemctl stop ngircd
		elif [ -x /etc/init.d/ngircd ]; then
			$SUDO /etc/init.d/ngircd stop >/dev/null 2>&1 || :
		fi
	fi
	pb_log "$(ngircd --version 2>/dev/null | head -n 1)"
	;;
esac
# shellcheck disable=SC3045 # dash and bash both have ulimit -n/-H
ulimit -n "$(ulimit -Hn)" 2>/dev/null

pb_log "parley compare: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs," \
    "$REPS repetitions, closed loop ${DUR}s, open loop ${RDUR}s"
pb_workloads "$DUR" "$RDUR" >"$PB_TMP/workloads"
REVERSED=$(echo "$SERVERS" | awk '{ for (i = NF; i > 0; i--) printf "%s ", $i }')
while read -r name clients senders args; do
	case " $ONLY " in
	"  " | *" $name "*) ;;
	*) continue ;;
	esac
	rep=1
	while [ "$rep" -le "$REPS" ]; do
		# Alternate the order so that no server always runs first.
		if [ $((rep % 2)) -eq 1 ]; then order=$SERVERS
		else order=$REVERSED; fi
		for server in $order; do
			if ! pb_start "$server" "$BUILD"; then
				printf 'parley-bench: label=%s/%s/%s result=ERROR\n' \
				    "$name" "$server" "$rep" >>"$PB_TMP/results"
				PB_FAILED=1
				continue
			fi
			# shellcheck disable=SC2086 # a word list on purpose
			pb_run "$BUILD" "$server" "$name/$server/$rep" \
			    "$clients" "$senders" $args </dev/null
			pb_stop_server
		done
		rep=$((rep + 1))
	done
done <"$PB_TMP/workloads"

[ -z "$OUT" ] || cp "$PB_TMP/results" "$OUT"
echo
echo "## every run"
echo
pb_table "$PB_TMP/results"
echo
echo "## medians over $REPS runs, and ratios to ngircd"
echo
pb_medians "$PB_TMP/results"
echo
if [ "$PB_FAILED" -ne 0 ]; then
	echo "compare: some runs FAILED or lost messages (see above)"
	exit 1
fi
echo "compare: every run delivered every message once, in order, intact"
