// netacct_hook_cost: what each kernel hook of the tracepoint backend costs
// per event, measured in one run next to an empty program on the same hook
// (tools/bench/empty_hooks.bpf.c), next to the least a per-socket counter
// costs on the send and receive hooks (tools/bench/floor_hooks.bpf.c: socket
// storage and one atomic add) and, with --old, next to another netacct
// binary (the previous version) counting the same traffic. Each repetition
// attaches one configuration at a time, in rotating order (see phase()).
//
//   sudo build/tools/bench/netacct_hook_cost [--old PATH] [--new PATH] [--repeat N]
//
// kernel.bpf_stats (BPF_ENABLE_STATS, for as long as this runs) gives every
// program's run count and run time; they are read around each traffic phase,
// and each hook's ns per run is the median over the repetitions. Traffic runs
// over loopback and over a veth pair between two network namespaces that the
// tool makes and removes (nothing touches the machine's own interfaces).
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "empty_hooks.skel.h"
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

// hook -> summed stats of the programs `ids` has on it.
std::map<std::string, ProgStat> statsOf(const std::set<uint32_t>& ids) {
  std::map<std::string, ProgStat> out;
  for (uint32_t id : ids) {
    int fd = bpf_prog_get_fd_by_id(id);
    if (fd < 0) continue;
    bpf_prog_info info{};
    uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) {
      std::string hook = hookOf(info.name);
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

// A netacct binary counting everything until stopped.
class NetacctProc {
 public:
  explicit NetacctProc(const std::string& path) {
    const bool wire = has_wire_layer(path);
    log_ = "/tmp/netacct-hook-cost." + std::to_string(getpid()) + "." + std::to_string(n_++);
    pid_ = fork();
    if (pid_ == 0) {
      int out = open("/dev/null", O_WRONLY);
      int err = open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      dup2(out, 1);
      dup2(err, 2);
      // On the host: no TC classifier on the machine's own interfaces (a
      // build older than the wire layer has no such flag, and none to skip).
      execl(path.c_str(), path.c_str(), "report", "--interval", "3600", "--format", "json",
            "--backend", "tracepoint", wire ? "--no-wire" : nullptr, nullptr);
      _exit(127);
    }
    for (int i = 0; i < 200; ++i) {
      std::ifstream in(log_);
      std::stringstream ss;
      ss << in.rdbuf();
      if (ss.str().find("ready") != std::string::npos) return;
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    throw std::runtime_error(path + " did not get ready (see " + log_ + ")");
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

// Two namespaces joined by a veth pair: A 10.214.0.1, B 10.214.0.2.
class Netns {
 public:
  Netns()
      : a_("na-hc" + std::to_string(getpid()) + "a"), b_("na-hc" + std::to_string(getpid()) + "b") {
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

void tcpStream(const Netns& net, const std::string& srv_ns, const char* ip, uint64_t bytes) {
  int ready[2];
  if (pipe(ready) != 0) throw std::runtime_error("pipe");
  auto server = Netns::in(srv_ns, [&] {
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
void udpRoundTrips(const Netns& net, const std::string& srv_ns, const char* ip, int count) {
  int ready[2];
  if (pipe(ready) != 0) throw std::runtime_error("pipe");
  auto server = Netns::in(srv_ns, [&] {
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
            *proc = std::make_unique<NetacctProc>(path);
            return minus(progIds(), before);
          },
          [proc] { proc->reset(); }};
}

}  // namespace

int main(int argc, char** argv) {
  std::string old_bin, new_bin = NETACCT_BIN;
  int repeat = 5;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--old" && i + 1 < argc)
      old_bin = argv[++i];
    else if (a == "--new" && i + 1 < argc)
      new_bin = argv[++i];
    else if (a == "--repeat" && i + 1 < argc)
      repeat = std::max(1, std::atoi(argv[++i]));
    else {
      std::fprintf(stderr, "usage: %s [--old NETACCT] [--new NETACCT] [--repeat N]\n", argv[0]);
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
    empty_hooks_bpf* empty = empty_hooks_bpf__open_and_load();
    floor_hooks_bpf* floor = floor_hooks_bpf__open_and_load();
    if (!empty || !floor) throw std::runtime_error("cannot load the empty or floor hooks");
    auto mount = netacct::find_cgroup2_mount();
    int cg = mount ? open(mount->c_str(), O_RDONLY | O_DIRECTORY) : -1;
    if (cg < 0) std::fprintf(stderr, "note: no empty cgroup ingress program (no cgroup2 mount?)\n");
    bpf_link* ingress = nullptr;
    std::vector<Config> configs = {
        {"empty",
         [&] {
           if (empty_hooks_bpf__attach(empty) != 0)
             throw std::runtime_error("cannot attach the empty hooks");
           if (cg >= 0) ingress = bpf_program__attach_cgroup(empty->progs.dgram_ingress_empty, cg);
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
    std::printf(
        "netacct_hook_cost: ns per program run (median of %d), each configuration attached alone, "
        "in rotating order; new = %s%s%s\n",
        repeat, new_bin.c_str(), old_bin.empty() ? "" : ", old = ", old_bin.c_str());
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
    close(stats);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "netacct_hook_cost: %s\n", e.what());
    return 1;
  }
  return 0;
}
