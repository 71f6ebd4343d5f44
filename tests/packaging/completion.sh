#!/bin/bash
# packaging/netacct.bash-completion: sourced into bash, what Tab offers
# (COMPREPLY) for commands, each command's flags, the values of --format,
# --backend, --tc-attach, --by, and --interface (the interfaces of
# /sys/class/net); and every long option `netacct CMD --help` lists is
# offered for CMD (serve once the binary has it).
#   completion.sh SOURCE_DIR NETACCT_BINARY
. "$(dirname "$0")/lib.sh"
bin=$2
# shellcheck source=/dev/null
source "$1/packaging/netacct.bash-completion" || fail "the completion does not source"
[ "$(complete -p netacct)" = "complete -F _netacct netacct" ] || fail "netacct has no completion function"

# offers 'WORDS TYPED SO FAR' 'EXPECTED REPLY': the last word is completed
offers() {
	read -r -a COMP_WORDS <<<"$1"
	[[ $1 == *" " ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_netacct
	got="${COMPREPLY[*]}"
	[ "$got" = "$2" ] || fail "'$1<TAB>': got '$got', expected '$2'"
}

offers 'netacct ' 'report top serve doctor version'
offers 'netacct re' 'report'
offers 'netacct report --format ' 'text json csv'
offers 'netacct report --format j' 'json'
offers 'netacct doctor --format ' 'text json'
offers 'netacct top --backend ' 'auto tracepoint fentry kprobe'
offers 'netacct serve --tc-attach ' 'auto tcx legacy'
offers 'netacct report --by con' 'connection container'
offers 'netacct serve --p' '--pid-labels --pid'
offers 'netacct serve --max-series ' ''
offers 'netacct serve --user roo' 'root'
offers 'netacct report --interval ' ''
offers 'netacct doctor -' '--format --backend --verbose --help'
offers 'netacct report --no-wire --c' '--count --containers --cgroup'

ifaces=$(ls /sys/class/net | sort | tr '\n' ' ')
ifaces=${ifaces% }
[ -n "$ifaces" ] || skip "no interfaces in /sys/class/net"
read -r -a COMP_WORDS <<<'netacct top --interface'
COMP_WORDS+=("")
COMP_CWORD=3
_netacct
got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ')
[ "${got% }" = "$ifaces" ] || fail "--interface: got '${got% }', expected '$ifaces'"
first=${ifaces%% *}
offers "netacct top --interface ${first:0:1}" "$(printf '%s\n' $ifaces | grep "^${first:0:1}" | tr '\n' ' ' | sed 's/ $//')"

# Every flag of the binary is offered.
for cmd in report top doctor serve; do
	help=$("$bin" "$cmd" --help 2>&1) || {
		[ "$cmd" = serve ] && continue # not in this binary yet
		fail "netacct $cmd --help failed"
	}
	read -r -a COMP_WORDS <<<"netacct $cmd --"
	COMP_CWORD=2
	_netacct
	for opt in $(grep -o -- '--[a-z][a-z-]*' <<<"$help" | sort -u); do
		[[ " ${COMPREPLY[*]} " == *" $opt "* ]] || fail "netacct $cmd $opt is not completed"
	done
done
echo "ok: completion"
