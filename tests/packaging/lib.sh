# Shared by the packaging tests (sourced). A test that cannot run here exits
# 77, which ctest shows as Skipped (SKIP_RETURN_CODE 77), never Passed; with
# CI=true a skip is a failure, as for the kernel tests.
set -u

skip() {
	if [ "${CI:-}" = true ]; then
		echo "FAIL: CI=true and this test cannot run here: $*"
		exit 1
	fi
	echo "SKIP: $*"
	exit 77
}

fail() {
	echo "FAIL: $*"
	exit 1
}

need() {
	command -v "$1" >/dev/null 2>&1 || skip "$1 not found (apt-get install $2)"
}
