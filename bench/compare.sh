#!/bin/sh
# bench/compare.sh: parleyd (fork-per-client and --workers 2) against
# ngircd from Debian's packages, same workloads back to back, alternating
# the order, several repetitions; prints every run, the medians and the
# parley/ngircd ratios. ngircd runs in the foreground with its own relaxed
# config under a temp dir (see lib.sh and BENCHMARKS.md). About 10 minutes.
#
#   sh bench/compare.sh [-b BUILD] [-n REPS] [-o FILE] [-s "SERVERS"]
#
# -n repetitions (default 3); -o also write the raw summary lines to FILE;
# -s the servers to compare (default "parley-fork parley-w2 ngircd").
# PB_DURATION / PB_RATE_DURATION set the closed / open loop seconds (2 / 5);
# PB_PARLEYD_ARGS adds parleyd options.

PB_DIR=$(cd "$(dirname "$0")" && pwd)
BUILD=build
REPS=3
OUT=
SERVERS="parley-fork parley-w2 ngircd"
while getopts b:n:o:s: opt; do
	case $opt in
	b) BUILD=$OPTARG ;;
	n) REPS=$OPTARG ;;
	o) OUT=$OPTARG ;;
	s) SERVERS=$OPTARG ;;
	*) echo "usage: $0 [-b BUILD] [-n REPS] [-o FILE] [-s SERVERS]" >&2
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
awk '
function median(key, n, i, j, t, a) {
	n = cnt[key]
	for (i = 1; i <= n; i++) a[i] = val[key, i]
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	if (n == 0) return ""
	return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function add(w, s, k, x) {
	if (x == "") return
	cnt[w, s, k]++
	val[w, s, k, cnt[w, s, k]] = x
}
{
	delete f
	for (i = 2; i <= NF; i++) {
		n = index($i, "=")
		if (n) f[substr($i, 1, n - 1)] = substr($i, n + 1)
	}
	split(f["label"], l, "/")
	w = l[1]; s = l[2]
	if (!(w in seenw)) { seenw[w] = 1; wl[++nw] = w }
	if (!((w, s) in seen)) { seen[w, s] = 1; sl[w, ++ns[w]] = s }
	runs[w, s]++
	if (f["result"] == "ok") ok[w, s]++
	add(w, s, "dps", f["deliveries_per_s"])
	add(w, s, "cpu", f["server_cpu_ns_per_delivery"])
	add(w, s, "p50", f["p50_us"])
	add(w, s, "p99", f["p99_us"])
	add(w, s, "p999", f["p999_us"])
	add(w, s, "bench", f["bench_cpu_pct"])
	add(w, s, "lost", f["lost"] + f["dup"] + f["reorder"] + f["corrupt"] + f["disconnects"])
}
function m(w, s, k) { return median(w SUBSEP s SUBSEP k) }
function ratio(a, b) { return (a != "" && b != "" && b > 0) ? sprintf("%.2fx", a / b) : "-" }
END {
	printf "| %-9s | %-11s | %12s | %9s | %8s | %8s | %8s | %5s | %-7s | %-24s |\n",
	    "workload", "server", "deliveries/s", "cpu ns/d", "p50 ms",
	    "p99 ms", "p99.9 ms", "bench", "ok runs", "vs ngircd: rate cpu p99"
	print "|-----------|-------------|-------------:|----------:|---------:|---------:|---------:|------:|---------|--------------------------|"
	for (i = 1; i <= nw; i++) {
		w = wl[i]
		for (j = 1; j <= ns[w]; j++) {
			s = sl[w, j]
			vs = "-"
			if (s != "ngircd" && ((w, "ngircd") in seen))
				vs = ratio(m(w, s, "dps"), m(w, "ngircd", "dps")) " " \
				    ratio(m(w, s, "cpu"), m(w, "ngircd", "cpu")) " " \
				    ratio(m(w, s, "p99"), m(w, "ngircd", "p99"))
			printf "| %-9s | %-11s | %12.0f | %9.0f | %8.2f | %8.2f | %8.2f | %4.0f%% | %3d/%-3d | %-24s |\n",
			    w, s, m(w, s, "dps"), m(w, s, "cpu"),
			    m(w, s, "p50") / 1000, m(w, s, "p99") / 1000,
			    m(w, s, "p999") / 1000, m(w, s, "bench"),
			    ok[w, s], runs[w, s], vs
		}
	}
}' "$PB_TMP/results"
echo
if [ "$PB_FAILED" -ne 0 ]; then
	echo "compare: some runs FAILED or lost messages (see above)"
	exit 1
fi
echo "compare: every run delivered every message once, in order, intact"
