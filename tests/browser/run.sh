#!/bin/sh
# tests/browser/run.sh: parley's web client in a real browser, for `make
# test`. Needs Debian's chromium and node (tools/deps.sh test installs
# them); installs playwright-core from package-lock.json with `npm ci` when
# node_modules is missing (never Playwright's own browser download). Ends
# with "browser: N passed, N failed" like every test binary.
dir=$(cd "$(dirname "$0")" && pwd)
build=${PARLEY_BUILD:-build}
case $build in /*) ;; *) build=$(pwd)/$build ;; esac

fail() {
	echo "browser: $1"
	echo "browser: 0 passed, 1 failed"
	exit 1
}

[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium missing (sh tools/deps.sh test installs it)"
command -v node >/dev/null 2>&1 || fail "node missing (sh tools/deps.sh test installs it)"
if [ ! -d "$dir/node_modules/playwright-core" ]; then
	echo "browser: npm ci in tests/browser (playwright-core only)"
	(cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit \
	    --no-fund --loglevel=error) || fail "npm ci failed"
fi
PARLEY_BUILD=$build exec node "$dir/test_web.mjs"
