# tests/scripts/lib.sh: the runner for shell tests, in the shape of
# testlib.h: `check NAME COMMAND...` runs one test, prints "ok NAME" or
# "FAIL NAME" (with what it printed), and `summary SUITE` prints
# "SUITE: N passed, N failed" and sets the exit status.
PARLEY_BUILD=${PARLEY_BUILD:-build}
t_passed=0
t_failed=0
t_out=$(mktemp)

check() {
	name=$1
	shift
	if "$@" >"$t_out" 2>&1; then
		t_passed=$((t_passed + 1))
		echo "ok   $name"
	else
		t_failed=$((t_failed + 1))
		echo "FAIL $name"
		sed 's/^/  /' "$t_out"
	fi
}

# Says why a test cannot run here and counts it as passed (the reason is
# in the output for whoever reads it).
skip() {
	echo "skip $1: $2"
}

fail() {
	echo "$*"
	return 1
}

summary() {
	rm -f "$t_out"
	echo "$1: $t_passed passed, $t_failed failed"
	[ "$t_failed" -eq 0 ]
}
