#!/bin/sh
# Runs each libFuzzer binary for SECONDS: first every saved regression input
# in tests/fuzz/regressions/NAME/, then fuzzing from tests/fuzz/corpus/NAME.
# New corpus entries go to a temporary directory (the repo corpus is only
# read); crashes go to BUILD/crashes/. Prints "ok NAME" or "FAIL NAME" per
# target and "fuzz: N passed, N failed"; exits non-zero on any failure.
#
#   sh tests/fuzz/run.sh BUILD SECONDS BIN...
if [ $# -lt 2 ]; then
	echo "usage: $0 BUILD SECONDS BIN..." >&2
	exit 2
fi
build=$1
seconds=$2
shift 2
dir=$(cd "$(dirname "$0")" && pwd)
crashes="$build/crashes"
mkdir -p "$crashes"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

# Longest input per target: enough for the structures each one parses.
max_len_of() {
	case "$1" in
	fuzz_line) echo 4096 ;;
	fuzz_proto_plain) echo 40000 ;;
	fuzz_proto_irc) echo 40000 ;;
	fuzz_channel) echo 8192 ;;
	fuzz_outbox) echo 40000 ;;
	*) echo 4096 ;;
	esac
}

fail() {
	echo "FAIL $1: $2"
	tail -n 40 "$3" | sed 's/^/    /'
	failed=$((failed + 1))
}

for bin in "$@"; do
	name=$(basename "$bin")
	log="$tmp/$name.log"
	regress_failed=0
	corpus="$dir/corpus/$name"
	regress="$dir/regressions/$name"
	if [ ! -x "$bin" ]; then
		echo "FAIL $name: no binary $bin"
		failed=$((failed + 1))
		continue
	fi
	# 1. Saved crashes must stay fixed.
	if [ -d "$regress" ] && [ -n "$(ls -A "$regress" 2>/dev/null)" ]; then
		bad_reg=""
		for f in "$regress"/*; do
			"$bin" -runs=1 "$f" >"$log.reg" 2>&1 ||
				bad_reg="$bad_reg $(basename "$f")"
		done
		if [ -n "$bad_reg" ]; then
			fail "$name" "regression inputs fail:$bad_reg" "$log.reg"
			regress_failed=1
		else
			echo "replayed $name: $(ls -A "$regress" | wc -l) regression inputs"
		fi
	fi
	# 2. Fuzz: new units land in the temp dir, the repo corpus is read.
	# Targets skip input shapes of known, reported bugs while fuzzing
	# (the replay above keeps them visible), to look for new ones.
	work="$tmp/corpus-$name"
	mkdir -p "$work"
	set -- -max_total_time="$seconds" -max_len="$(max_len_of "$name")" \
		-timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$crashes/$name-"
	if [ -d "$corpus" ]; then
		"$bin" "$@" "$work" "$corpus" \
			>"$log" 2>&1
	else
		"$bin" "$@" "$work" >"$log" 2>&1
	fi
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	if [ "$rc" -ne 0 ]; then
		fail "$name" "exit $rc (artifacts in $crashes)" "$log"
		continue
	fi
	if [ "$regress_failed" = 1 ]; then
		echo "   $name fuzzed cleanly (${execs:-?} execs in ${seconds}s) but its regressions fail"
		continue
	fi
	echo "ok $name (${execs:-?} execs in ${seconds}s)"
	passed=$((passed + 1))
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
