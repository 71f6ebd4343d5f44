// Pressure: the load of issue 13 with exact ground truth, shared by the
// kernel test (pressure_test.cpp, reduced) and the soak (tools/bench/soak).
//
// Four scenarios, each run by forked children (support/child.hpp) in the
// two namespaces of a NetnsPair (support/netns.hpp), each child summing its own syscalls'
// return values:
//   concurrentSockets: N TCP connections B -> A all open at once (2N
//     sockets), each moving its own bytes both ways;
//   connectionRate: new TCP connections at a target rate for a duration
//     (several paced clients), each moving its own bytes both ways;
//   shortLivedProcesses: N processes, each one UDP exchange, then exit;
//   forkStorm: forks that exit at once, as fast as one process can, while
//     a steady process moves bytes over one connection.
// Every process is named <tag>-<role> (prctl), so a run's rows are told
// from the host's and from another scenario's even when the fork storm has
// wrapped the PID space (32768 PIDs here): truth is keyed by (pid, comm),
// and short-lived processes stay zombies until their batch ends, so no PID
// is reused within one scenario. Connection truth (local, remote, bytes) is
// written by each child to a file of its own in a directory of the caller.
//
// ReportStream reads `netacct report --format json` from a pipe line by
// line (a 10-minute run prints gigabytes: nothing is kept but the sums of
// the tagged rows and each window's interval and loss). Nothing here uses
// gtest: the test asserts on mismatches(), the soak prints them.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "child.hpp"

namespace kt::pressure {

using ProcKey = std::pair<pid_t, std::string>;                // pid, comm
using ConnKey = std::tuple<pid_t, std::string, std::string>;  // pid, local, remote

struct Truth {
  std::map<ProcKey, Counts> procs;
  std::map<ConnKey, Counts> conns;  // only the connections the scenario logs
  uint64_t connections = 0;         // TCP connections made
  uint64_t processes = 0;           // short-lived processes run
  uint64_t forks = 0;               // fork storm: forks (each exited)
  double seconds = 0;               // the scenario's wall time
  Truth& operator+=(const Truth& o);
};

// The two namespaces of a NetnsPair (server side a, client side b).
struct Namespaces {
  std::string a, b;
};

// `dir`: an existing directory for the children's connection logs (emptied
// of them afterwards).
Truth concurrentSockets(const Namespaces& net, const std::string& tag, const std::string& dir,
                        int connections);
Truth connectionRate(const Namespaces& net, const std::string& tag, const std::string& dir,
                     int per_second, double seconds);
Truth shortLivedProcesses(const Namespaces& net, const std::string& tag, int processes);
Truth forkStorm(const Namespaces& net, const std::string& tag, const std::string& dir,
                double seconds);

// Runs the scenarios above from a small process forked at construction.
// fork() copies the page tables of the process that forks: a test or soak
// process that has read minutes of reports is large (at 70 MiB, 10,000
// forks took two minutes on the 2-vCPU machine instead of seconds). Each
// scenario runs in a fresh fork of the launcher; its Truth comes back
// through a file in `dir`. Construct it first, while the caller is small.
class Launcher {
 public:
  Launcher(Namespaces net, std::string dir);
  ~Launcher();  // the launcher exits (or is killed with its Child)
  Launcher(const Launcher&) = delete;
  Launcher& operator=(const Launcher&) = delete;

  Truth concurrentSockets(const std::string& tag, int connections);
  Truth connectionRate(const std::string& tag, int per_second, double seconds);
  Truth shortLivedProcesses(const std::string& tag, int processes);
  Truth forkStorm(const std::string& tag, double seconds);

 private:
  Truth run(const std::string& kind, const std::string& tag, double x, double y);
  std::string dir_;
  Child child_;
};

// One report's window, as read.
struct Window {
  double interval_s = 0;
  uint64_t evicted = 0, failed_inserts = 0, unattributed_tx = 0, unattributed_rx = 0;
  size_t connection_rows = 0;
};

// What netacct reported for the tagged rows, summed over every report.
struct Tally {
  std::map<ProcKey, Counts> procs;       // processes[]
  std::map<ProcKey, Counts> proc_conns;  // connections[], per process
  std::map<ConnKey, Counts> conns;       // connections[]
  std::vector<Window> windows;
  std::vector<std::string> errors;  // lines that were not a report
  // Adds one line of output; rows whose comm does not start with `prefix`
  // are skipped.
  void add(const std::string& line, const std::string& prefix);
};

// Every difference between what the children counted and what netacct
// reported for comms starting with `prefix`, one line each: a process whose
// process rows or (with `conn_rows`) connection rows differ, a logged
// connection whose row differs or is missing, a tagged row of no process
// of ours.
std::vector<std::string> mismatches(const Truth& truth, const Tally& seen,
                                    const std::string& prefix, bool conn_rows = true);

// Reads netacct's stdout from a pipe: pass writeFd() as Spawn::stdout_fd,
// then closeWriteEnd() once netacct runs.
class ReportStream {
 public:
  explicit ReportStream(std::string prefix);
  ~ReportStream();
  ReportStream(const ReportStream&) = delete;
  ReportStream& operator=(const ReportStream&) = delete;
  int writeFd() const { return write_fd_; }
  void closeWriteEnd();
  size_t reports();  // reports read so far
  Tally take();      // after netacct exited: waits for the end of the stream

 private:
  void run();
  std::string prefix_;
  int read_fd_ = -1, write_fd_ = -1;
  std::mutex mu_;
  Tally tally_;
  std::thread reader_;
};

// A process's resident memory and CPU time, from /proc.
struct Usage {
  double rss_mib = 0;
  double cpu_s = 0;  // utime + stime
};
Usage usageOf(pid_t pid);  // throws when the process is gone

}  // namespace kt::pressure
