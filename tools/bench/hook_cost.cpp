// netacct_hook_cost: what each kernel hook of the tracepoint backend costs
// per event, measured in one run next to an empty program on the same hook
// (tools/bench/empty_hooks.bpf.c), next to the least a per-socket counter
// costs on the send and receive hooks (tools/bench/floor_hooks.bpf.c: socket
// storage and one atomic add) and, with --old, next to another netacct
// binary (the previous version) counting the same traffic. Each repetition
// attaches one configuration at a time, in rotating order (see phase()).
//
// Then the wire layer (wire_phase()): netacct's TC programs, wire_ingress_tc
// and wire_egress_tc, next to an empty TC program (tools/bench/empty_tc.bpf.c)
// on the same interface, as TCX links and as clsact filters: netacct runs
// inside the sending namespace with --interface on its veth; the empty
// program is attached there the same way.
//
//   sudo flock /tmp/netacct-kernel.lock build/tools/bench/netacct_hook_cost
//       [--old PATH] [--new PATH] [--repeat N] [--only hooks|wire] [--tc-attach tcx|legacy]
//
// kernel.bpf_stats (BPF_ENABLE_STATS, for as long as this runs) gives every
// program's run count and run time; they are read around each traffic phase,
// and each hook's ns per run is the median over the repetitions. Enabling the
// stats itself costs (two clock reads per run): every ns figure is one with
// the stats on. Traffic runs over loopback and over a veth pair between two
// network namespaces that the tool makes and removes, however it ends (a
// child process removes them when this one is gone; every netacct it starts
// gets SIGINT when it ends): nothing touches the machine's own interfaces.
// HOOK_COST_DEBUG=1 prints each wire run (runs, ns per run) to stderr.
// It does not take the kernel-test lock itself (tools/bench/compare, which
// runs it, holds it): run it under flock.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "empty_hooks.skel.h"
#include "empty_tc.skel.h"
#include "floor_hooks.skel.h"
#include "resolve/cgroup.hpp"

namespace {

// Hooks in the order printed; programs are told apart by name (the kernel
// keeps 15 characters of it) and by which run loaded them.
const std::vector<std::string> kHooks = {
    "sock_send_length", "sock_recv_length", "tcp_rcv_space_adjust", "inet_sock_set_state",
    "net_dev_queue",    "dgram_ingress",    "sched_process_exec"};

std::string hookOf(const std::string& prog_name) {
  for (const auto& h : kHooks)
    if (prog_name.compare(0, std::min<size_t>(15, h.size()), h, 0, 15) == 0) return h;
  return "";
}

struct ProgStat {
  uint64_t ns = 0, runs = 0;
};

std::set<uint32_t> progIds() {
  std::set<uint32_t> ids;
  uint32_t id = 0;
  while (bpf_prog_get_next_id(id, &id) == 0) ids.insert(id);
  return ids;
}

// hook -> summed stats of the programs `ids` has on it (`key` names a
// program's hook, empty for one that is none of them).
std::map<std::string, ProgStat> statsOf(const std::set<uint32_t>& ids,
                                        std::string (*key)(const std::string&) = hookOf) {
  std::map<std::string, ProgStat> out;
  for (uint32_t id : ids) {
    int fd = bpf_prog_get_fd_by_id(id);
    if (fd < 0) continue;
    bpf_prog_info info{};
    uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) {
      std::string hook = key(info.name);
      if (!hook.empty()) {
        out[hook].ns += info.run_time_ns;
        out[hook].runs += info.run_cnt;
      }
    }
    close(fd);
  }
  return out;
}

std::set<uint32_t> minus(const std::set<uint32_t>& a, const std::set<uint32_t>& b) {
  std::set<uint32_t> out;
  for (uint32_t x : a)
    if (!b.count(x)) out.insert(x);
  return out;
}

void run(const std::string& cmd) {
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("failed: " + cmd);
}

// Whether this netacct build has the wire layer (and so --no-wire).
bool has_wire_layer(const std::string& path) {
  std::string cmd = "'" + path + "' report --help 2>/dev/null";
  FILE* f = popen(cmd.c_str(), "r");
  if (!f) return false;
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, f)) out.append(buf, n);
  pclose(f);
  return out.find("--no-wire") != std::string::npos;
}

// The arguments of a netacct run on the host: the tracepoint backend, and no
// TC classifier on the machine's own interfaces (a build older than the wire
// layer has no such flag, and none to skip).
std::vector<std::string> host_args(const std::string& path) {
  std::vector<std::string> args = {"report", "--interval", "3600",      "--format",
                                   "json",   "--backend",  "tracepoint"};
  if (has_wire_layer(path)) args.push_back("--no-wire");
  return args;
}

// A netacct binary counting everything until stopped: `args` after its path,
// inside network namespace `netns` (a name under /run/netns) when one is
// given. It gets SIGINT when this process ends, however it ends.
class NetacctProc {
 public:
  NetacctProc(const std::string& path, const std::vector<std::string>& args,
              const std::string& netns = "") {
    log_ = "/tmp/netacct-hook-cost." + std::to_string(getpid()) + "." + std::to_string(n_++);
    std::vector<std::string> all = {path};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string ns_path = netns.empty() ? "" : "/run/netns/" + netns;
    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGINT);
      if (getppid() != parent) _exit(1);
      int out = open("/dev/null", O_WRONLY);
      int err = open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      dup2(out, 1);
      dup2(err, 2);
      if (!ns_path.empty()) {
        int fd = open(ns_path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
          dprintf(2, "setns %s: %s\n", ns_path.c_str(), strerror(errno));
          _exit(126);
        }
      }
      execv(path.c_str(), argv.data());
      _exit(127);
    }
    std::string text;
    for (int i = 0; i < 200; ++i) {
      std::ifstream in(log_);
      std::stringstream ss;
      ss << in.rdbuf();
      text = ss.str();
      if (text.find("ready") != std::string::npos) return;
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (pid_ > 0) {
      kill(pid_, SIGINT);
      waitpid(pid_, nullptr, 0);
    }
    throw std::runtime_error(path + " did not get ready (" + log_ +
                             "): " + text.substr(0, text.find('\n')));
  }
  ~NetacctProc() {
    kill(pid_, SIGINT);
    waitpid(pid_, nullptr, 0);
    unlink(log_.c_str());
  }

 private:
  static inline int n_ = 0;
  pid_t pid_ = -1;
  std::string log_;
};

// Removes the namespaces `names` once this process has ended, however it
// ends (an exception, a signal, SIGKILL): a child in a session of its own,
// deaf to stop signals, waits for EOF on a pipe whose write end only this
// process holds (close-on-exec: netacct and /bin/true do not inherit it).
void reap_at_exit(const std::vector<std::string>& names) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork");
  if (pid == 0) {
    setsid();
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE}) signal(sig, SIG_IGN);
    int null = open("/dev/null", O_RDWR);
    for (int fd = 0; fd < 3; ++fd) dup2(null, fd);
    dup2(p[0], 3);
    close_range(4, ~0u, 0);  // nothing of the parent's (the stats fd, BPF objects)
    char c;
    while (read(3, &c, 1) != 0) {
    }
    for (const auto& n : names) std::system(("ip netns del " + n + " 2>/dev/null").c_str());
    _exit(0);
  }
  close(p[0]);  // p[1] stays open for as long as this process lives
}

// Two namespaces joined by a veth pair: A 10.214.0.1, B 10.214.0.2.
class Netns {
 public:
  Netns()
      : a_("na-hc" + std::to_string(getpid()) + "a"), b_("na-hc" + std::to_string(getpid()) + "b") {
    reap_at_exit({a_, b_});
    run("ip netns add " + a_ + " && ip netns add " + b_);
    run("ip -n " + a_ + " link add hc0 type veth peer name hc1 netns " + b_);
    run("ip -n " + a_ + " addr add 10.214.0.1/24 dev hc0 && ip -n " + a_ + " link set hc0 up");
    run("ip -n " + b_ + " addr add 10.214.0.2/24 dev hc1 && ip -n " + b_ + " link set hc1 up");
    run("ip -n " + a_ + " link set lo up && ip -n " + b_ + " link set lo up");
  }
  ~Netns() {
    std::system(("ip netns del " + a_ + " 2>/dev/null").c_str());
    std::system(("ip netns del " + b_ + " 2>/dev/null").c_str());
  }
  // Runs fn on a thread inside namespace ns and waits for it (its error
  // rethrown here).
  static void inside(const std::string& ns, const std::function<void()>& fn) {
    std::exception_ptr error;
    std::thread t([&] {
      try {
        int fd = open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0 || setns(fd, CLONE_NEWNET) != 0)
          throw std::runtime_error("setns " + ns + ": " + strerror(errno));
        close(fd);
        fn();
      } catch (...) {
        error = std::current_exception();
      }
    });
    t.join();
    if (error) std::rethrow_exception(error);
  }
  // Runs fn on a thread inside namespace ns.
  static std::thread in(const std::string& ns, std::function<void()> fn) {
    return std::thread([ns, fn] {
      int fd = open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) throw std::runtime_error("setns " + ns);
      close(fd);
      fn();
    });
  }
  const std::string& a() const { return a_; }
  const std::string& b() const { return b_; }

 private:
  std::string a_, b_;
};

sockaddr_in addr4(const char* ip, uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  inet_pton(AF_INET, ip, &sa.sin_addr);
  return sa;
}

constexpr uint16_t kPort = 47123;

// Pins the calling thread to `cpu` (none when negative).
void pin(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof set, &set);
}

// The server's and the client's CPU (none: where the scheduler puts them).
struct Cpus {
  int server = -1, client = -1;
};

void tcpStream(const Netns& net, const std::string& srv_ns, const char* ip, uint64_t bytes,
               Cpus cpus = {}) {
  int ready[2];
  if (pipe(ready) != 0) throw std::runtime_error("pipe");
  auto server = Netns::in(srv_ns, [&] {
    pin(cpus.server);
    int l = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in sa = addr4(ip, kPort);
    bind(l, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    listen(l, 1);
    write(ready[1], "r", 1);
    int c = accept(l, nullptr, nullptr);
    std::vector<char> buf(64 * 1024);
    while (read(c, buf.data(), buf.size()) > 0) {
    }
    close(c);
    close(l);
  });
  char r;
  read(ready[0], &r, 1);
  const std::string cli_ns = std::string(ip) == "127.0.0.1" ? srv_ns : net.b();
  auto client = Netns::in(cli_ns, [&] {
    pin(cpus.client);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa = addr4(ip, kPort);
    connect(s, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    std::vector<char> buf(64 * 1024, 'x');
    for (uint64_t sent = 0; sent < bytes;) {
      ssize_t n = write(s, buf.data(), buf.size());
      if (n <= 0) break;
      sent += n;
    }
    close(s);
  });
  client.join();
  server.join();
  close(ready[0]);
  close(ready[1]);
}

// Unconnected 64-byte request/response, the client's socket unbound.
void udpRoundTrips(const Netns& net, const std::string& srv_ns, const char* ip, int count,
                   Cpus cpus = {}) {
  int ready[2];
  if (pipe(ready) != 0) throw std::runtime_error("pipe");
  auto server = Netns::in(srv_ns, [&] {
    pin(cpus.server);
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in sa = addr4(ip, kPort);
    bind(s, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    write(ready[1], "r", 1);
    char buf[64];
    for (int i = 0; i < count; ++i) {
      sockaddr_storage from{};
      socklen_t fl = sizeof from;
      ssize_t n = recvfrom(s, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &fl);
      sendto(s, buf, n > 0 ? n : 0, 0, reinterpret_cast<sockaddr*>(&from), fl);
    }
    close(s);
  });
  char r;
  read(ready[0], &r, 1);
  const std::string cli_ns = std::string(ip) == "127.0.0.1" ? srv_ns : net.b();
  auto client = Netns::in(cli_ns, [&] {
    pin(cpus.client);
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in sa = addr4(ip, kPort);
    char buf[64] = {};
    for (int i = 0; i < count; ++i) {
      sendto(s, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
      recv(s, buf, sizeof buf, 0);
    }
    close(s);
  });
  client.join();
  server.join();
  close(ready[0]);
  close(ready[1]);
}

void execs(int count) {
  for (int i = 0; i < count; ++i) {
    pid_t p = fork();
    if (p == 0) {
      execl("/bin/true", "true", nullptr);
      _exit(127);
    }
    waitpid(p, nullptr, 0);
  }
}

// One configuration measured: what it attaches (start() returns the ids of
// its programs), and how it detaches (stop()).
struct Config {
  std::string name;
  std::function<std::set<uint32_t>()> start;
  std::function<void()> stop;
};

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Each repetition attaches one configuration at a time, in an order that
// rotates from one repetition to the next. (Programs on one hook run one
// after the other on each event; the later ones find the socket's and the
// task's cache lines loaded by the earlier, which made the last one attached
// look 20-40 ns cheaper.)
void phase(const std::string& title, const std::vector<Config>& configs, int repeat,
           const std::function<void()>& traffic) {
  // config -> hook -> ns/run of each repetition; and runs of the last one
  std::map<std::string, std::map<std::string, std::vector<double>>> ns;
  std::map<std::string, std::map<std::string, uint64_t>> runs;
  for (int i = 0; i < repeat; ++i) {
    for (size_t j = 0; j < configs.size(); ++j) {
      const Config& c = configs[(i + j) % configs.size()];
      std::set<uint32_t> ids = c.start();
      auto before = statsOf(ids);
      traffic();
      for (const auto& [hook, after] : statsOf(ids)) {
        const ProgStat& b = before[hook];
        uint64_t r = after.runs - b.runs;
        if (r == 0) continue;
        ns[c.name][hook].push_back(double(after.ns - b.ns) / double(r));
        runs[c.name][hook] = r;
      }
      c.stop();
    }
  }
  std::printf("\n%s\n%-22s", title.c_str(), "hook");
  for (const auto& c : configs) std::printf(" %10s", (c.name + " ns").c_str());
  std::printf(" %9s %11s %12s\n", "new/empty", "floor/empty", "runs (new)");
  for (const auto& hook : kHooks) {
    if (!ns["new"].count(hook) && !ns["empty"].count(hook)) continue;
    std::printf("%-22s", hook.c_str());
    for (const auto& c : configs) {
      auto it = ns[c.name].find(hook);
      if (it == ns[c.name].end())
        std::printf(" %10s", "-");
      else
        std::printf(" %10.1f", median(it->second));
    }
    double e = median(ns["empty"][hook]), n = median(ns["new"][hook]);
    double f = median(ns["floor"][hook]);
    std::printf(" %9.2f", e > 0 ? n / e : 0.0);
    if (f > 0 && e > 0)
      std::printf(" %11.2f", f / e);
    else
      std::printf(" %11s", "-");
    std::printf(" %12llu\n", (unsigned long long)runs["new"][hook]);
  }
}

// The ids of an object's loaded programs.
std::set<uint32_t> ids_of(bpf_object* obj) {
  std::set<uint32_t> ids;
  bpf_program* prog;
  bpf_object__for_each_program(prog, obj) {
    bpf_prog_info info{};
    uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) == 0) ids.insert(info.id);
  }
  return ids;
}

// A netacct binary as a configuration: started for each measurement.
Config netacct_config(const std::string& name, const std::string& path) {
  auto proc = std::make_shared<std::unique_ptr<NetacctProc>>();
  return {name,
          [proc, path] {
            std::set<uint32_t> before = progIds();
            *proc = std::make_unique<NetacctProc>(path, host_args(path));
            return minus(progIds(), before);
          },
          [proc] { proc->reset(); }};
}

// ---- the wire layer: netacct's TC programs against an empty TC program -----

// enum bpf_attach_type values of Linux 6.6 (uapi/linux/bpf.h), which Debian
// 12's headers and libbpf 1.1 predate; the kernel ABI never renumbers them.
constexpr int kTcxIngress = 46, kTcxEgress = 47;
// The empty program's clsact filters: a handle and priority of their own
// ("hc"; netacct's band starts at 0x6e61).
constexpr uint32_t kEmptyHandle = 0x6863, kEmptyPrio = 1;
constexpr const char* kDirs[2] = {"ingress", "egress"};

// libbpf's messages, less the kernel's note on each clsact made before (the
// empty program's filters go where netacct already made clsact: expected).
int libbpf_print(enum libbpf_print_level level, const char* fmt, va_list args) {
  if (level == LIBBPF_DEBUG || std::strstr(fmt, "Kernel error message") != nullptr) return 0;
  return std::vfprintf(stderr, fmt, args);
}

// Asking which TCX programs loopback has fails where the kernel has no TCX.
bool kernel_has_tcx() {
  uint32_t count = 0;
  return bpf_prog_query(1, bpf_attach_type(kTcxIngress), 0, nullptr, nullptr, &count) == 0;
}

// "ingress" or "egress" for netacct's TC programs and the empty ones.
std::string tcDirOf(const std::string& name) {
  if (name == "wire_ingress_tc" || name == "ingress_empty" || name == "ingress_floor")
    return kDirs[0];
  if (name == "wire_egress_tc" || name == "egress_empty" || name == "egress_floor") return kDirs[1];
  return "";
}

bpf_tc_hook tcHook(int ifindex, int dir) {
  bpf_tc_hook h{};
  h.sz = sizeof h;
  h.ifindex = ifindex;
  h.attach_point = dir == 0 ? BPF_TC_INGRESS : BPF_TC_EGRESS;
  return h;
}

bpf_tc_opts tcOpts() {
  bpf_tc_opts o{};
  o.sz = sizeof o;
  o.handle = kEmptyHandle;
  o.priority = kEmptyPrio;
  return o;
}

// The program ids on `dev`'s TCX hook of direction dir, in namespace ns.
std::set<uint32_t> tcxProgs(const std::string& ns, const std::string& dev, int dir) {
  std::set<uint32_t> out;
  Netns::inside(ns, [&] {
    uint32_t ids[64] = {}, count = 64;
    int ifindex = int(if_nametoindex(dev.c_str()));
    if (ifindex && bpf_prog_query(ifindex, bpf_attach_type(dir == 0 ? kTcxIngress : kTcxEgress), 0,
                                  nullptr, ids, &count) == 0)
      out.insert(ids, ids + count);
  });
  return out;
}

// Removes the clsact qdisc from `dev` in namespace `ns`: netacct keeps the
// one it made, and each configuration is to start from the same state (none).
void dropClsact(const std::string& ns, const std::string& dev) {
  Netns::inside(ns, [&] {
    bpf_tc_hook h = tcHook(int(if_nametoindex(dev.c_str())), 0);
    h.attach_point = bpf_tc_attach_point(BPF_TC_INGRESS | BPF_TC_EGRESS);
    bpf_tc_hook_destroy(&h);  // fails harmlessly where there is none
  });
}

// The empty TC program (or the per-flow floor) on ingress and egress of
// `dev` in namespace `ns`: two TCX links, or two direct-action filters under
// clsact.
class EmptyTc {
 public:
  EmptyTc(empty_tc_bpf* skel, std::string ns, std::string dev, bool tcx, bool floor = false)
      : skel_(skel), ns_(std::move(ns)), dev_(std::move(dev)), tcx_(tcx), floor_(floor) {}
  ~EmptyTc() {
    try {
      detach();
    } catch (const std::exception&) {
    }
  }
  std::set<uint32_t> attach() {
    Netns::inside(ns_, [&] {
      ifindex_ = int(if_nametoindex(dev_.c_str()));
      if (!ifindex_) throw std::runtime_error("no interface " + dev_ + " in " + ns_);
      for (int dir = 0; dir < 2; ++dir) {
        bpf_program* p = floor_
                             ? (dir == 0 ? skel_->progs.ingress_floor : skel_->progs.egress_floor)
                             : (dir == 0 ? skel_->progs.ingress_empty : skel_->progs.egress_empty);
        int prog = bpf_program__fd(p);
        const auto t0 = std::chrono::steady_clock::now();
        if (tcx_) {
          int fd = bpf_link_create(prog, ifindex_,
                                   bpf_attach_type(dir == 0 ? kTcxIngress : kTcxEgress), nullptr);
          if (fd < 0) throw std::runtime_error("TCX link on " + dev_ + ": " + strerror(-fd));
          links_[dir] = fd;
        } else {
          bpf_tc_hook h = tcHook(ifindex_, dir);
          int err = bpf_tc_hook_create(&h);  // clsact, kept (netacct keeps it too)
          if (err && err != -EEXIST)
            throw std::runtime_error("clsact on " + dev_ + ": " + strerror(-err));
          bpf_tc_opts o = tcOpts();
          o.prog_fd = prog;
          if ((err = bpf_tc_attach(&h, &o)))
            throw std::runtime_error("tc filter on " + dev_ + ": " + strerror(-err));
          filters_[dir] = true;
        }
        attach_ms_.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count());
      }
    });
    return ids_of(skel_->obj);
  }
  // How long each attach took (one TCX link, or one filter with its clsact).
  const std::vector<double>& attach_ms() const { return attach_ms_; }
  bool tcx() const { return tcx_; }
  void detach() {
    for (int& fd : links_)
      if (fd >= 0) close(std::exchange(fd, -1));
    if (!filters_[0] && !filters_[1]) return;
    Netns::inside(ns_, [&] {
      for (int dir = 0; dir < 2; ++dir) {
        if (!filters_[dir]) continue;
        bpf_tc_hook h = tcHook(ifindex_, dir);
        bpf_tc_opts o = tcOpts();
        bpf_tc_detach(&h, &o);
        filters_[dir] = false;
      }
    });
  }

 private:
  empty_tc_bpf* skel_;
  std::string ns_, dev_;
  bool tcx_, floor_;
  int ifindex_ = 0;
  int links_[2] = {-1, -1};
  bool filters_[2] = {false, false};
  std::vector<double> attach_ms_;
};

// One wire configuration: the empty program or netacct, attached as TCX
// links ("tcx") or clsact filters ("legacy").
struct WireConfig {
  std::string role, mode;
  std::function<std::set<uint32_t>()> start;
  std::function<void()> stop;
};

std::string nsSpread(const std::vector<double>& v, int width) {
  if (v.empty()) return std::string(width - 1, ' ') + "-";
  char buf[96];
  std::snprintf(buf, sizeof buf, "%.1f [%.1f..%.1f]", median(v),
                *std::min_element(v.begin(), v.end()), *std::max_element(v.begin(), v.end()));
  std::string s = buf;
  return std::string(std::max(0, width - int(s.size())), ' ') + s;
}

struct WireVerdict {
  std::string what;
  double ratio;
};

// Like phase(): every repetition runs every configuration once, alone, in an
// order that rotates; per TC program, the median ns per run of each
// configuration with its spread over the repetitions, the ratio of the
// medians (the target's figure) and each repetition's own ratio (netacct's
// run over the empty program's run of the same repetition).
void wire_phase(const std::string& title, const std::vector<WireConfig>& configs, int repeat,
                const std::function<void()>& traffic, std::vector<WireVerdict>& verdicts) {
  // mode -> role -> dir -> ns/run of each repetition; and runs
  std::map<std::string, std::map<std::string, std::map<std::string, std::vector<double>>>> ns, runs;
  for (int i = 0; i < repeat; ++i) {
    for (size_t j = 0; j < configs.size(); ++j) {
      const WireConfig& c = configs[(i + j) % configs.size()];
      std::set<uint32_t> ids = c.start();
      auto before = statsOf(ids, tcDirOf);
      traffic();
      auto after = statsOf(ids, tcDirOf);
      c.stop();
      for (const char* dir : kDirs) {
        uint64_t r = after[dir].runs - before[dir].runs;
        ns[c.mode][c.role][dir].push_back(r ? double(after[dir].ns - before[dir].ns) / double(r)
                                            : 0);
        runs[c.mode][c.role][dir].push_back(double(r));
        if (std::getenv("HOOK_COST_DEBUG"))
          std::fprintf(stderr, "rep %d %s %s %s: %llu runs, %.1f ns\n", i, c.mode.c_str(),
                       c.role.c_str(), dir, (unsigned long long)r, ns[c.mode][c.role][dir].back());
      }
    }
  }
  std::printf("\n%s\n", title.c_str());
  std::printf("%-8s %-7s %25s %25s %8s %25s %6s %17s %25s %12s\n", "program", "attach",
              "empty ns/run (stats on)", "netacct ns/run (stats on)", "ratio", "paired ratio",
              "<= 2x", "runs netacct/empty", "floor ns/run (stats on)", "floor ratio");
  std::vector<std::string> modes;
  for (const auto& c : configs)
    if (std::find(modes.begin(), modes.end(), c.mode) == modes.end()) modes.push_back(c.mode);
  for (const auto& mode : modes) {
    for (const char* dir : kDirs) {
      const auto& e = ns[mode]["empty"][dir];
      const auto& n = ns[mode]["netacct"][dir];
      double ratio = median(e) > 0 ? median(n) / median(e) : 0;
      std::vector<double> paired;
      for (size_t k = 0; k < std::min(e.size(), n.size()); ++k)
        if (e[k] > 0) paired.push_back(n[k] / e[k]);
      char pr[64] = "-";
      if (!paired.empty())
        std::snprintf(pr, sizeof pr, "%.2f [%.2f..%.2f]", median(paired),
                      *std::min_element(paired.begin(), paired.end()),
                      *std::max_element(paired.begin(), paired.end()));
      const bool ok = ratio > 0 && ratio <= 2.0;
      const auto& f = ns[mode]["floor"][dir];
      std::printf("%-8s %-7s %s %s %8.2f %25s %6s %8.0f/%-8.0f %s %12.2f\n", dir, mode.c_str(),
                  nsSpread(e, 25).c_str(), nsSpread(n, 25).c_str(), ratio, pr,
                  ratio > 0 ? (ok ? "PASS" : "FAIL") : "-", median(runs[mode]["netacct"][dir]),
                  median(runs[mode]["empty"][dir]), nsSpread(f, 25).c_str(),
                  median(e) > 0 ? median(f) / median(e) : 0);
      verdicts.push_back({title.substr(0, 3) + " " + dir + " " + mode, ratio});
    }
  }
}

// netacct's TC programs on the veth of namespace ns against the empty ones,
// TCX (when the kernel has it: what --tc-attach auto picks) and clsact.
void wire_section(const std::string& netacct, const Netns& net, int repeat,
                  const std::string& only_mode) {
  if (!has_wire_layer(netacct)) {
    std::printf("\nwire layer: %s has none (no --no-wire flag): not measured\n", netacct.c_str());
    return;
  }
  const std::string ns = net.b(), dev = "hc1";
  libbpf_set_print(libbpf_print);
  empty_tc_bpf* skel = empty_tc_bpf__open_and_load();
  if (!skel) throw std::runtime_error("cannot load the empty TC program");
  std::vector<std::string> modes;
  if (kernel_has_tcx() && only_mode != "legacy") modes.push_back("tcx");
  if (only_mode != "tcx") modes.push_back("legacy");
  if (modes.empty()) throw std::runtime_error("--tc-attach tcx: this kernel has no TCX");
  std::vector<std::unique_ptr<EmptyTc>> empties;
  std::vector<WireConfig> configs;
  const std::vector<std::string> common = {"report", "--interval", "3600",      "--format",
                                           "json",   "--backend",  "tracepoint"};
  for (const auto& mode : modes) {
    // The empty program's and the floor's configurations run netacct too,
    // with --no-wire: the same socket hooks on every packet, only the TC
    // programs differ.
    for (bool floor : {false, true}) {
      empties.push_back(std::make_unique<EmptyTc>(skel, ns, dev, mode == "tcx", floor));
      EmptyTc* e = empties.back().get();
      std::vector<std::string> no_wire = common;
      no_wire.push_back("--no-wire");
      auto bare = std::make_shared<std::unique_ptr<NetacctProc>>();
      configs.push_back({floor ? "floor" : "empty", mode,
                         [=] {
                           *bare = std::make_unique<NetacctProc>(netacct, no_wire, ns);
                           return e->attach();
                         },
                         [=] {
                           e->detach();
                           bare->reset();
                           if (mode == "legacy") dropClsact(ns, dev);
                         }});
    }
    // tcx: netacct's default (--tc-attach auto), checked to be TCX links.
    std::vector<std::string> args = common;
    args.insert(args.end(), {"--interface", dev});
    if (mode == "legacy") args.insert(args.end(), {"--tc-attach", "legacy"});
    auto proc = std::make_shared<std::unique_ptr<NetacctProc>>();
    configs.push_back({"netacct", mode,
                       [=] {
                         std::set<uint32_t> before = progIds();
                         *proc = std::make_unique<NetacctProc>(netacct, args, ns);
                         std::set<uint32_t> ids = minus(progIds(), before);
                         bool on_tcx = false;
                         for (uint32_t id : tcxProgs(ns, dev, 0)) on_tcx |= ids.count(id) > 0;
                         if (on_tcx != (mode == "tcx"))
                           throw std::runtime_error("netacct (" + mode +
                                                    ") attached its TC programs " +
                                                    (on_tcx ? "as" : "not as") + " TCX links");
                         return ids;
                       },
                       [=] {
                         proc->reset();
                         if (mode == "legacy") dropClsact(ns, dev);
                       }});
  }
  std::printf(
      "\nwire layer: netacct's TC programs (--backend tracepoint --interface %s, inside the "
      "sending namespace; tcx = --tc-attach auto, which picks TCX links here; legacy = "
      "--tc-attach legacy, clsact filters) against an empty TC program "
      "(tools/bench/empty_tc.bpf.c, returns -1) attached the same way to the same interface's "
      "ingress and egress while a netacct --no-wire runs there (the same socket hooks), each "
      "configuration alone (clsact removed after each), in rotating order, %d repetitions; "
      "median [min..max] over them; receiver pinned to CPU 1, sender to CPU 0. ns per run with "
      "kernel BPF stats on: enabling the stats itself costs (two clock reads per run: the empty "
      "program's figure is mostly that). Ratio: netacct's median over the empty program's "
      "(the target's figure: at most 2x); paired: each repetition's netacct run over its empty "
      "run, median [min..max]. Floor: the least a per-flow counter costs "
      "(tools/bench/empty_tc.bpf.c, ingress_floor/egress_floor: the flow key read in place, one "
      "LRU hash lookup, one atomic add), run the same way; floor ratio: its median over the "
      "empty program's, the lowest ratio any design that counts per flow can reach.\n",
      dev.c_str(), repeat);
  std::vector<WireVerdict> verdicts;
  // Receiver and sender each on a CPU of its own: left to the scheduler, the
  // TCP receiver's ACKs (the ingress runs) swung between about 1,400 and
  // 5,500 per 512 MiB from one repetition to the next, and their cost with it.
  const Cpus cpus = std::thread::hardware_concurrency() > 1 ? Cpus{1, 0} : Cpus{};
  wire_phase(
      "TCP over veth (512 MiB, 64 KiB writes; egress: data, ingress: ACKs)", configs, repeat,
      [&] { tcpStream(net, net.a(), "10.214.0.1", 512ull << 20, cpus); }, verdicts);
  wire_phase(
      "UDP over veth (10000 unconnected 64 B round trips)", configs, repeat,
      [&] { udpRoundTrips(net, net.a(), "10.214.0.1", 10000, cpus); }, verdicts);
  // What attaching costs in this kernel, whoever attaches: a TCX link waits
  // for an RCU grace period under the RTNL lock (bpf_mprog_commit ->
  // synchronize_rcu), a cls_bpf filter does not; a netacct watching N
  // interfaces makes 2N of them at start.
  std::map<std::string, std::vector<double>> attach_ms;
  for (const auto& e : empties) {
    auto& v = attach_ms[e->tcx() ? "tcx" : "legacy"];
    v.insert(v.end(), e->attach_ms().begin(), e->attach_ms().end());
  }
  std::printf(
      "\nattach time of the empty and floor programs on %s, per TCX link or clsact filter, "
      "median [min..max] ms:",
      dev.c_str());
  for (const auto& [mode, ms] : attach_ms)
    std::printf("  %s %s", mode.c_str(), nsSpread(ms, 0).c_str());
  std::printf("\n");
  empties.clear();
  empty_tc_bpf__destroy(skel);
  auto worst = std::max_element(verdicts.begin(), verdicts.end(),
                                [](const auto& a, const auto& b) { return a.ratio < b.ratio; });
  bool pass = !verdicts.empty() && std::all_of(verdicts.begin(), verdicts.end(), [](const auto& v) {
    return v.ratio > 0 && v.ratio <= 2.0;
  });
  std::printf(
      "\ntarget: each TC program run costs at most 2x an empty TC program on the same interface "
      "(ratio of medians, BPF stats on): %s (highest: %s %.2f)\n",
      pass ? "PASS" : "FAIL", worst == verdicts.end() ? "-" : worst->what.c_str(),
      worst == verdicts.end() ? 0.0 : worst->ratio);
}

// The tracepoint backend's hooks: empty, floor, netacct (new) and --old.
void hook_section(const Netns& net, const std::string& new_bin, const std::string& old_bin,
                  int repeat) {
  empty_hooks_bpf* empty = empty_hooks_bpf__open_and_load();
  floor_hooks_bpf* floor = floor_hooks_bpf__open_and_load();
  if (!empty || !floor) throw std::runtime_error("cannot load the empty or floor hooks");
  auto mount = netacct::find_cgroup2_mount();
  int cg = mount ? open(mount->c_str(), O_RDONLY | O_DIRECTORY) : -1;
  if (cg < 0) std::fprintf(stderr, "note: no empty cgroup ingress program (no cgroup2 mount?)\n");
  bpf_link* ingress = nullptr;
  std::vector<Config> configs = {{"empty",
                                  [&] {
                                    if (empty_hooks_bpf__attach(empty) != 0)
                                      throw std::runtime_error("cannot attach the empty hooks");
                                    if (cg >= 0)
                                      ingress = bpf_program__attach_cgroup(
                                          empty->progs.dgram_ingress_empty, cg);
                                    return ids_of(empty->obj);
                                  },
                                  [&] {
                                    empty_hooks_bpf__detach(empty);
                                    if (ingress) bpf_link__destroy(ingress);
                                    ingress = nullptr;
                                  }},
                                 {"floor",
                                  [&] {
                                    if (floor_hooks_bpf__attach(floor) != 0)
                                      throw std::runtime_error("cannot attach the floor hooks");
                                    return ids_of(floor->obj);
                                  },
                                  [&] { floor_hooks_bpf__detach(floor); }},
                                 netacct_config("new", new_bin)};
  if (!old_bin.empty()) configs.push_back(netacct_config("old", old_bin));
  phase("TCP over veth (64 MiB, 64 KiB writes)", configs, repeat,
        [&] { tcpStream(net, net.a(), "10.214.0.1", 64ull << 20); });
  phase("UDP over veth (5000 unconnected 64 B round trips)", configs, repeat,
        [&] { udpRoundTrips(net, net.a(), "10.214.0.1", 5000); });
  phase("UDP over lo (5000 unconnected 64 B round trips)", configs, repeat,
        [&] { udpRoundTrips(net, net.a(), "127.0.0.1", 5000); });
  phase("TCP over lo (64 MiB, 64 KiB writes)", configs, repeat,
        [&] { tcpStream(net, net.a(), "127.0.0.1", 64ull << 20); });
  phase("exec (100 fork + exec /bin/true)", configs, repeat, [] { execs(100); });
  if (cg >= 0) close(cg);
  floor_hooks_bpf__destroy(floor);
  empty_hooks_bpf__destroy(empty);
}

}  // namespace

int main(int argc, char** argv) {
  std::string old_bin, new_bin = NETACCT_BIN, only, tc_attach;
  int repeat = 5;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--old" && i + 1 < argc)
      old_bin = argv[++i];
    else if (a == "--new" && i + 1 < argc)
      new_bin = argv[++i];
    else if (a == "--repeat" && i + 1 < argc)
      repeat = std::max(1, std::atoi(argv[++i]));
    else if (a == "--only" && i + 1 < argc &&
             (std::string(argv[i + 1]) == "hooks" || std::string(argv[i + 1]) == "wire"))
      only = argv[++i];
    else if (a == "--tc-attach" && i + 1 < argc &&
             (std::string(argv[i + 1]) == "tcx" || std::string(argv[i + 1]) == "legacy"))
      tc_attach = argv[++i];
    else {
      std::fprintf(stderr,
                   "usage: %s [--old NETACCT] [--new NETACCT] [--repeat N] [--only hooks|wire] "
                   "[--tc-attach tcx|legacy]\n",
                   argv[0]);
      return 2;
    }
  }
  if (geteuid() != 0) {
    std::fprintf(stderr, "netacct_hook_cost: needs root (BPF, network namespaces)\n");
    return 1;
  }
  try {
    int stats = bpf_enable_stats(BPF_STATS_RUN_TIME);
    if (stats < 0) throw std::runtime_error("cannot enable kernel.bpf_stats");
    Netns net;
    std::printf(
        "netacct_hook_cost: ns per program run (median of %d), each configuration attached alone, "
        "in rotating order; new = %s%s%s\n",
        repeat, new_bin.c_str(), old_bin.empty() ? "" : ", old = ", old_bin.c_str());
    if (only != "wire") hook_section(net, new_bin, old_bin, repeat);
    if (only != "hooks") wire_section(new_bin, net, repeat, tc_attach);
    close(stats);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "netacct_hook_cost: %s\n", e.what());
    return 1;
  }
  return 0;
}
