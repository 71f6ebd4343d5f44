// The start of every command's data flow, built once: kernel maps -> window
// (Poller) -> attributed traffic (Attributor, with the system's resolver and
// the command's selection). Sinks take it from here.
#pragma once
#include "cli/event_loop.hpp"
#include "cli/poller.hpp"
#include "kernel/loader.hpp"
#include "model/attribution.hpp"
#include "resolve/dns_answer.hpp"
#include "resolve/exit_watch.hpp"
#include "resolve/system_resolver.hpp"

namespace netacct {

class Pipeline {
 public:
  // `names`: the remote name cache's bounds (used when the session
  // captures DNS answers).
  Pipeline(const Session& session, Selection selection, NameCacheConfig names = {})
      : dns_(session.dns()),
        namer_(names),
        poller_(session.reader(), exits_),
        attributor_(std::move(selection), resolver_, dns_ ? &namer_ : nullptr) {}
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  Attributed next() {
    take_answers();
    return attributor_.attribute(poller_.poll());
  }
  // Answers are taken as they arrive, so the kernel's ring never fills
  // between two refreshes.
  void watch(EventLoop& loop) {
    if (dns_)
      loop.watch(dns_->fd(), [this](short) {
        take_answers();
        return EventLoop::Flow::keep_going;
      });
  }
  int64_t last_mono_ns() const { return poller_.last_mono_ns(); }
  const Poller& poller() const { return poller_; }

 private:
  // A pidfd per process watched: more than the usual soft limit of 1024
  // files on a busy host.
  struct OpenFilesLimit {
    OpenFilesLimit() { raise_open_files_limit(); }
  } open_files_limit_;
  // Each captured answer parsed (c-ares) once, here, into the namer.
  void take_answers() {
    if (!dns_) return;
    dns_->drain([this](DnsMessage&& m) {
      ParsedDns p = parse_dns_answer(m.bytes.data(), m.bytes.size());
      if (p.kind == ParsedDns::Kind::answer)
        namer_.received(m, std::move(p.answer));
      else if (p.kind == ParsedDns::Kind::malformed)
        namer_.malformed();
    });
    namer_.set_lost(dns_->lost());
  }
  DnsCapture* dns_;
  RemoteNamer namer_;
  PidfdWatch exits_;
  SystemResolver resolver_;
  Poller poller_;
  Attributor attributor_;
};

}  // namespace netacct
