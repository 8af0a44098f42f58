#!/bin/sh
# Runs each test binary given and adds up their "NAME: N passed, N failed"
# lines. Integration tests run once per process model: one process per
# client (the default) and a pool of two workers. Exits non-zero if any
# binary failed.
passed=0
failed=0
bad=""
out=$(mktemp)
trap 'rm -f "$out"' EXIT

run_one() {
	"$@" >"$out" 2>&1
	rc=$?
	cat "$out"
	line=$(grep -E '^[A-Za-z0-9_-]+: [0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1)
	if [ -z "$line" ]; then
		echo "$1: no summary line (exit $rc)"
		failed=$((failed + 1))
		bad="$bad $1"
		return
	fi
	p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
	f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed$/\1/')
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$rc" -ne 0 ]; then
		[ "$f" -eq 0 ] && failed=$((failed + 1))
		bad="$bad $1${PARLEY_TEST_ARGS:+ ($PARLEY_TEST_ARGS)}"
	fi
}

for t in "$@"; do
	case "$t" in
	*/integration/*)
		export PARLEY_TEST_ARGS=""
		run_one "$t"
		export PARLEY_TEST_ARGS="--workers 2"
		run_one "$t"
		unset PARLEY_TEST_ARGS
		;;
	*)
		run_one "$t"
		;;
	esac
done
[ -n "$bad" ] && echo "failing:$bad"
echo "total: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
