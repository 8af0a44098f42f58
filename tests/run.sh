#!/bin/sh
# Runs each test binary given, shows its output, and adds up the
# "NAME: N passed, N failed" lines. Exits non-zero if any binary failed.
passed=0
failed=0
bad=""
for t in "$@"; do
	out=$("$t" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	line=$(printf '%s\n' "$out" | grep -E '^[A-Za-z0-9_-]+: [0-9]+ passed, [0-9]+ failed$' | tail -n 1)
	if [ -z "$line" ]; then
		echo "$t: no summary line (exit $rc)"
		failed=$((failed + 1))
		bad="$bad $t"
		continue
	fi
	p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
	f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed$/\1/')
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		failed=$((failed + 1))
	fi
	[ "$rc" -ne 0 ] && bad="$bad $t"
done
[ -n "$bad" ] && echo "failing binaries:$bad"
echo "total: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
