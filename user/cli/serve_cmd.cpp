// netacct serve: the Prometheus exporter. Data flows one way, on the event
// loop: maps -> window -> attributed -> the exporter's accumulator ->
// a published state. prometheus-cpp's Exposer (civetweb threads) serves
// /metrics from the latest published state only (output/prometheus), so an
// HTTP client, however slow, never holds up accounting.
#include <CivetServer.h>
#include <arpa/inet.h>
#include <civetweb.h>
#include <netinet/in.h>
#include <prometheus/exposer.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/error_line.hpp"
#include "cli/event_loop.hpp"
#include "cli/fd.hpp"
#include "cli/pipeline.hpp"
#include "cli/preflight.hpp"
#include "cli/signals.hpp"
#include "cli/version.hpp"
#include "model/clock.hpp"
#include "model/exporter.hpp"
#include "output/prometheus.hpp"

namespace netacct {
namespace {

constexpr char kRootPage[] =
    "<!DOCTYPE html>\n<html><head><title>netacct</title></head><body>\n"
    "<h1>netacct</h1>\n<p>Per-program network traffic from the kernel: "
    "<a href=\"/metrics\">/metrics</a></p>\n</body></html>\n";

// civetweb asks this before its own handlers: "/" gets the short page that
// links /metrics; everything else goes on to prometheus-cpp (0).
int root_page(mg_connection* conn) {
  const mg_request_info* req = mg_get_request_info(conn);
  if (!req || !req->local_uri || std::strcmp(req->local_uri, "/") != 0) return 0;
  mg_send_http_ok(conn, "text/html; charset=utf-8", long(sizeof kRootPage - 1));
  if (std::strcmp(req->request_method, "HEAD") != 0)
    mg_write(conn, kRootPage, sizeof kRootPage - 1);
  return 1;
}

// civetweb reports a port in use as an exception with its own wording;
// binding once first gives the system's reason (EADDRINUSE, EACCES,
// EADDRNOTAVAIL) for the one error line. Nothing is loaded yet. 0: free.
int bind_errno(const ListenAddress& a) {
  sockaddr_storage ss{};
  socklen_t len;
  if (a.ipv6()) {
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(a.port);
    inet_pton(AF_INET6, a.host.c_str(), &s6->sin6_addr);
    len = sizeof *s6;
  } else {
    auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
    s4->sin_family = AF_INET;
    s4->sin_port = htons(a.port);
    inet_pton(AF_INET, a.host.c_str(), &s4->sin_addr);
    len = sizeof *s4;
  }
  UniqueFd fd(socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return errno;
  int one = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);  // as civetweb binds
  return bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) == 0 ? 0 : errno;
}

// prometheus-cpp's Exposer on civetweb: 8 workers, so a few stalled clients
// leave room for scrapes; each holds a worker for at most the request
// timeout. Throws when civetweb cannot start.
std::unique_ptr<prometheus::Exposer> start_exposer(const ListenAddress& at,
                                                   const CivetCallbacks* callbacks) {
  return std::make_unique<prometheus::Exposer>(
      std::vector<std::string>{"listening_ports", at.text(), "num_threads", "8",
                               "request_timeout_ms", "10000"},
      callbacks);
}

// The HTTP side, serving `metrics`: nullptr and *error (one line) when it
// cannot listen.
std::unique_ptr<prometheus::Exposer> open_exposer(
    const ListenAddress& at, const std::shared_ptr<MetricsCollectable>& metrics,
    const CivetCallbacks* callbacks, std::string* error) {
  std::string where = "cannot listen on " + at.text() + ": ";
  if (int err = bind_errno(at)) {
    *error = where + std::strerror(err) +
             (err == EADDRINUSE ? " (another exporter on this port? choose one with --listen)"
                                : " (see --listen)");
    return nullptr;
  }
  try {
    auto exposer = start_exposer(at, callbacks);
    exposer->RegisterCollectable(metrics);
    return exposer;
  } catch (const std::exception& e) {
    *error = where + e.what();
  }
  return nullptr;
}

// The kernel's and the reader's view of netacct's own state.
Health read_health(const Session& s, const Pipeline& p, bool run_stats, double refresh_s) {
  Health h{.run_stats = run_stats, .programs = {}, .maps = s.tables(), .refresh_s = refresh_s};
  if (run_stats) h.programs = s.program_runs();
  for (auto& m : h.maps) {
    if (m.map == "procs") m.entries = p.poller().procs_held();
    if (m.map == "conns") m.entries = p.poller().conns_held();
  }
  return h;
}

int serve_loop(const Command& cmd, Session& session, MetricsCollectable& metrics,
               const sigset_t& stop) {
  const auto& o = cmd.serve;
  Pipeline pipeline(session, cmd.selection, cmd.dns.cache);
  // Run time statistics while the fd is open, only when asked (--bpf-stats).
  UniqueFd stats(o.bpf_stats ? enable_run_time_stats() : -1);
  std::string backend = backend_name(session.backend());
  ExporterAccumulator acc(ExporterConfig{.max_series = o.max_series,
                                         .pid_labels = o.pid_labels,
                                         .containers = o.containers,
                                         .wire = session.wire() != nullptr,
                                         .version = std::string(kVersion),
                                         .backend = backend});
  auto publish = [&](double refresh_s) {
    Health h = read_health(session, pipeline, bool(stats), refresh_s);
    metrics.publish(std::make_shared<const ExporterState>(acc.state(h)));
  };
  publish(0);
  std::cerr << "netacct: ready (backend " << backend << ")\n"
            << "netacct: serving http://" << o.listen.text() << "/metrics\n";
  SystemClock clock;
  EventLoop loop(clock, stop);
  pipeline.watch(loop);
  int64_t interval_ns = int64_t(o.interval_s * 1e9);
  loop.every(interval_ns, pipeline.last_mono_ns() + interval_ns, [&] {
    int64_t start = clock.mono_ns();
    acc.add(pipeline.next());
    publish(double(clock.mono_ns() - start) / 1e9);
    return EventLoop::Flow::keep_going;
  });
  loop.run();
  return 0;
}

}  // namespace

int run_serve(const Command& cmd) {
  // Before the exposer's threads start: they inherit the mask, and a stop
  // signal taken by one of them would be lost to the event loop.
  sigset_t stop = block_stop_signals();
  CivetCallbacks callbacks;
  callbacks.begin_request = root_page;
  auto metrics = std::make_shared<MetricsCollectable>();
  std::string error;
  // Listening first: a port in use fails before anything is loaded.
  auto http = open_exposer(cmd.serve.listen, metrics, &callbacks, &error);
  if (!http) {
    std::cerr << error_line(error);
    return 1;
  }
  int failed = 1;
  auto session = start_session(cmd, &stop, &failed);
  if (!session) return failed;
  return serve_loop(cmd, *session, *metrics, stop);
}

}  // namespace netacct
