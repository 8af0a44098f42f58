# bench/lib.sh: shell helpers for the parley benchmark scripts (sourced by
# standard.sh and compare.sh). Starts servers on 127.0.0.1 only, waits for
# their readiness line with a deadline, runs parley-bench against them, and
# kills only the processes it started, by pid, on exit or failure.

PB_TMP=$(mktemp -d /tmp/parley-bench.XXXXXX) || exit 2
PB_SERVER_PID=
PB_PORT=
# shellcheck disable=SC2034 # read by the scripts that source this file
PB_FAILED=0

pb_cleanup() {
	pb_stop_server
	rm -rf "$PB_TMP"
}
trap 'pb_cleanup' EXIT
trap 'exit 130' INT TERM

pb_log() {
	printf '%s\n' "$*" >&2
}

# pb_wait_line FILE PATTERN SECONDS: waits until FILE has a line matching
# the grep pattern; fails if the deadline passes or the server died.
pb_wait_line() {
	_i=0
	while [ "$_i" -lt $(($3 * 10)) ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		if [ -n "$PB_SERVER_PID" ] &&
		    ! kill -0 "$PB_SERVER_PID" 2>/dev/null; then
			return 1
		fi
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

pb_stop_server() {
	[ -n "$PB_SERVER_PID" ] || return 0
	kill -TERM "$PB_SERVER_PID" 2>/dev/null
	_i=0
	while kill -0 "$PB_SERVER_PID" 2>/dev/null && [ "$_i" -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	kill -KILL "$PB_SERVER_PID" 2>/dev/null
	wait "$PB_SERVER_PID" 2>/dev/null
	PB_SERVER_PID=
}

# pb_start_parleyd BUILD [parleyd options...]: fresh parleyd on a free
# port (port 0, read back from its "listening on" line). No HTTP port
# unless PB_WS=1: then one on port 0 too, in PB_HTTP_PORT, and pb_run
# connects parley-bench over WebSocket. With PB_IRC=1 it also listens for
# IRC on 127.0.0.1:0 and PB_PORT is that port; else its default IRC port
# stays closed, and so does IRC over TLS (runs must never collide on 6667
# or 6697).
pb_start_parleyd() {
	_build=$1
	shift
	if [ "${PB_WS:-0}" = 1 ]; then
		set -- --http-listen 127.0.0.1:0 "$@"
	else
		set -- --http-listen none "$@"
	fi
	# Nor the TLS and HTTPS ports (5051, 5443) that a certificate in the
	# arguments brings, unless the arguments ask for them.
	case " $* " in
	*" --listen-tls "*) ;;
	*) set -- --listen-tls none "$@" ;;
	esac
	case " $* " in
	*" --https-listen "*) ;;
	*) set -- --https-listen none "$@" ;;
	esac
	case " $* " in
	*" --irc-listen-tls "*) ;;
	*) set -- --irc-listen-tls none "$@" ;;
	esac
	if [ "${PB_IRC:-0}" = 1 ]; then
		set -- --irc-listen 127.0.0.1:0 "$@"
	else
		case " $* " in
		*" --irc-listen "*) ;;
		*) set -- --irc-listen none "$@" ;;
		esac
	fi
	: >"$PB_TMP/parleyd.log"
	# In a session of its own, as a service manager starts it (DESIGN.md
	# section 8): the kernel's autogroup then schedules the server's
	# processes as one group, apart from parley-bench. A background job
	# of a non-interactive shell is no group leader, so setsid execs in
	# place and $! is the server's pid.
	# No database unless the run names one (--db FILE in
	# PB_PARLEYD_ARGS): the default parley.db would outlive the run.
	_db=--db
	_dbv=none
	case " $* " in *" --db "*) _db= _dbv= ;; esac
	setsid "$_build/parleyd" --listen 127.0.0.1:0 --max-clients 2048 \
	    --flood-rate 0 --max-per-address 0 ${_db:+"$_db" "$_dbv"} "$@" \
	    >"$PB_TMP/parleyd.log" 2>&1 &
	PB_SERVER_PID=$!
	if ! pb_wait_line "$PB_TMP/parleyd.log" 'listening on 127\.0\.0\.1:' 10
	then
		pb_log "parleyd did not start:"
		tail -5 "$PB_TMP/parleyd.log" >&2
		pb_stop_server
		return 1
	fi
	if [ "${PB_IRC:-0}" = 1 ]; then
		if ! pb_wait_line "$PB_TMP/parleyd.log" \
		    'listening on 127\.0\.0\.1:[0-9]* (irc over tcp)' 10; then
			pb_log "parleyd did not listen for IRC"
			pb_stop_server
			return 1
		fi
		PB_PORT=$(sed -n \
		    's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\) (irc over tcp).*/\1/p' \
		    "$PB_TMP/parleyd.log" | head -n 1)
		return 0
	fi
	PB_PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' \
	    "$PB_TMP/parleyd.log" | head -n 1)
	[ "${PB_WS:-0}" = 1 ] || return 0
	pb_wait_line "$PB_TMP/parleyd.log" 'listening on 127\.0\.0\.1:.*(http:' 10
	PB_HTTP_PORT=$(sed -n \
	    's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\) (http:.*/\1/p' \
	    "$PB_TMP/parleyd.log" | head -n 1)
}

# A port nobody listens on (checked with ss); the server's own readiness
# line confirms it, and pb_start_ngircd retries on a clash.
pb_pick_port() {
	while :; do
		_p=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 30000))
		ss -Htln "sport = :$_p" 2>/dev/null | grep -q . || break
	done
	echo "$_p"
}

# The relaxed ngircd configuration; BENCHMARKS.md quotes it.
pb_ngircd_conf() {
	cat <<EOF2
[Global]
	Name = bench.parley.test
	Info = parley-bench reference server
	AdminInfo1 = parley-bench
	AdminInfo2 = localhost
	AdminEMail = root@localhost
	Listen = 127.0.0.1
	Ports = $1
	MotdPhrase = "parley-bench"
[Limits]
	MaxConnections = 0
	MaxConnectionsIP = 0
	MaxJoins = 0
	MaxNickLength = 16
	MaxPenaltyTime = 0
	PingTimeout = 600
	PongTimeout = 600
[Options]
	DNS = no
	Ident = no
	PAM = no
EOF2
}

# pb_start_ngircd: ngircd in the foreground with its own config under
# PB_TMP, on 127.0.0.1 and a free port.
pb_start_ngircd() {
	for _try in 1 2 3 4 5; do
		PB_PORT=$(pb_pick_port)
		pb_ngircd_conf "$PB_PORT" >"$PB_TMP/ngircd.conf"
		: >"$PB_TMP/ngircd.log"
		setsid ngircd --nodaemon --config "$PB_TMP/ngircd.conf" \
		    >"$PB_TMP/ngircd.log" 2>&1 &
		PB_SERVER_PID=$!
		pb_wait_line "$PB_TMP/ngircd.log" 'Server .* ready' 10 &&
		    grep -q "Now listening on \[127.0.0.1\]:$PB_PORT" \
		    "$PB_TMP/ngircd.log" && return 0
		pb_stop_server
	done
	pb_log "ngircd did not start:"
	tail -5 "$PB_TMP/ngircd.log" >&2
	return 1
}

# "busy total" CPU ticks of the whole machine, from /proc/stat.
pb_cpu_ticks() {
	awk '/^cpu / { b = $2 + $3 + $4 + $7 + $8 + $9
		print b, b + $5 + $6; exit }' /proc/stat
}

# Waits (up to PB_QUIET_WAIT seconds, default 30) until the machine is
# under 15% busy, so that a run does not share the CPUs with leftovers or
# with someone else's job; other% in the tables shows what remained.
pb_wait_quiet() {
	_n=0
	while [ "$_n" -lt "${PB_QUIET_WAIT:-30}" ]; do
		# shellcheck disable=SC2046 # two numbers
		set -- $(pb_cpu_ticks)
		_b0=$1 _t0=$2
		sleep 0.5
		# shellcheck disable=SC2046
		set -- $(pb_cpu_ticks)
		_busy=$((($1 - _b0) * 100 / ($2 - _t0 + 1)))
		[ "$_busy" -lt 15 ] && return 0
		[ "$_n" -eq 0 ] &&
		    pb_log "waiting for a quiet machine (${_busy}% busy)"
		sleep 0.5
		_n=$((_n + 1))
	done
	pb_log "machine still busy: measuring anyway (see other%)"
}

# pb_start SERVER BUILD: SERVER is parley-fork, parley-w2 or ngircd,
# parley-irc-fork and parley-irc-w2 for parleyd's IRC port, or
# parley-fork-old and parley-w2-old for the parleyd of $PB_OLD_BUILD (an
# A/B comparison of two builds in one run). Stops the server this script
# started before, if any: one at a time.
pb_start() {
	pb_stop_server
	pb_wait_quiet
	# shellcheck disable=SC2086 # PB_PARLEYD_ARGS is a word list
	case $1 in
	parley-fork) pb_start_parleyd "$2" $PB_PARLEYD_ARGS ;;
	parley-w2) pb_start_parleyd "$2" --workers 2 $PB_PARLEYD_ARGS ;;
	parley-irc-fork) PB_IRC=1 pb_start_parleyd "$2" $PB_PARLEYD_ARGS ;;
	parley-irc-w2)
		PB_IRC=1 pb_start_parleyd "$2" --workers 2 $PB_PARLEYD_ARGS ;;
	parley-db-fork | parley-db-w2)
		# The store on, with a fresh database for every run.
		rm -f "$PB_TMP"/bench.db "$PB_TMP"/bench.db-*
		_w=
		[ "$1" = parley-db-w2 ] && _w="--workers 2"
		pb_start_parleyd "$2" --db "$PB_TMP/bench.db" $_w \
		    $PB_PARLEYD_ARGS ;;
	parley-fork-old) pb_start_parleyd "${PB_OLD_BUILD:?}" $PB_PARLEYD_ARGS ;;
	parley-w2-old)
		pb_start_parleyd "${PB_OLD_BUILD:?}" --workers 2 $PB_PARLEYD_ARGS ;;
	ngircd) pb_start_ngircd ;;
	*) pb_log "unknown server $1"; return 1 ;;
	esac
}

# pb_run BUILD SERVER LABEL CLIENTS SENDERS ARGS...: one parley-bench run
# against the running server; appends its summary line to
# $PB_TMP/results. A hard timeout bounds every run.
pb_run() {
	_build=$1 _server=$2 _label=$3 _clients=$4 _senders=$5
	shift 5
	_port=$PB_PORT
	case $_server in
	ngircd | parley-irc-*) set -- --proto irc "$@" ;;
	*)
		if [ "${PB_WS:-0}" = 1 ]; then
			set -- --ws "$@"
			_port=$PB_HTTP_PORT
		fi
		;;
	esac
	timeout 300 "$_build/parley-bench" --no-progress \
	    --server-pid "$PB_SERVER_PID" --label "$_label" \
	    --clients "$_clients" --senders "$_senders" "$@" \
	    "127.0.0.1:$_port" >"$PB_TMP/run.out" 2>"$PB_TMP/run.err"
	_rc=$?
	if grep -q '^parley-bench: ' "$PB_TMP/run.out"; then
		grep '^parley-bench: ' "$PB_TMP/run.out" >>"$PB_TMP/results"
	else
		printf 'parley-bench: label=%s result=ERROR error="%s"\n' \
		    "$_label" "$(tr '\n' ' ' <"$PB_TMP/run.err")" \
		    >>"$PB_TMP/results"
	fi
	# shellcheck disable=SC2034
	[ "$_rc" -eq 0 ] || PB_FAILED=1
	tail -n 1 "$PB_TMP/results" >&2
	return "$_rc"
}

# pb_workloads DUR RDUR: "name clients senders args" lines.
pb_workloads() {
	sed -e 's/#.*//' -e '/^[[:space:]]*$/d' \
	    -e "s/RDUR/$2/g" -e "s/DUR/$1/g" "$PB_DIR/workloads.conf"
}

# pb_table FILE: one row per summary line (label = workload/server/rep).
# srv and bench are the CPU of the server tree and of parley-bench, other
# is what the rest of the machine used meanwhile, in % of one core.
pb_table() {
	awk '
	function v(k) { return (k in f) ? f[k] : "-" }
	function ms(k) { return (k in f) ? sprintf("%.2f", f[k] / 1000) : "-" }
	BEGIN {
		printf "| %-8s | %-11s | %12s | %8s | %7s | %7s | %8s |" \
		    " %4s | %5s | %5s | %-6s |\n", "workload", "server",
		    "deliveries/s", "cpu ns/d", "p50 ms", "p99 ms",
		    "p99.9 ms", "srv%", "bench%", "other%", "result"
		print "|----------|-------------|-------------:|---------:|" \
		    "--------:|--------:|---------:|-----:|-------:|-------:|" \
		    "--------|"
	}
	{
		delete f
		for (i = 2; i <= NF; i++) {
			n = index($i, "=")
			if (n) f[substr($i, 1, n - 1)] = substr($i, n + 1)
		}
		split(v("label"), l, "/")
		printf "| %-8s | %-11s | %12s | %8s | %7s | %7s | %8s |" \
		    " %4s | %6s | %6s | %-6s |\n", l[1], l[2],
		    v("deliveries_per_s"), v("server_cpu_ns_per_delivery"),
		    ms("p50_us"), ms("p99_us"), ms("p999_us"),
		    v("server_cpu_pct"), v("bench_cpu_pct"),
		    v("other_cpu_pct"), v("result")
	}' "$1"
}

# pb_medians FILE: per workload and server, the median of each column over
# the repetitions, and the ratios of each parley model to ngircd.
pb_medians() {
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
		val[w, s, k, cnt[w, s, k]] = x + 0
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
		add(w, s, "srv", f["server_cpu_pct"])
		add(w, s, "bench", f["bench_cpu_pct"])
		add(w, s, "other", f["other_cpu_pct"])
	}
	function m(w, s, k) { return median(w SUBSEP s SUBSEP k) }
	function ratio(a, b) {
		return (a != "" && b != "" && b > 0) ? sprintf("%.2fx", a / b) : "-"
	}
	END {
		printf "| %-8s | %-11s | %12s | %8s | %7s | %7s | %8s | %4s |" \
		    " %6s | %6s | %-4s | %-20s |\n", "workload", "server",
		    "deliveries/s", "cpu ns/d", "p50 ms", "p99 ms", "p99.9 ms",
		    "srv%", "bench%", "other%", "ok", "vs ngircd: rate cpu p99"
		print "|----------|-------------|-------------:|---------:|--------:|" \
		    "--------:|---------:|-----:|-------:|-------:|------|" \
		    "----------------------|"
		for (i = 1; i <= nw; i++) {
			w = wl[i]
			for (j = 1; j <= ns[w]; j++) {
				s = sl[w, j]
				vs = "-"
				if (s != "ngircd" && ((w, "ngircd") in seen))
					vs = ratio(m(w, s, "dps"), m(w, "ngircd", "dps")) \
					    " " ratio(m(w, s, "cpu"), m(w, "ngircd", "cpu")) \
					    " " ratio(m(w, s, "p99"), m(w, "ngircd", "p99"))
				printf "| %-8s | %-11s | %12.0f | %8.0f | %7.2f |" \
				    " %7.2f | %8.2f | %4.0f | %6.0f | %6.0f |" \
				    " %d/%-2d | %-20s |\n", w, s, m(w, s, "dps"),
				    m(w, s, "cpu"), m(w, s, "p50") / 1000,
				    m(w, s, "p99") / 1000, m(w, s, "p999") / 1000,
				    m(w, s, "srv"), m(w, s, "bench"), m(w, s, "other"),
				    ok[w, s], runs[w, s], vs
			}
		}
	}' "$1"
}
