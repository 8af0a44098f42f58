#!/bin/sh
# The man pages: they render without warnings, and every flag that the
# programs' --help lists (so every config key) is in its page, and every
# flag parleyd.8 documents is one parleyd has. Fails on a merge that adds
# a flag without its page.
cd "$(dirname "$0")/../.." || exit 1
. tests/scripts/lib.sh

# The page's text with roff escapes for dashes and fonts undone.
page_text() {
	sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' "$1"
}

# The long flags a --help output lists.
help_flags() {
	"$PARLEY_BUILD/$1" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u
}

renders_without_warnings() {
	for page in man/parleyd.8 man/parley.1 man/parley-bench.1; do
		if command -v man >/dev/null 2>&1; then
			w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 \
				-l "$page" 2>&1 >/dev/null)
		else
			w=$(groff -ww -man -z "$page" 2>&1)
		fi
		[ -z "$w" ] || fail "$page: $w" || return 1
		if command -v mandoc >/dev/null 2>&1; then
			w=$(mandoc -T lint -W warning "$page" 2>&1)
			[ -z "$w" ] || fail "$page: $w" || return 1
		fi
	done
}

has_every_flag_of_help() {
	prog=$1
	page=$2
	text=$(page_text "$page")
	missing=
	for flag in $(help_flags "$prog"); do
		echo "$text" | grep -qE -- "$flag([^a-z0-9-]|\$)" ||
			missing="$missing $flag"
	done
	[ -z "$missing" ] || fail "$page lacks$missing (from $prog --help)"
}

documents_only_flags_parleyd_has() {
	flags=$(help_flags parleyd)
	extra=
	for flag in $(page_text man/parleyd.8 | grep -E '^\.(B|BI|BR) --' |
		grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
		echo "$flags" | grep -qx -- "$flag" || extra="$extra $flag"
	done
	[ -z "$extra" ] || fail "parleyd.8 documents$extra, which parleyd lacks"
}

has_every_config_key() {
	text=$(page_text man/parleyd.8)
	missing=
	keys=$(sed -n 's/^# \([a-z][a-z0-9-]*\) .*(reload: .*/\1/p' \
		etc/parleyd.conf)
	[ -n "$keys" ] || fail "no keys found in etc/parleyd.conf" || return 1
	for key in $keys; do
		echo "$text" | grep -qE -- "--$key([^a-z0-9-]|\$)" ||
			missing="$missing $key"
	done
	[ -z "$missing" ] || fail "parleyd.8 lacks the keys$missing"
}

has_the_sections() {
	for s in NAME SYNOPSIS DESCRIPTION OPTIONS 'CONFIGURATION FILE' \
		SIGNALS METRICS ENVIRONMENT 'EXIT STATUS' FILES 'SEE ALSO'; do
		grep -qx ".SH $s" man/parleyd.8 || fail "parleyd.8 lacks $s" ||
			return 1
	done
	for page in man/parley.1 man/parley-bench.1; do
		for s in NAME SYNOPSIS OPTIONS 'EXIT STATUS'; do
			grep -qx ".SH $s" "$page" || fail "$page lacks $s" ||
				return 1
		done
	done
}

check test_man_pages_render_without_warnings renders_without_warnings
check test_parleyd_8_has_every_flag_of_parleyd_help \
	has_every_flag_of_help parleyd man/parleyd.8
check test_parley_1_has_every_flag_of_parley_help \
	has_every_flag_of_help parley man/parley.1
check test_parley_bench_1_has_every_flag_of_its_help \
	has_every_flag_of_help parley-bench man/parley-bench.1
check test_parleyd_8_documents_only_flags_parleyd_has \
	documents_only_flags_parleyd_has
check test_parleyd_8_has_every_config_key has_every_config_key
check test_man_pages_have_their_sections has_the_sections
summary scripts_man
