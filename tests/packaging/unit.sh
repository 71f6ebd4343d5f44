#!/bin/sh
# packaging/netacct.service passes `systemd-analyze verify` without a word,
# against a scratch root holding the built binary where the unit expects it
# (/usr/sbin/netacct), and keeps exactly the capabilities README documents.
#   unit.sh SOURCE_DIR NETACCT_BINARY
. "$(dirname "$0")/lib.sh"
src=$1
bin=$2
unit=$src/packaging/netacct.service
need systemd-analyze systemd
[ -d /lib/systemd/system ] || skip "no /lib/systemd/system (the targets verify resolves)"

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/sbin" "$root/etc/systemd/system" "$root/usr/lib/systemd"
ln -s /lib/systemd/system "$root/usr/lib/systemd/system"
cp "$bin" "$root/usr/sbin/netacct"

# verify UNIT_TEXT_FILE: sets out (stdout and stderr) and rc
verify() {
	cp "$1" "$root/etc/systemd/system/netacct.service"
	rc=0
	out=$(systemd-analyze verify --man=no --root="$root" netacct.service 2>&1) || rc=$?
}

verify "$unit"
[ "$rc" -eq 0 ] || fail "systemd-analyze verify exit $rc: $out"
[ -z "$out" ] || fail "systemd-analyze verify printed: $out"

# The check itself must catch a broken unit: a bad value is only a warning
# (exit 0), hence the empty-output requirement above.
sed 's/^Restart=on-failure$/Restart=sometimes/' "$unit" >"$root/bad.service"
verify "$root/bad.service"
case $out in *"Failed to parse service restart specifier"*) ;; *) fail "a bad Restart= went unnoticed: $out" ;; esac

grep -qx 'ExecStart=/usr/sbin/netacct serve $NETACCT_ARGS' "$unit" || fail "ExecStart is not 'netacct serve \$NETACCT_ARGS'"
grep -qx 'EnvironmentFile=-/etc/default/netacct' "$unit" || fail "no optional /etc/default/netacct"
grep -qx 'CapabilityBoundingSet=CAP_BPF CAP_PERFMON CAP_NET_ADMIN CAP_SYS_PTRACE CAP_SETPCAP' "$unit" ||
	fail "the capability set is not the documented one"
[ "$(grep -c '^CapabilityBoundingSet=' "$unit")" -eq 1 ] || fail "more than one CapabilityBoundingSet= line"
echo "ok: unit verified"
