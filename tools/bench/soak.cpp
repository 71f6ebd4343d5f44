// netacct_soak: the mixed pressure load (tests/kernel/support/pressure.*)
// in rounds for a given time under one `netacct report --interval 1`,
// sampling netacct's RSS and CPU every 10 s; at the end every process's and
// every logged connection's bytes are checked against the children's own
// counts. Prints a Markdown section for BENCHMARKS.md on stdout, progress
// on stderr; exit 1 when a byte was wrong, the load failed or netacct died.
// Run through tools/bench/soak (root; it builds, takes the kernel-test lock
// and writes the section).
//
//   netacct_soak --seconds 600 [--revision REV]
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/netacct.hpp"
#include "support/netns.hpp"
#include "support/pressure.hpp"
#include "support/tempdir.hpp"

namespace {

using namespace kt;
using namespace kt::pressure;
using Clock = std::chrono::steady_clock;

// One round of the mixed load (about 10 s on a 2-vCPU machine).
constexpr int kSockets = 2000;  // connections held at once (4,000 sockets)
constexpr int kRate = 5000;     // new connections a second ...
constexpr double kRateSeconds = 4;
constexpr int kProcesses = 1000;
constexpr double kForkSeconds = 2;
constexpr double kSampleS = 10;
constexpr double kLateS = 1.5;  // a window longer than this (interval 1 s) is late

struct Sample {
  double t = 0;  // seconds since netacct was ready
  Usage u;
};

struct Done {  // a scenario's end and what it did
  double t = 0;
  Truth what;
};

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string fmt(const char* f, double a, double b = 0, double c = 0) {
  char buf[128];
  std::snprintf(buf, sizeof buf, f, a, b, c);
  return buf;
}

std::string spread(const std::vector<double>& v, const char* f) {
  if (v.empty()) return "-";
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  return fmt(f, median(v)) + " [" + fmt(f, *lo) + ".." + fmt(f, *hi) + "]";
}

std::string utcNow() {
  char buf[64];
  const time_t now = time(nullptr);
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", gmtime(&now));
  return buf;
}

struct Args {
  double seconds = 600;
  std::string revision = "unknown";
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string s = argv[i];
    if (s == "--seconds" && i + 1 < argc) {
      a.seconds = std::atof(argv[++i]);
    } else if (s == "--revision" && i + 1 < argc) {
      a.revision = argv[++i];
    } else {
      std::fprintf(stderr,
                   "netacct_soak: unknown argument %s (usage: --seconds N [--revision R])\n",
                   s.c_str());
      std::exit(2);
    }
  }
  if (a.seconds < 30) {
    std::fprintf(stderr, "netacct_soak: --seconds must be at least 30\n");
    std::exit(2);
  }
  return a;
}

// Samples netacct's usage every kSampleS until stopped.
class Sampler {
 public:
  Sampler(pid_t pid, Clock::time_point t0) : pid_(pid), t0_(t0) {
    thread_ = std::thread([this] { run(); });
  }
  ~Sampler() { stop(); }
  std::vector<Sample> stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    return samples_;
  }

 private:
  void run() {
    std::unique_lock lock(mu_);
    for (int k = 0; !stop_; ++k) {
      samples_.push_back({since(t0_), usageOf(pid_)});
      cv_.wait_until(lock, t0_ + std::chrono::duration<double>(kSampleS * (k + 1)),
                     [this] { return stop_; });
    }
  }
  pid_t pid_;
  Clock::time_point t0_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::vector<Sample> samples_;
  std::thread thread_;
};

// Per minute: RSS at its end, CPU share over it, load done in it, windows.
std::vector<std::string> minuteRows(const std::vector<Sample>& samples,
                                    const std::vector<Done>& done, const std::vector<Window>& w,
                                    const std::vector<double>& window_t, double total,
                                    std::vector<double>& rss_per_min,
                                    std::vector<double>& cpu_per_min) {
  std::vector<std::string> rows;
  const int minutes = int(total / 60 + 0.5);
  for (int m = 0; m < minutes; ++m) {
    const double t0 = 60.0 * m, t1 = 60.0 * (m + 1);
    const Sample* first = nullptr;
    const Sample* last = nullptr;
    for (const auto& s : samples) {
      if (s.t >= t0 - 1 && !first) first = &s;
      if (s.t <= t1 + 1) last = &s;
    }
    if (!first || !last || last->t <= first->t) continue;
    const double cpu = 100 * (last->u.cpu_s - first->u.cpu_s) / (last->t - first->t);
    Truth load;
    for (const auto& d : done)
      if (d.t >= t0 && d.t < t1) load += d.what;
    int windows = 0, late = 0;
    for (size_t i = 0; i < w.size(); ++i)
      if (window_t[i] >= t0 && window_t[i] < t1) {
        ++windows;
        late += w[i].interval_s > kLateS;
      }
    rss_per_min.push_back(last->u.rss_mib);
    cpu_per_min.push_back(cpu);
    rows.push_back("| " + std::to_string(m + 1) + " | " + fmt("%.1f", last->u.rss_mib) + " | " +
                   fmt("%.1f", cpu) + " | " + fmt("%.0f", load.connections / 60.0) + " | " +
                   fmt("%.0f", load.processes / 60.0) + " | " + fmt("%.0f", load.forks / 60.0) +
                   " | " + std::to_string(windows) + " | " + std::to_string(late) + " |");
  }
  return rows;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse(argc, argv);
  if (const std::string why = unavailableReason(); !why.empty()) {
    std::fprintf(stderr, "netacct_soak: cannot run: %s\n", why.c_str());
    return 1;
  }
  const std::string prefix = "na-sk";
  NetnsPair pair;
  const Namespaces net{pair.a(), pair.b()};
  TempDir dir;
  Launcher load(net, dir.path());
  ReportStream stream(prefix);
  Spawn how;
  how.stdout_fd = stream.writeFd();
  Netacct na(NetacctOptions{}, how);
  stream.closeWriteEnd();
  const auto t0 = Clock::now();
  Sampler sampler(na.pid(), t0);
  Truth truth;
  std::vector<Done> done;
  std::string load_error;
  int rounds = 0;
  try {
    while (since(t0) < args.seconds) {
      const std::string tag = prefix + std::to_string(rounds++);
      for (int k = 0; k < 4 && since(t0) < args.seconds; ++k) {
        Truth t = k == 0   ? load.concurrentSockets(tag, kSockets)
                  : k == 1 ? load.connectionRate(tag, kRate, kRateSeconds)
                  : k == 2 ? load.shortLivedProcesses(tag, kProcesses)
                           : load.forkStorm(tag, kForkSeconds);
        done.push_back({since(t0), t});
        truth += t;
      }
      std::fprintf(stderr, "soak: %5.0f s  round %d  %zu windows\n", since(t0), rounds,
                   stream.reports());
    }
  } catch (const std::exception& e) {
    load_error = e.what();
    std::fprintf(stderr, "soak: the load failed: %s\n", e.what());
  }
  const size_t seen = stream.reports();
  for (int i = 0; i < 50 && stream.reports() < seen + 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const double total = since(t0);
  const std::vector<Sample> samples = sampler.stop();
  const NetacctRun stopped = na.stop();
  Tally tally = stream.take();
  const auto wrong = mismatches(truth, tally, prefix);

  // Arrival of each window, from its intervals (netacct's own clock).
  std::vector<double> window_t;
  double t = 0;
  for (const auto& w : tally.windows) window_t.push_back(t += w.interval_s);
  std::vector<double> rss_min, cpu_min;
  const auto rows = minuteRows(samples, done, tally.windows, window_t, total, rss_min, cpu_min);
  std::vector<double> rss, cpu;
  for (size_t i = 0; i < samples.size(); ++i) {
    rss.push_back(samples[i].u.rss_mib);
    if (i > 0)
      cpu.push_back(100 * (samples[i].u.cpu_s - samples[i - 1].u.cpu_s) /
                    (samples[i].t - samples[i - 1].t));
  }
  uint64_t failed = 0, evicted = 0, late = 0;
  for (const auto& w : tally.windows) {
    failed += w.failed_inserts;
    evicted = std::max(evicted, w.evicted);
    late += w.interval_s > kLateS;
  }
  const bool exact = wrong.empty() && tally.errors.empty() && load_error.empty();
  utsname u{};
  uname(&u);

  std::printf("## Soak (`tools/bench/soak`)\n\n");
  std::printf(
      "Generated by `tools/bench/soak --minutes %.0f` (do not edit by hand; rerun it). %s, kernel "
      "%s, %ld CPUs, netacct %s, `netacct report --format json --interval 1` on the host "
      "(`--no-wire`).\n\n",
      total / 60, utcNow().c_str(), u.release, sysconf(_SC_NPROCESSORS_ONLN),
      args.revision.c_str());
  std::printf(
      "The load (tests/kernel/support/pressure.*, the kernel test `Pressure.*` at full size) runs "
      "in rounds between two network namespaces over a veth pair, each round: %d TCP "
      "connections held open at once (%d sockets), each moving its own bytes both ways; new "
      "connections at %d/s for %.0f s (4 paced clients); %d short-lived processes, one UDP "
      "exchange each; a fork storm (forks that exit at once, for %.0f s) while a steady process "
      "sends over one connection. %d rounds in %.1f min. Every child counts its own syscalls' "
      "return values; netacct's rows are summed by (pid, comm) and by connection at the end. "
      "netacct's RSS (VmRSS) and CPU (utime + stime) are read from /proc every %.0f s.\n\n",
      kSockets, 2 * kSockets, kRate, kRateSeconds, kProcesses, kForkSeconds, rounds, total / 60,
      kSampleS);
  std::printf(
      "| minute | RSS MiB (end) | CPU %% of a core | connections/s | processes/s | forks/s | "
      "windows | late (> %.1f s) |\n|---|---|---|---|---|---|---|---|\n",
      kLateS);
  for (const auto& r : rows) std::printf("%s\n", r.c_str());
  std::printf(
      "\n- RSS over the %zu samples: median %s MiB; CPU per %.0f s: median %s %% of a core "
      "(medians [min..max]).\n",
      samples.size(), spread(rss, "%.1f").c_str(), kSampleS, spread(cpu, "%.1f").c_str());
  if (rss_min.size() >= 2)
    std::printf("- Flatness, last minute / first minute: RSS %.3f, CPU %.3f.\n",
                rss_min.back() / rss_min.front(), cpu_min.back() / cpu_min.front());
  std::printf(
      "- Windows: %zu, late %llu (longer than %.1f s); failed inserts %llu, evicted "
      "connections %llu.\n",
      tally.windows.size(), static_cast<unsigned long long>(late), kLateS,
      static_cast<unsigned long long>(failed), static_cast<unsigned long long>(evicted));
  std::printf(
      "- Exactness: %zu processes, %zu connection ends (%llu connections, %llu "
      "short-lived processes, %llu forks): %s.\n",
      truth.procs.size(), truth.conns.size(), static_cast<unsigned long long>(truth.connections),
      static_cast<unsigned long long>(truth.processes),
      static_cast<unsigned long long>(truth.forks),
      exact ? "every one exact" : (std::to_string(wrong.size()) + " wrong").c_str());
  for (size_t i = 0; i < wrong.size() && i < 5; ++i) std::printf("  - %s\n", wrong[i].c_str());
  for (size_t i = 0; i < tally.errors.size() && i < 5; ++i)
    std::printf("  - not a report: %s\n", tally.errors[i].c_str());
  if (!load_error.empty()) std::printf("  - the load failed: %s\n", load_error.c_str());
  if (!stopped.exitedZero())
    std::printf("  - netacct did not exit 0: %s\n", stopped.describe().c_str());
  std::printf("\n");
  return exact && stopped.exitedZero() ? 0 : 1;
}
