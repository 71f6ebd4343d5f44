#!/bin/bash
# Captures the real /proc seeds of corpus/proc_stat, proc_status and
# mountinfo from processes this script starts (nothing of anyone else's):
# a sleep, a process that renamed itself "a) (b c)", a zombie, a process in
# its own PID namespace, a kernel thread; this host's mountinfo, one without
# its cgroup2 line, and one of a private mount namespace whose mount points
# need escaping. Root (for unshare and mount). The other corpora are written
# by hand from README's naming table and tests/unit's fixtures, except
# corpus/dns_answer: DNS answers built with ldns by dns_seeds.cpp (compiled
# and run below). Run again to refresh; commit what it writes.
set -euo pipefail
C=$(cd "$(dirname "$0")" && pwd)/corpus
mkdir -p "$C/proc_stat" "$C/proc_status" "$C/mountinfo"

grab() { # grab NAME PID
  cat "/proc/$2/stat" >"$C/proc_stat/$1"
  cat "/proc/$2/status" >"$C/proc_status/$1"
}

sleep 30 &
grab sleep $!
kill $!

python3 -c 'import ctypes, time; ctypes.CDLL(None).prctl(15, b"a) (b c)", 0, 0, 0); time.sleep(30)' &
until grep -q '(a) (b c))' /proc/$!/stat; do sleep 0.1; done
grab renamed $!
kill $!

# The child "sleep 0" exits and is never reaped: a zombie.
sh -c 'sleep 0 & exec sleep 30' &
sleep 1
grab zombie "$(pgrep -P $! | head -1)"
kill $!

unshare --pid --fork --mount-proc sleep 30 &
sleep 0.5
grab pidns "$(pgrep -P $!)"
kill $!

grab kthreadd 2

cat /proc/self/mountinfo >"$C/mountinfo/host"
grep -v ' - cgroup2 ' /proc/self/mountinfo >"$C/mountinfo/no-cgroup2"
dir='/tmp/netacct seed	dir\x'
mkdir -p "$dir"
# The host's cgroup2 mount is moved there, in a mount namespace of its own.
unshare -m sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; mount -t tmpfs none "$1" &&
  mount -t cgroup2 none "$1" && cat /proc/self/mountinfo' \
  sh "$dir" >"$C/mountinfo/escaped"
rmdir "$dir"

mkdir -p "$C/dns_answer"
seeds=$(mktemp)
trap 'rm -f "$seeds"' EXIT
g++ -std=c++20 "$(dirname "$0")/dns_seeds.cpp" -lldns -o "$seeds"
"$seeds" "$C/dns_answer"
