#include "stderr_watch.hpp"

#include <linux/seccomp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace kt {
namespace {

std::string readRemote(pid_t pid, uint64_t addr, size_t len) {
  std::string out(len, '\0');
  iovec local{out.data(), len};
  iovec remote{reinterpret_cast<void*>(addr), len};
  const ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
  out.resize(n > 0 ? size_t(n) : 0);
  return out;
}

// What write(2, buf, n) or writev(2, iov, cnt) is about to write.
std::string payload(const seccomp_notif& n) {
  const uint64_t a1 = n.data.args[1], a2 = n.data.args[2];
  if (n.data.nr == __NR_write) return readRemote(n.pid, a1, size_t(std::min<uint64_t>(a2, 65536)));
  std::string out;
  const std::string iovs =
      readRemote(n.pid, a1, size_t(std::min<uint64_t>(a2, 64)) * sizeof(iovec));
  for (size_t i = 0; i + sizeof(iovec) <= iovs.size(); i += sizeof(iovec)) {
    iovec v;
    std::memcpy(&v, iovs.data() + i, sizeof v);
    out += readRemote(n.pid, reinterpret_cast<uint64_t>(v.iov_base),
                      std::min<size_t>(v.iov_len, 65536));
  }
  return out;
}

}  // namespace

StderrWatch::StderrWatch(Process& p, AtLine at_line)
    : proc_(p), at_line_(std::move(at_line)), listener_(p.takeStderrListener()) {
  if (listener_ < 0) throw std::logic_error("StderrWatch: process not started with watch_stderr");
  thread_ = std::thread([this] { run(); });
}

StderrWatch::~StderrWatch() {
  proc_.waitExit(std::chrono::seconds(30));
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  close(listener_);
}

void StderrWatch::run() {
  seccomp_notif_sizes sizes{};
  if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0) return;
  std::vector<char> req_buf(std::max<size_t>(sizes.seccomp_notif, sizeof(seccomp_notif)));
  std::vector<char> resp_buf(
      std::max<size_t>(sizes.seccomp_notif_resp, sizeof(seccomp_notif_resp)));
  while (!stop_) {
    pollfd p{listener_, POLLIN, 0};
    const int rc = poll(&p, 1, 100);
    if (rc <= 0) continue;
    if (p.revents & (POLLHUP | POLLERR)) break;  // the process is gone
    std::fill(req_buf.begin(), req_buf.end(), 0);
    auto* req = reinterpret_cast<seccomp_notif*>(req_buf.data());
    if (ioctl(listener_, SECCOMP_IOCTL_NOTIF_RECV, req) != 0) {
      if (errno == EINTR || errno == ENOENT) continue;
      break;
    }
    const std::string data = payload(*req);
    // Only this thread writes text_ and lines_; the lock is for readers.
    for (size_t i = 0; i < data.size();) {
      std::string so_far;
      bool starts;
      {
        std::lock_guard lock(mu_);
        starts = text_.empty() || text_.back() == '\n';
        if (starts) so_far = text_;
      }
      const std::string at = starts && at_line_ ? at_line_(so_far) : "";
      const size_t nl = data.find('\n', i);
      const size_t end = nl == std::string::npos ? data.size() : nl + 1;
      const std::string part = data.substr(i, end - i);
      std::lock_guard lock(mu_);
      if (starts) lines_.push_back({"", at});
      text_ += part;
      if (!lines_.empty())
        lines_.back().text += nl == std::string::npos ? part : part.substr(0, part.size() - 1);
      i = end;
    }
    std::fill(resp_buf.begin(), resp_buf.end(), 0);
    auto* resp = reinterpret_cast<seccomp_notif_resp*>(resp_buf.data());
    resp->id = req->id;
    resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    ioctl(listener_, SECCOMP_IOCTL_NOTIF_SEND, resp);  // ENOENT: it died meanwhile
  }
}

std::vector<StderrWatch::Line> StderrWatch::lines() {
  std::lock_guard lock(mu_);
  return lines_;
}

std::string StderrWatch::text() {
  std::lock_guard lock(mu_);
  return text_;
}

}  // namespace kt
