#include "pressure.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <unordered_map>

#include "env.hpp"
#include "netns.hpp"
#include "traffic.hpp"

namespace kt::pressure {
namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void fail(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

std::string commOf(const std::string& tag, const char* role) { return tag + "-" + role; }

// Bytes a client sends on its i-th connection, and what the server answers
// to a request of `rx` bytes: small enough for one socket buffer, distinct
// enough that a row swapped with another shows.
uint64_t requestSize(uint64_t i) { return 1 + (i * 7919) % 2000; }
uint64_t replySize(uint64_t rx) { return 1 + rx % 113; }

double secondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

void raiseNofile(rlim_t n) {
  rlimit r{n, n};
  if (setrlimit(RLIMIT_NOFILE, &r) != 0) fail("setrlimit RLIMIT_NOFILE");
}

void writeProc(const std::string& path, const std::string& value) {
  std::ofstream f(path);
  f << value;
  f.flush();
  if (!f) throw std::runtime_error("cannot write " + value + " to " + path);
}

// The test's own namespaces only: room for tens of thousands of
// connections (a deep accept queue in A; in B every port, and ports in
// TIME_WAIT reused after a second, as a busy client host is set up).
void tuneNamespaces(const Namespaces& net) {
  inNetns(net.a, [] {
    writeProc("/proc/sys/net/core/somaxconn", "65535");
    writeProc("/proc/sys/net/ipv4/tcp_max_syn_backlog", "65535");
    return 0;
  });
  inNetns(net.b, [] {
    writeProc("/proc/sys/net/ipv4/ip_local_port_range", "1024 65535");
    writeProc("/proc/sys/net/ipv4/tcp_tw_reuse", "1");
    return 0;
  });
}

// A child's log of its connections, one line each: local remote tx rx.
// The endpoints are taken while the connection is up (after its end of
// stream getpeername fails).
struct Ends {
  std::string local, remote;
  explicit Ends(int fd) : local(localEndpoint(fd).str()), remote(peerEndpoint(fd).str()) {}
};
class ConnLog {
 public:
  explicit ConnLog(const std::string& dir) {
    f_ = std::fopen((dir + "/conns-" + std::to_string(getpid())).c_str(), "w");
    if (f_ == nullptr) fail("open connection log in " + dir);
  }
  ~ConnLog() { close(); }
  void add(const Ends& e, Counts c) {
    std::fprintf(f_, "%s %s %llu %llu\n", e.local.c_str(), e.remote.c_str(),
                 static_cast<unsigned long long>(c.tx), static_cast<unsigned long long>(c.rx));
  }
  void close() {
    if (f_ != nullptr && std::fclose(f_) != 0) fail("write connection log");
    f_ = nullptr;
  }

 private:
  FILE* f_ = nullptr;
};

// A client's end of a connection that has sent `sent` bytes: end of stream,
// the server's answer to the end, counted, logged, closed.
void endExchange(int fd, const Ends& ends, uint64_t sent, ChildCtx& ctx, ConnLog& log) {
  if (shutdown(fd, SHUT_WR) != 0) fail("shutdown");
  const Counts c{sent, recvToEof(fd)};
  ctx.counts += c;
  log.add(ends, c);
  close(fd);
}

// Moves every connection log in `dir` into truth.conns (and removes it).
void takeConnLogs(const std::string& dir, Truth& truth) {
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename();
    if (name.rfind("conns-", 0) != 0) continue;
    const pid_t pid = std::stoi(name.substr(6));
    std::ifstream in(e.path());
    std::string local, remote;
    uint64_t tx, rx;
    while (in >> local >> remote >> tx >> rx) truth.conns[{pid, local, remote}] += Counts{tx, rx};
    std::filesystem::remove(e.path());
  }
}

const char* filler() {
  static const std::string bytes(4096, 'p');
  return bytes.data();
}

// Serves TCP connections concurrently (epoll): reads each to its end, then
// answers replySize(bytes read) and closes. A connection that sends nothing
// is the caller's stop: every client has finished by then.
void serveStreams(int lfd, ChildCtx& ctx, ConnLog& log) {
  setNonblocking(lfd);
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) fail("epoll_create1");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = lfd;
  if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) != 0) fail("epoll_ctl listener");
  std::unordered_map<int, std::pair<Ends, Counts>> open;
  std::vector<char> buf(64 * KiB);
  std::vector<epoll_event> ready(1024);
  for (bool stop = false; !stop;) {
    const int n = epoll_wait(ep, ready.data(), int(ready.size()), -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("epoll_wait");
    for (int k = 0; k < n; ++k) {
      const int fd = ready[k].data.fd;
      if (fd == lfd) {
        int c;
        while ((c = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
          ev.data.fd = c;
          if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev) != 0) fail("epoll_ctl");
          open.emplace(c, std::pair{Ends(c), Counts{}});
        }
        if (errno != EAGAIN && errno != EINTR) fail("accept4");
        continue;
      }
      auto& [ends, c] = open.at(fd);
      ssize_t r;
      while ((r = read(fd, buf.data(), buf.size())) > 0) c.rx += uint64_t(r);
      if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (r < 0) fail("read");
      if (c.rx == 0) {  // the stop connection
        stop = true;
      } else {
        const size_t want = replySize(c.rx);
        const ssize_t s = send(fd, filler(), want, MSG_NOSIGNAL);
        if (s != ssize_t(want)) fail("reply");
        c.tx = uint64_t(s);
        ctx.counts += c;
        log.add(ends, c);
      }
      close(fd);
      open.erase(fd);
    }
  }
  close(ep);
  if (!open.empty())
    throw std::runtime_error(std::to_string(open.size()) + " connections open at the stop");
  log.close();
}

// A TCP server child in A serving with serveStreams, and its endpoint.
struct StreamServer {
  Child child;
  Endpoint ep;
};
StreamServer streamServer(const Namespaces& net, const std::string& comm, const std::string& dir,
                          rlim_t nofile) {
  Child c(net.a, comm, [dir, nofile](ChildCtx& ctx) {
    raiseNofile(nofile);
    const int lfd = tcpListen(NetnsPair::kA4);
    if (listen(lfd, 65535) != 0) fail("listen");
    ctx.post(localEndpoint(lfd).port);
    ConnLog log(dir);
    serveStreams(lfd, ctx, log);
  });
  const uint16_t port = uint16_t(c.nextPost().first);
  return {std::move(c), Endpoint{NetnsPair::kA4, port}};
}

// Ends a StreamServer: a connection from B that sends nothing.
Counts stopServer(const Namespaces& net, StreamServer& s) {
  inNetns(net.b, [&] {
    const int fd = tcpConnect(s.ep);
    close(fd);
    return 0;
  });
  return s.child.finish();
}

uint64_t packCounts(Counts c) {
  if (c.tx >> 32 || c.rx >> 32) throw std::runtime_error("counts above 4 GiB");
  return c.tx << 32 | c.rx;
}

}  // namespace

Truth& Truth::operator+=(const Truth& o) {
  for (const auto& [k, c] : o.procs) procs[k] += c;
  for (const auto& [k, c] : o.conns) conns[k] += c;
  connections += o.connections;
  processes += o.processes;
  forks += o.forks;
  seconds += o.seconds;
  return *this;
}

Truth concurrentSockets(const Namespaces& net, const std::string& tag, const std::string& dir,
                        int connections) {
  const auto t0 = Clock::now();
  tuneNamespaces(net);
  const rlim_t nofile = rlim_t(connections) + 64;
  auto server = streamServer(net, commOf(tag, "csrv"), dir, nofile);
  const Endpoint to = server.ep;
  Child client(net.b, commOf(tag, "ccli"), [to, connections, nofile, dir](ChildCtx& ctx) {
    raiseNofile(nofile);
    ConnLog log(dir);
    std::vector<int> fds;
    std::vector<Ends> ends;
    std::vector<uint64_t> sent;
    for (int i = 0; i < connections; ++i) {
      fds.push_back(tcpConnect(to));
      ends.emplace_back(fds.back());
    }
    // Every connection is open here, at both ends (the server closes a
    // connection only after its client's end of stream): 2N sockets.
    for (int i = 0; i < connections; ++i) {
      sent.push_back(sendBytes(fds[i], requestSize(uint64_t(i))));
      if (shutdown(fds[i], SHUT_WR) != 0) fail("shutdown");
    }
    for (int i = 0; i < connections; ++i) {
      const Counts c{sent[i], recvToEof(fds[i])};
      ctx.counts += c;
      log.add(ends[i], c);
    }
    for (int fd : fds) close(fd);
    log.close();
  });
  Truth t;
  t.procs[{client.pid(), client.comm()}] = client.finish();
  t.procs[{server.child.pid(), server.child.comm()}] = stopServer(net, server);
  takeConnLogs(dir, t);
  t.connections = uint64_t(connections);
  t.seconds = secondsSince(t0);
  return t;
}

Truth connectionRate(const Namespaces& net, const std::string& tag, const std::string& dir,
                     int per_second, double seconds) {
  constexpr int kClients = 4;  // one paced process cannot open 5,000 a second here
  tuneNamespaces(net);
  auto server = streamServer(net, commOf(tag, "rsrv"), dir, 4096);
  const Endpoint to = server.ep;
  std::vector<Child> clients;
  const auto start = Clock::now() + std::chrono::milliseconds(50);
  for (int id = 0; id < kClients; ++id) {
    clients.emplace_back(net.b, commOf(tag, "rcli"), [=](ChildCtx& ctx) {
      ConnLog log(dir);
      const std::chrono::duration<double> period(double(kClients) / per_second);
      const auto end = start + std::chrono::duration<double>(seconds);
      uint64_t made = 0;
      for (;; ++made) {
        const auto due = start + std::chrono::duration_cast<Clock::duration>(period * double(made));
        if (due >= end) break;
        std::this_thread::sleep_until(due);  // behind schedule: no sleep, catch up
        const int fd = tcpConnect(to);
        const Ends ends(fd);
        endExchange(fd, ends, sendBytes(fd, requestSize(made * kClients + uint64_t(id))), ctx, log);
      }
      log.close();
      ctx.post(made);
    });
  }
  Truth t;
  for (auto& c : clients) {
    t.connections += c.nextPost().first;
    t.procs[{c.pid(), c.comm()}] = c.finish();
  }
  t.seconds = secondsSince(start);
  t.procs[{server.child.pid(), server.child.comm()}] = stopServer(net, server);
  takeConnLogs(dir, t);
  return t;
}

Truth shortLivedProcesses(const Namespaces& net, const std::string& tag, int processes) {
  constexpr int kParallel = 128;  // in flight at once: the echo server's buffer holds them
  const auto t0 = Clock::now();
  // Longer than a Child's usual 40 s life on a loaded machine: 10,000
  // forks, exits and exchanges.
  const unsigned life = unsigned(scaledSeconds(40 + processes / 100));
  Child server(net.a, commOf(tag, "ssrv"), [processes, life](ChildCtx& ctx) {
    alarm(life);
    const int fd = udpBound(NetnsPair::kA4);
    const int buf = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf);
    ctx.post(localEndpoint(fd).port);
    ctx.counts += udpEcho(fd, processes);
  });
  const Endpoint to{NetnsPair::kA4, uint16_t(server.nextPost().first)};
  const std::string short_comm = commOf(tag, "shrt");
  Child spawner(net.b, commOf(tag, "spwn"), [=](ChildCtx& ctx) {
    alarm(life);
    int done[2];
    if (pipe2(done, O_CLOEXEC) != 0) fail("pipe");
    std::vector<pid_t> kids;
    auto waitOne = [&] {
      char b;
      if (read(done[0], &b, 1) != 1) throw std::runtime_error("a short-lived process died");
    };
    for (int i = 0; i < processes; ++i) {
      if (i >= kParallel) waitOne();
      const pid_t pid = fork();
      if (pid < 0) fail("fork");
      if (pid == 0) {
        int status = 3;
        try {
          prctl(PR_SET_NAME, short_comm.c_str());
          const int fd = udpSocket(AF_INET);
          setRecvTimeout(fd, 5000);
          const Counts c = udpPingPong(fd, &to, 1, i);
          close(fd);
          ctx.post(uint64_t(getpid()), packCounts(c));
          status = write(done[1], "d", 1) == 1 ? 0 : 4;
        } catch (const std::exception& e) {
          std::fprintf(stderr, "short-lived process %d: %s\n", getpid(), e.what());
        }
        _exit(status);
      }
      kids.push_back(pid);
    }
    for (int i = 0; i < std::min(processes, kParallel); ++i) waitOne();
    // Reaped only now: no PID of this batch is reused while it runs.
    for (pid_t k : kids) {
      int status = 0;
      if (waitpid(k, &status, 0) != k || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw std::runtime_error("short-lived process " + std::to_string(k) + " failed");
    }
  });
  Truth t;
  t.procs[{spawner.pid(), spawner.comm()}] = spawner.finish();  // collects the posts too
  for (int i = 0; i < processes; ++i) {
    const auto [pid, packed] = spawner.nextPost();
    t.procs[{pid_t(pid), short_comm}] += Counts{packed >> 32, packed & 0xffffffffu};
  }
  t.procs[{server.pid(), server.comm()}] = server.finish();
  t.processes = uint64_t(processes);
  t.seconds = secondsSince(t0);
  return t;
}

Truth forkStorm(const Namespaces& net, const std::string& tag, const std::string& dir,
                double seconds) {
  const auto t0 = Clock::now();
  auto server = streamServer(net, commOf(tag, "fsrv"), dir, 256);
  const Endpoint to = server.ep;
  const auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(seconds));
  Child forker(net.b, commOf(tag, "fork"), [end](ChildCtx& ctx) {
    constexpr int kUnreaped = 64;  // reaped as they go, not one at a time
    uint64_t forks = 0;
    int running = 0, status = 0;
    auto reap = [&](int flags) {
      const pid_t r = waitpid(-1, &status, flags);
      if (r > 0 && status != 0) throw std::runtime_error("fork child failed");
      if (r > 0) --running;
      return r > 0;
    };
    for (; Clock::now() < end; ++forks) {
      const pid_t pid = fork();
      if (pid < 0) fail("fork");
      if (pid == 0) _exit(0);
      ++running;
      while (running > 0 && reap(running >= kUnreaped ? 0 : WNOHANG)) {
      }
    }
    while (running > 0 && reap(0)) {
    }
    ctx.post(forks);
  });
  Child steady(net.b, commOf(tag, "fcli"), [to, end, dir](ChildCtx& ctx) {
    ConnLog log(dir);
    const int fd = tcpConnect(to);
    const Ends ends(fd);
    uint64_t sent = 0;
    for (int i = 0; Clock::now() < end; ++i) {
      sent += sendBytes(fd, 1 + uint64_t(i) % (4 * KiB));
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    endExchange(fd, ends, sent, ctx, log);
    log.close();
  });
  Truth t;
  t.forks = forker.nextPost().first;
  t.procs[{forker.pid(), forker.comm()}] = forker.finish();
  t.procs[{steady.pid(), steady.comm()}] = steady.finish();
  t.procs[{server.child.pid(), server.child.comm()}] = stopServer(net, server);
  takeConnLogs(dir, t);
  t.connections = 1;
  t.seconds = secondsSince(t0);
  return t;
}

// ---- the launcher ----

namespace {

void writeTruth(const std::string& path, const Truth& t) {
  std::ofstream out(path);
  out << "N " << t.connections << ' ' << t.processes << ' ' << t.forks << ' ' << t.seconds << '\n';
  for (const auto& [k, c] : t.procs)
    out << "P " << k.first << ' ' << k.second << ' ' << c.tx << ' ' << c.rx << '\n';
  for (const auto& [k, c] : t.conns)
    out << "C " << std::get<0>(k) << ' ' << std::get<1>(k) << ' ' << std::get<2>(k) << ' ' << c.tx
        << ' ' << c.rx << '\n';
  out.flush();
  if (!out) throw std::runtime_error("cannot write " + path);
}

Truth readTruth(const std::string& path) {
  std::ifstream in(path);
  Truth t;
  std::string kind, a, b;
  pid_t pid;
  Counts c;
  while (in >> kind) {
    if (kind == "N") {
      in >> t.connections >> t.processes >> t.forks >> t.seconds;
    } else if (kind == "P") {
      in >> pid >> a >> c.tx >> c.rx;
      t.procs[{pid, a}] = c;
    } else if (kind == "C") {
      in >> pid >> a >> b >> c.tx >> c.rx;
      t.conns[{pid, a, b}] = c;
    } else {
      throw std::runtime_error("bad line in " + path);
    }
  }
  return t;
}

Truth runJob(const Namespaces& net, const std::string& dir, const std::string& kind,
             const std::string& tag, double x, double y) {
  if (kind == "sockets") return concurrentSockets(net, tag, dir, int(x));
  if (kind == "rate") return connectionRate(net, tag, dir, int(x), y);
  if (kind == "short") return shortLivedProcesses(net, tag, int(x));
  if (kind == "forks") return forkStorm(net, tag, dir, x);
  throw std::runtime_error("unknown job " + kind);
}

}  // namespace

Launcher::Launcher(Namespaces net, std::string dir)
    : dir_(std::move(dir)), child_("", "na-launcher", [net, d = dir_](ChildCtx& ctx) {
        alarm(0);  // lives as long as its caller (PR_SET_PDEATHSIG), each job bounded
        for (;;) {
          ctx.waitGo();
          std::ifstream job(d + "/job");
          std::string kind, tag;
          double x = 0, y = 0;
          job >> kind >> tag >> x >> y;
          if (kind == "quit") return;
          const pid_t pid = fork();
          if (pid < 0) fail("fork");
          if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            int rc = 3;
            try {
              writeTruth(d + "/truth", runJob(net, d, kind, tag, x, y));
              rc = 0;
            } catch (const std::exception& e) {
              std::fprintf(stderr, "pressure job %s %s: %s\n", kind.c_str(), tag.c_str(), e.what());
            }
            _exit(rc);
          }
          int status = 0;
          waitpid(pid, &status, 0);
          ctx.post(WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 1 : 0);
        }
      }) {}

Launcher::~Launcher() {
  try {
    std::ofstream(dir_ + "/job") << "quit x 0 0\n";
    child_.go();
    child_.finish();
  } catch (...) {  // ~Child kills it
  }
}

Truth Launcher::run(const std::string& kind, const std::string& tag, double x, double y) {
  {
    std::ofstream job(dir_ + "/job");
    job << kind << ' ' << tag << ' ' << x << ' ' << y << '\n';
  }
  child_.go();
  // Bounded by the job's own children (each lives at most its alarm).
  if (child_.nextPost(std::chrono::seconds(scaledSeconds(300))).first != 1)
    throw std::runtime_error("pressure job " + kind + " " + tag + " failed (see stderr)");
  Truth t = readTruth(dir_ + "/truth");
  std::filesystem::remove(dir_ + "/truth");
  return t;
}

Truth Launcher::concurrentSockets(const std::string& tag, int connections) {
  return run("sockets", tag, connections, 0);
}
Truth Launcher::connectionRate(const std::string& tag, int per_second, double seconds) {
  return run("rate", tag, per_second, seconds);
}
Truth Launcher::shortLivedProcesses(const std::string& tag, int processes) {
  return run("short", tag, processes, 0);
}
Truth Launcher::forkStorm(const std::string& tag, double seconds) {
  return run("forks", tag, seconds, 0);
}

// ---- reading reports ----

void Tally::add(const std::string& line, const std::string& prefix) {
  try {
    const auto j = nlohmann::json::parse(line);
    Window w;
    w.interval_s = j.at("interval_s").get<double>();
    const auto& loss = j.at("loss");
    w.evicted = loss.at("evicted_connections").get<uint64_t>();
    w.failed_inserts = loss.at("failed_inserts").get<uint64_t>();
    w.unattributed_tx = loss.at("unattributed_tx_bytes").get<uint64_t>();
    w.unattributed_rx = loss.at("unattributed_rx_bytes").get<uint64_t>();
    auto ours = [&](const nlohmann::json& e, ProcKey& key) {
      key = {e.at("pid").get<pid_t>(), e.at("comm").get<std::string>()};
      return key.second.rfind(prefix, 0) == 0;
    };
    auto bytes = [](const nlohmann::json& e) {
      return Counts{e.at("tx_bytes").get<uint64_t>(), e.at("rx_bytes").get<uint64_t>()};
    };
    ProcKey key;
    for (const auto& p : j.at("processes"))
      if (ours(p, key)) procs[key] += bytes(p);
    for (const auto& c : j.at("connections")) {
      ++w.connection_rows;
      if (!ours(c, key)) continue;
      proc_conns[key] += bytes(c);
      conns[{key.first, c.at("local").get<std::string>(), c.at("remote").get<std::string>()}] +=
          bytes(c);
    }
    windows.push_back(w);
  } catch (const std::exception& e) {
    errors.push_back(std::string(e.what()) + ": " + line.substr(0, 200));
  }
}

std::vector<std::string> mismatches(const Truth& truth, const Tally& seen,
                                    const std::string& prefix, bool conn_rows) {
  std::vector<std::string> out;
  auto str = [](Counts c) { return "tx " + std::to_string(c.tx) + " rx " + std::to_string(c.rx); };
  auto check = [&](const std::string& what, Counts want, const auto& map, const auto& key) {
    const auto it = map.find(key);
    const Counts got = it == map.end() ? Counts{} : it->second;
    if (got.tx != want.tx || got.rx != want.rx)
      out.push_back(what + ": reported " + str(got) + ", counted " + str(want));
  };
  for (const auto& [key, want] : truth.procs) {
    const std::string who = "pid " + std::to_string(key.first) + " " + key.second;
    check(who + " processes[]", want, seen.procs, key);
    if (conn_rows) check(who + " connections[]", want, seen.proc_conns, key);
  }
  for (const auto& [key, want] : truth.conns)
    check("connection of pid " + std::to_string(std::get<0>(key)) + " " + std::get<1>(key) +
              " -> " + std::get<2>(key),
          want, seen.conns, key);
  for (const auto& [key, got] : seen.procs)
    if (key.second.rfind(prefix, 0) == 0 && !truth.procs.count(key) && (got.tx || got.rx))
      out.push_back("pid " + std::to_string(key.first) + " " + key.second + ": " + str(got) +
                    " reported, not a process of ours");
  return out;
}

ReportStream::ReportStream(std::string prefix) : prefix_(std::move(prefix)) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) fail("pipe");
  read_fd_ = p[0];
  write_fd_ = p[1];
  // A window of 20,000 rows is megabytes of JSON: while this reader parses,
  // netacct's write must not block on a 64 KiB pipe (its next poll would
  // wait, and the window be late for the reader's sake).
  fcntl(write_fd_, F_SETPIPE_SZ, 1 << 20);
  reader_ = std::thread([this] { run(); });
}

ReportStream::~ReportStream() {
  closeWriteEnd();
  if (reader_.joinable()) reader_.join();
  close(read_fd_);
}

void ReportStream::closeWriteEnd() {
  if (write_fd_ >= 0) close(write_fd_);
  write_fd_ = -1;
}

void ReportStream::run() {
  std::string pending;
  std::vector<char> buf(1 << 20);
  for (;;) {
    const ssize_t n = read(read_fd_, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    pending.append(buf.data(), size_t(n));
    size_t start = 0, nl;
    while ((nl = pending.find('\n', start)) != std::string::npos) {
      const std::string line = pending.substr(start, nl - start);
      start = nl + 1;
      std::lock_guard lock(mu_);
      tally_.add(line, prefix_);
    }
    pending.erase(0, start);
  }
  if (!pending.empty()) {
    std::lock_guard lock(mu_);
    tally_.errors.push_back("unterminated last line: " + pending.substr(0, 200));
  }
}

size_t ReportStream::reports() {
  std::lock_guard lock(mu_);
  return tally_.windows.size();
}

Tally ReportStream::take() {
  closeWriteEnd();
  if (reader_.joinable()) reader_.join();
  return std::move(tally_);
}

Usage usageOf(pid_t pid) {
  const std::string dir = "/proc/" + std::to_string(pid);
  std::ifstream stat(dir + "/stat");
  std::string s;
  if (!std::getline(stat, s)) throw std::runtime_error("no " + dir + "/stat");
  std::istringstream rest(s.substr(s.rfind(')') + 2));  // after the comm, at the state
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  Usage u;
  u.cpu_s = double(utime + stime) / double(sysconf(_SC_CLK_TCK));
  std::ifstream status(dir + "/status");
  while (std::getline(status, s))
    if (s.rfind("VmRSS:", 0) == 0) u.rss_mib = std::stod(s.substr(6)) / 1024.0;
  return u;
}

}  // namespace kt::pressure
