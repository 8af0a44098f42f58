#!/bin/sh
# tools/deps.sh: installs what building or testing parley needs and this
# machine lacks, once, from Debian's packages (apt-get) and the npm
# registry, and says what it installs. `make` runs `deps.sh build`,
# `make test` runs `deps.sh test`; on a machine that has everything it
# prints nothing and changes nothing.
#
#   sh tools/deps.sh build|test
#
# Each line of BUILD_DEBS/TEST_DEBS is "PACKAGE PROBE": PROBE is a file
# (or a command on PATH) whose absence means the package is missing.
set -eu
what=${1:-build}

BUILD_DEBS="
libssl-dev /usr/include/openssl/ssl.h
libsqlite3-dev /usr/include/sqlite3.h
libcrypt-dev /usr/include/crypt.h
"
# The last three are the real IRC clients of
# tests/integration/test_irc_clients.c; WeeChat's FIFO plugin, which the
# test drives it through, is in weechat-plugins.
TEST_DEBS="
sqlite3 sqlite3
man-db man
groff-base groff
chromium /usr/bin/chromium
nodejs node
npm npm
openssl openssl
irssi /usr/bin/irssi
weechat-headless /usr/bin/weechat-headless
weechat-plugins /usr/lib/x86_64-linux-gnu/weechat/plugins/fifo.so
"

missing=
check() {
	echo "$1" | while read -r pkg probe; do
		[ -n "$pkg" ] || continue
		case $probe in
		/*) [ -e "$probe" ] && continue ;;
		*) command -v "$probe" >/dev/null 2>&1 && continue ;;
		esac
		echo "$pkg"
	done
}

missing=$(check "$BUILD_DEBS")
[ "$what" = test ] && missing="$missing $(check "$TEST_DEBS")"
missing=$(echo $missing)
if [ -n "$missing" ]; then
	SUDO=
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	echo "deps: installing from Debian's packages: $missing" >&2
	$SUDO apt-get update -qq >/dev/null
	# shellcheck disable=SC2086 # a word list on purpose
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
	    --no-install-recommends $missing >/dev/null
fi
