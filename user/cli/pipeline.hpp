// The start of every command's data flow, built once: kernel maps -> window
// (Poller) -> attributed traffic (Attributor, with the system's resolver and
// the command's selection). Sinks take it from here.
#pragma once
#include "cli/poller.hpp"
#include "kernel/loader.hpp"
#include "model/attribution.hpp"
#include "resolve/exit_watch.hpp"
#include "resolve/system_resolver.hpp"

namespace netacct {

class Pipeline {
 public:
  Pipeline(const Session& session, Selection selection)
      : poller_(session.reader(), exits_), attributor_(std::move(selection), resolver_) {}
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  Attributed next() { return attributor_.attribute(poller_.poll()); }
  int64_t last_mono_ns() const { return poller_.last_mono_ns(); }
  const Poller& poller() const { return poller_; }

 private:
  // A pidfd per process watched: more than the usual soft limit of 1024
  // files on a busy host.
  struct OpenFilesLimit {
    OpenFilesLimit() { raise_open_files_limit(); }
  } open_files_limit_;
  PidfdWatch exits_;
  SystemResolver resolver_;
  Poller poller_;
  Attributor attributor_;
};

}  // namespace netacct
