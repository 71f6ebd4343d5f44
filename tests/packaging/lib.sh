# Shared by the packaging tests (sourced): tests/lib.sh's skip-or-fail
# rule (77, or a failure with CI=true), under this folder's names.
set -u
TAG=packaging
. "$(dirname "$0")/../lib.sh"

skip() { unavailable "$@"; }
fail() { die "$@"; }
