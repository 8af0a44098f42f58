#!/bin/sh
# make install and make uninstall into temporary trees: what lands where,
# that the installed binaries run with the installed config, that a
# changed config survives both, that uninstall leaves no file behind, and
# that systemd-analyze accepts the installed unit (where systemd is).
cd "$(dirname "$0")/../.." || exit 1
. tests/scripts/lib.sh

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
MAKE=${MAKE:-make}

inst() {
	$MAKE -s --no-print-directory BUILD="$PARLEY_BUILD" "$@"
}

installs_and_uninstalls_under_destdir() {
	root=$tmp/destdir
	inst install DESTDIR="$root" >/dev/null || return 1
	for f in usr/local/sbin/parleyd usr/local/bin/parley \
		usr/local/bin/parley-bench usr/local/share/man/man8/parleyd.8 \
		usr/local/share/man/man1/parley.1 \
		usr/local/share/man/man1/parley-bench.1 \
		usr/local/lib/systemd/system/parleyd.service \
		usr/local/etc/parleyd.conf; do
		[ -f "$root/$f" ] || fail "missing $f" || return 1
	done
	[ -x "$root/usr/local/sbin/parleyd" ] || fail "parleyd not executable" ||
		return 1
	n=$(find "$root" -type f | wc -l)
	[ "$n" -eq 8 ] || fail "installed $n files, not 8" || return 1
	cmp -s etc/parleyd.conf "$root/usr/local/etc/parleyd.conf" ||
		fail "installed config differs" || return 1
	unit=$root/usr/local/lib/systemd/system/parleyd.service
	grep -qx 'ExecStart=/usr/local/sbin/parleyd --config /usr/local/etc/parleyd.conf' \
		"$unit" || fail "ExecStart: $(grep ExecStart "$unit")" || return 1
	# The store's database goes in a state directory of its own.
	grep -qx 'StateDirectory=parleyd' "$unit" &&
		grep -qx 'WorkingDirectory=%S/parleyd' "$unit" ||
		fail "no state directory for the store: $(grep Directory "$unit")" ||
		return 1
	grep -q '@' "$unit" && grep '@' "$unit" | grep -v '^#' | grep -q . &&
		fail "unsubstituted: $(grep '@' "$unit")" && return 1
	"$root/usr/local/sbin/parleyd" --version | grep -qx 'parleyd 0.1.0' ||
		fail "installed parleyd --version" || return 1
	# The installed config parses: parleyd gets as far as binding (a bad
	# address: exit 1, not the config error 2).
	"$root/usr/local/sbin/parleyd" --config \
		"$root/usr/local/etc/parleyd.conf" --listen 256.0.0.1:0 \
		>"$tmp/out" 2>&1
	rc=$?
	[ $rc -eq 1 ] || fail "parleyd with the installed config: exit $rc: $(cat "$tmp/out")" ||
		return 1
	inst uninstall DESTDIR="$root" >/dev/null || return 1
	left=$(find "$root" -type f)
	[ -z "$left" ] || fail "uninstall left $left"
}

keeps_a_changed_config() {
	root=$tmp/changed
	inst install DESTDIR="$root" >/dev/null || return 1
	conf=$root/usr/local/etc/parleyd.conf
	echo "max-clients 10" >>"$conf"
	inst install DESTDIR="$root" | grep -q "keeping $conf" ||
		fail "install did not keep the changed config" || return 1
	grep -qx 'max-clients 10' "$conf" || fail "install overwrote it" ||
		return 1
	inst uninstall DESTDIR="$root" | grep -q "keeping $conf" ||
		fail "uninstall did not say it keeps it" || return 1
	left=$(find "$root" -type f)
	[ "$left" = "$conf" ] || fail "left: $left"
}

prefix_usr_puts_the_config_in_etc() {
	root=$tmp/usr
	inst install DESTDIR="$root" PREFIX=/usr >/dev/null || return 1
	[ -f "$root/etc/parleyd.conf" ] || fail "no /etc/parleyd.conf" ||
		return 1
	grep -qx 'ExecStart=/usr/sbin/parleyd --config /etc/parleyd.conf' \
		"$root/usr/lib/systemd/system/parleyd.service" ||
		fail "ExecStart for PREFIX=/usr" || return 1
	inst uninstall DESTDIR="$root" PREFIX=/usr >/dev/null || return 1
	[ -z "$(find "$root" -type f)" ] || fail "uninstall left files"
}

systemd_accepts_the_unit() {
	prefix=$tmp/pfx
	inst install PREFIX="$prefix" >/dev/null || return 1
	# With the installed man page on MANPATH, Documentation= resolves.
	MANPATH=$prefix/share/man systemd-analyze verify \
		"$prefix/lib/systemd/system/parleyd.service" || return 1
	grep -qx 'Type=notify' "$prefix/lib/systemd/system/parleyd.service" ||
		fail "not Type=notify" || return 1
	inst uninstall PREFIX="$prefix" >/dev/null
}

check test_make_install_and_uninstall_under_destdir \
	installs_and_uninstalls_under_destdir
check test_a_changed_config_survives_install_and_uninstall \
	keeps_a_changed_config
check test_prefix_usr_puts_the_config_in_etc prefix_usr_puts_the_config_in_etc
if command -v systemd-analyze >/dev/null 2>&1; then
	check test_systemd_analyze_verify_accepts_the_unit \
		systemd_accepts_the_unit
else
	skip test_systemd_analyze_verify_accepts_the_unit \
		"systemd-analyze is not installed"
fi
summary scripts_install
