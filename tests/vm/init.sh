#!/bin/sh
# /init of the netacct qemu guest (tests/vm), run by dash. The initramfs
# holds busybox, the static netacct, kernel test and verifier test binaries,
# iproute2's ip, bpftool, tmux and coreutils' timeout with their libraries,
# and the kernel modules the tests need. Runs the one mode named on the
# kernel command line (netacct.mode=doctor|verifier|auto|fentry|kprobe|exec),
# writes its results to /dev/ttyS1 (a file on the host) between "@@VM"
# marker lines, then powers off. Kernel messages stay on the console (ttyS0).
#
# Other knobs on the command line (no spaces in values):
#   netacct.filter=GTEST_FILTER   run only these kernel tests
#   netacct.scale=N               NETACCT_TEST_TIMEOUT_SCALE (default 10)
#   netacct.timeout=SECONDS       guest-side limit for the test binary
#   netacct.verbose=1             NETACCT_TEST_VERBOSE=1
#   netacct.shard=I/N             run shard I (0-based) of N of the filtered tests
#                                 (gtest's GTEST_SHARD_INDEX/GTEST_TOTAL_SHARDS)

export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb LANG=C

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# Without /dev/console in the archive the kernel started us without stdio.
[ -t 1 ] || exec 0</dev/console 1>/dev/console 2>&1
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
# /tmp and /run stay on the (tmpfs) rootfs: the binaries sit at their host
# paths, which may be under /tmp.
chmod 1777 /tmp
mkdir -p /run/netns
mount -t securityfs securityfs /sys/kernel/security
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing
mount -t bpf bpf /sys/fs/bpf
mount -t cgroup2 cgroup2 /sys/fs/cgroup
hostname netacct-vm
ip link set lo up

# Results channel: raw, so that lines arrive as written.
stty -F /dev/ttyS1 raw -echo 115200 2>/dev/null
exec 3>/dev/ttyS1
say() { echo "$@" >&3; }

MODE=none FILTER= SCALE=10 TIMEOUT=480 VERBOSE= SHARD=
for w in $(cat /proc/cmdline); do
  case "$w" in
    netacct.mode=*) MODE=${w#*=} ;;
    netacct.filter=*) FILTER=${w#*=} ;;
    netacct.scale=*) SCALE=${w#*=} ;;
    netacct.timeout=*) TIMEOUT=${w#*=} ;;
    netacct.verbose=*) VERBOSE=${w#*=} ;;
    netacct.shard=*) SHARD=${w#*=} ;;
  esac
done

say "@@VM begin $MODE $(uname -r)"

# Modules (list written by vm.sh next to this script); busybox modprobe
# resolves their dependencies through modules.dep.
for m in $(cat /etc/netacct-vm/modules); do
  modprobe "$m" || say "@@VM warning: modprobe $m failed"
done

NETACCT=$(cat /etc/netacct-vm/netacct)
KTESTS=$(cat /etc/netacct-vm/ktests)
VTESTS=$(cat /etc/netacct-vm/vtests)
RC=0
case "$MODE" in
  doctor)
    "$NETACCT" doctor >&3 2>&3
    say "@@VM doctor-rc $?"
    json=$("$NETACCT" doctor --format json 2>&3)
    RC=$?
    say "@@VM doctor-json $json"
    ;;
  verifier)
    # Every backend's programs through the verifier, without attaching; the
    # verifier log of a refused load is printed (NETACCT_TEST_VERBOSE).
    export CI=true NETACCT_TEST_VERBOSE=1
    cd /tmp
    timeout -k 10 "$TIMEOUT" "$VTESTS" --gtest_color=no >&3 2>&3
    RC=$?
    ;;
  auto | fentry | kprobe | wire)
    # The wire layer's tests (TC, flows) run once, in a guest of their own
    # (on the kprobe backend, whose sockets the flows join by tuple too):
    # in every guest they would not fit the time a guest has under TCG.
    # SCTP's test (payload and flows; the host kernel has no SCTP) with them.
    # With them: two netacct on one interface (legacy TC on 6.1) and the
    # faults that take interfaces and namespaces away under the wire layer.
    WIRE_TESTS='Wire*:Flows*:Sctp*:Instances*:Faults/FaultsWireTest.*:FaultsTest.Namespaces*'
    # Never in a guest: the exporter (the static build has none), the
    # pressure load (TCG is ~10x slower: it measures the guest, not netacct)
    # and the other faults (a terminal, libfaketime, /proc: no 6.1 kernel
    # path; libfaketime cannot preload into the static binary).
    HOST_ONLY='Serve*:Pressure*:Faults*'
    # `auto` picks fentry on 6.1, so the fentry guest already runs the whole
    # suite on the programs auto loads: auto's own guest proves the choice
    # (every report must name fentry) on exact TCP, UDP and the CLI's stop,
    # not the whole suite a second time (~9 min of a CI core under TCG).
    AUTO_TESTS='Family/TcpTest.*:UdpTest.*:Signal/CliStopTest.*'
    # The kprobe guest leaves out what no backend changes (the fentry guest
    # runs it on 6.1): the command line, output formats and their escaping,
    # stdout errors, top's screens, doctor, capabilities beyond the one test
    # that counts after the drop, reverse DNS, and the DNS name cache (its
    # expiry, bound and parsing; the answer-to-socket join, which differs on
    # kprobe where a socket is named by its address, stays).
    KPROBE_SAME='BadInput/*:StdoutTest.*:Top*:Doctor.*:ReverseDnsTest.*:HostileNames.*'
    KPROBE_SAME="$KPROBE_SAME:RemoteBy.*:ReportFormats.TextAndCsv*:CliTest.EveryReport*"
    KPROBE_SAME="$KPROBE_SAME:PrivilegeTest.TopBatch*:PrivilegeTest.Doctor*:PrivilegeTest.Legacy*"
    KPROBE_SAME="$KPROBE_SAME:DnsNames.Fixture*:DnsNames.Expired*:DnsNames.Flood*"
    KPROBE_SAME="$KPROBE_SAME:DnsNames.Malformed*:DnsNames.ControlCharacters*:DnsNames.NoDnsNames*"
    if [ "$MODE" = wire ]; then
      FILTER=${FILTER:-$WIRE_TESTS}
      MODE=kprobe
    elif [ "$MODE" = auto ]; then
      FILTER=${FILTER:-$AUTO_TESTS}
    elif [ "$MODE" = kprobe ]; then
      FILTER=${FILTER:--$WIRE_TESTS:$HOST_ONLY:$KPROBE_SAME}
    else
      FILTER=${FILTER:--$WIRE_TESTS:$HOST_ONLY}
    fi
    # A share of the tests (tests/vm/CMakeLists.txt: guests run side by side).
    if [ -n "$SHARD" ]; then
      export GTEST_SHARD_INDEX=${SHARD%/*} GTEST_TOTAL_SHARDS=${SHARD#*/}
    fi
    export CI=true NETACCT_TEST_BACKEND=$MODE
    export NETACCT_TEST_TIMEOUT_SCALE=$SCALE
    [ "$MODE" = auto ] && export NETACCT_EXPECT_BACKEND=fentry
    [ -n "$VERBOSE" ] && export NETACCT_TEST_VERBOSE=1
    say "@@VM env CI=$CI NETACCT_TEST_BACKEND=$NETACCT_TEST_BACKEND" \
      "NETACCT_EXPECT_BACKEND=${NETACCT_EXPECT_BACKEND:-}" \
      "NETACCT_TEST_TIMEOUT_SCALE=$SCALE filter=${FILTER:-*} shard=${SHARD:-all}"
    cd /tmp
    timeout -k 10 "$TIMEOUT" "$KTESTS" --gtest_color=no ${FILTER:+--gtest_filter=$FILTER} >&3 2>&3
    RC=$?
    case "$RC" in 124 | 137 | 143) say "@@VM timeout: the kernel tests ran longer than ${TIMEOUT}s in the guest" ;; esac
    ;;
  exec)
    # vm.sh exec 'COMMANDS': debugging, COMMANDS appended to the initramfs.
    export CI=true NETACCT=$NETACCT KTESTS=$KTESTS VTESTS=$VTESTS
    cd /tmp
    sh /etc/netacct-vm/exec >&3 2>&3
    RC=$?
    ;;
  *)
    say "@@VM unknown mode '$MODE'"
    RC=2
    ;;
esac
say "@@VM rc $RC"
say "@@VM dmesg-begin"
dmesg >&3
say "@@VM dmesg-end"
say "@@VM end"
exec 3>&-
sync
poweroff -f
