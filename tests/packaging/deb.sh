#!/bin/sh
# The .deb, installed on this machine and removed again (root): cpack builds
# it from this build tree; dpkg -i installs it with its Depends satisfied;
# /usr/sbin/netacct doctor (from the installed path) prints what the
# build's netacct doctor prints and exits the same; version matches the
# package's; dpkg -L lists exactly the binary, unit, man page, completion
# and examples; the installed unit verifies with its man page found; then
# dpkg -P leaves none of them. The package is purged however the test ends.
#   deb.sh BUILD_DIR NETACCT_BINARY
. "$(dirname "$0")/lib.sh"
build=$1
bin=$2
[ "$(id -u)" -eq 0 ] || skip "installing a package needs root"
need dpkg dpkg
need cpack cmake
[ -f "$build/CPackConfig.cmake" ] || fail "no $build/CPackConfig.cmake"
maintainer=$(sed -n 's/^set(CPACK_PACKAGE_CONTACT "\(.*\)")$/\1/p' "$build/CPackConfig.cmake")

# A netacct package that is not ours (another maintainer) is never touched.
if dpkg-query -W -f='${Status}' netacct 2>/dev/null | grep -q 'ok installed'; then
	theirs=$(dpkg-query -W -f='${Maintainer}' netacct)
	[ "$theirs" = "$maintainer" ] ||
		fail "a netacct package by '$theirs' is installed; not replacing it (remove it first: dpkg -P netacct)"
	echo "note: netacct $(dpkg-query -W -f='${Version}' netacct) of ours is installed (an earlier run?); it is replaced and purged"
fi

tmp=$(mktemp -d)
installed=0
cleanup() {
	[ "$installed" -eq 1 ] && dpkg_retry -P netacct >/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# dpkg ARGS, waiting up to 120 s for the dpkg lock (other sessions' apt-get).
dpkg_retry() {
	i=0
	while :; do
		rc=0
		dpkg "$@" >"$tmp/dpkg.out" 2>&1 || rc=$?
		grep -q 'lock' "$tmp/dpkg.out" && [ "$rc" -ne 0 ] && [ $i -lt 120 ] || break
		i=$((i + 1))
		sleep 1
	done
	cat "$tmp/dpkg.out"
	return $rc
}

cpack -G DEB -B "$tmp/cpack" --config "$build/CPackConfig.cmake" >"$tmp/cpack.out" 2>&1 ||
	fail "cpack: $(cat "$tmp/cpack.out")"
deb=$(ls "$tmp"/cpack/netacct_*.deb)
version=$(dpkg-deb -f "$deb" Version)
[ "$(dpkg-deb -f "$deb" Section)" = net ] || fail "Section is not net"
dpkg-deb -f "$deb" Depends | grep -q 'libbpf1' || fail "Depends has no libbpf1: $(dpkg-deb -f "$deb" Depends)"

installed=1
dpkg_retry -i "$deb" >"$tmp/install.out" || fail "dpkg -i: $(cat "$tmp/install.out")"
[ "$(dpkg-query -W -f='${Status} ${Version}' netacct)" = "install ok installed $version" ] ||
	fail "not installed and configured: $(dpkg-query -W -f='${Status} ${Version}' netacct)"

cat >"$tmp/files.expected" <<FILES
/usr/lib/systemd/system/netacct.service
/usr/sbin/netacct
/usr/share/bash-completion/completions/netacct
/usr/share/doc/netacct/examples/prometheus/netacct-rules.test.yml
/usr/share/doc/netacct/examples/prometheus/netacct-rules.yml
/usr/share/man/man8/netacct.8.gz
FILES
dpkg -L netacct | while read -r f; do [ -f "$f" ] && echo "$f"; done | sort >"$tmp/files"
diff -u "$tmp/files.expected" "$tmp/files" || fail "dpkg -L netacct lists other files"

[ "$(/usr/sbin/netacct version)" = "netacct $version" ] || fail "version: $(/usr/sbin/netacct version)"

# doctor's probes are loaded and gone within the call, held by doctor
# itself while loaded: a kernel test running meanwhile does not count them
# as its leftovers, so no lock is taken (one here would wait forever under
# a CI run that holds the kernel-test lock around the whole suite).
rc_installed=0
rc_built=0
/usr/sbin/netacct doctor >"$tmp/doctor" 2>&1 || rc_installed=$?
"$bin" doctor >"$tmp/doctor.built" 2>&1 || rc_built=$?
[ "$rc_installed" -eq "$rc_built" ] || fail "installed doctor exit $rc_installed, built $rc_built"
diff -u "$tmp/doctor.built" "$tmp/doctor" || fail "installed doctor prints otherwise"
grep -q '^verdict  *netacct can' "$tmp/doctor" || fail "doctor printed no verdict: $(cat "$tmp/doctor")"

[ "$(man -w 8 netacct)" = /usr/share/man/man8/netacct.8.gz ] || fail "man -w 8 netacct: $(man -w 8 netacct)"
if command -v systemd-analyze >/dev/null; then
	out=$(systemd-analyze verify /usr/lib/systemd/system/netacct.service 2>&1) ||
		fail "systemd-analyze verify (installed): $out"
	[ -z "$out" ] || fail "systemd-analyze verify (installed) printed: $out"
fi
[ "$(bash -c '. /usr/share/bash-completion/completions/netacct && complete -p netacct')" = \
	"complete -F _netacct netacct" ] || fail "the installed completion does not register"

installed=0
dpkg_retry -P netacct >"$tmp/purge.out" || fail "dpkg -P: $(cat "$tmp/purge.out")"
dpkg-query -W -f='${Status}' netacct 2>/dev/null | grep -q 'ok installed' && fail "still installed after dpkg -P"
while read -r f; do [ ! -e "$f" ] || fail "$f left after dpkg -P"; done <"$tmp/files.expected"
echo "ok: netacct $version installed, doctor run from /usr/sbin, purged"
