#!/bin/sh
# Tests of tools/check-layers on the fixture trees next to this script.
#   run.sh CHECKER CASE     CASE: clean | bad | rules | allowlist | malformed
set -u
checker=$1
case_=$2
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

fail() {
	echo "FAIL ($case_): $*"
	echo "--- stdout"; cat "$out"
	echo "--- stderr"; cat "$err"
	exit 1
}

# run [-a ALLOW] TREE: sets rc
run() {
	rc=0
	sh "$checker" "$@" >"$out" 2>"$err" || rc=$?
}

expect_rc() {
	[ "$rc" -eq "$1" ] || fail "exit $rc, expected $1"
}

expect_stdout() {
	diff -u "$1" "$out" || fail "stdout differs from $1"
}

case $case_ in
clean)
	run "$here/clean"
	expect_rc 0
	[ ! -s "$out" ] || fail "a clean tree printed violations"
	;;
bad)
	run "$here/bad"
	expect_rc 1
	expect_stdout "$here/bad.expected"
	;;
rules)
	run "$here/rules"
	expect_rc 1
	expect_stdout "$here/rules.expected"
	;;
allowlist)
	run -a "$here/bad.allow" "$here/bad"
	expect_rc 0
	[ ! -s "$out" ] || fail "an allowlisted include was reported"
	grep -qx 'check-layers: allowlist entry no longer needed, remove it: user/model/gone.cpp -> resolve/dns.hpp' "$err" ||
		fail "the stale allowlist entry was not named"
	;;
malformed)
	run -a "$here/malformed.allow" "$here/bad"
	expect_rc 2
	;;
*)
	echo "run.sh: unknown case $case_" >&2
	exit 2
	;;
esac
echo "ok ($case_)"
