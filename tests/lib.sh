# Shared by the shell test drivers (sourced after setting TAG):
# tests/vm/vm.sh, tests/fuzz/sanitize.sh, tests/packaging/*.sh.
# A test that cannot run here exits 77, which ctest shows as Skipped
# (SKIP_RETURN_CODE 77), never Passed; with CI=true it fails instead, as a
# kernel test does (a green CI run must mean every test really ran).

log() { echo "$TAG: $*"; }
die() {
	echo "$TAG: error: $*" >&2
	exit 1
}
unavailable() {
	if [ "${CI:-}" = true ]; then
		echo "$TAG: cannot run (CI=true, so this fails): $*" >&2
		exit 1
	fi
	echo "$TAG: SKIP: $*"
	exit 77
}
# need COMMAND PACKAGE: the Debian package that provides a missing COMMAND.
need() { command -v "$1" >/dev/null 2>&1 || unavailable "$1 not found (apt-get install $2)"; }
