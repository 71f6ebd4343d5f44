#!/bin/sh
# packaging/netacct.8: groff and man format it without a single warning, it
# documents every command, and every long option that `netacct CMD --help`
# lists (so the page cannot fall behind the binary; serve is checked once
# the binary has it).
#   man.sh SOURCE_DIR NETACCT_BINARY
. "$(dirname "$0")/lib.sh"
page=$1/packaging/netacct.8
bin=$2
need groff groff-base
need man man-db
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# check PAGE: warnings of groff (-ww: all) and man --warnings, in $tmp/err
check() {
	groff -man -ww -z "$1" >"$tmp/err" 2>&1
	LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$1" >"$tmp/out" 2>>"$tmp/err"
}

check "$page"
[ -s "$tmp/err" ] && fail "warnings: $(cat "$tmp/err")"
# The check must catch a broken page (an unknown macro).
{ cat "$page"; echo ".XY not a macro"; } >"$tmp/bad.8"
check "$tmp/bad.8"
grep -q 'XY' "$tmp/err" || fail "an unknown macro went unnoticed"
check "$page"

for section in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS 'EXIT STATUS' ENVIRONMENT FILES 'SEE ALSO'; do
	grep -qx "$section" "$tmp/out" || fail "no $section section"
done
for cmd in report top serve doctor version; do
	grep -q "^ *netacct $cmd" "$tmp/out" || fail "no synopsis for netacct $cmd"
done
for var in NETACCT_DOCKER_ROOT NETACCT_CONTAINERD_ROOT NETACCT_CRIO_ROOT NETACCT_PODMAN_ROOT NETACCT_ARGS; do
	grep -q "^ *$var" "$tmp/out" || fail "$var not in ENVIRONMENT"
done

for cmd in report top doctor serve; do
	"$bin" "$cmd" --help >"$tmp/help" 2>&1 || {
		[ "$cmd" = serve ] && continue # not in this binary yet
		fail "netacct $cmd --help failed"
	}
	for opt in $(grep -o -- '--[a-z][a-z-]*' "$tmp/help" | sort -u); do
		[ "$opt" = --help ] && continue
		grep -q -- "$opt" "$tmp/out" || fail "netacct $cmd $opt is not in the man page"
	done
done
echo "ok: man page"
