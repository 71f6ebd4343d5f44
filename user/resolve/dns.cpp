#include "resolve/dns.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

namespace netacct {
namespace {

std::optional<std::string> reverse(uint16_t family, const std::array<uint8_t, 16>& addr) {
  sockaddr_storage ss{};
  socklen_t len;
  if (family == AF_INET6) {
    auto* sa = reinterpret_cast<sockaddr_in6*>(&ss);
    sa->sin6_family = AF_INET6;
    std::memcpy(&sa->sin6_addr, addr.data(), 16);
    len = sizeof(*sa);
  } else {
    auto* sa = reinterpret_cast<sockaddr_in*>(&ss);
    sa->sin_family = AF_INET;
    std::memcpy(&sa->sin_addr, addr.data(), 4);
    len = sizeof(*sa);
  }
  char host[NI_MAXHOST];
  if (getnameinfo(reinterpret_cast<sockaddr*>(&ss), len, host, sizeof host, nullptr, 0,
                  NI_NAMEREQD) != 0)
    return std::nullopt;
  return std::string(host);
}

}  // namespace

ReverseDns::ReverseDns() : shared_(std::make_shared<Shared>()) {
  std::thread(work, shared_).detach();  // owns a reference: outlives us safely
}

ReverseDns::~ReverseDns() {
  std::lock_guard lock(shared_->mu);
  shared_->stop = true;
  shared_->cv.notify_all();
}

std::optional<std::string> ReverseDns::lookup(uint16_t family,
                                              const std::array<uint8_t, 16>& addr) {
  std::lock_guard lock(shared_->mu);
  Key key{family, addr};
  auto [it, fresh] = shared_->cache.try_emplace(key);
  if (fresh) {
    shared_->queue.push_back(key);
    shared_->cv.notify_all();
  }
  return it->second;
}

void ReverseDns::settle(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(shared_->mu);
  shared_->cv.wait_until(lock, deadline, [&] { return shared_->queue.empty() && !shared_->busy; });
}

// One condition variable for both sides (the worker waits for work, settle()
// for its end): every change is announced to all.
void ReverseDns::work(std::shared_ptr<Shared> s) {
  std::unique_lock lock(s->mu);
  for (;;) {
    s->cv.wait(lock, [&] { return s->stop || !s->queue.empty(); });
    if (s->stop) return;
    Key key = s->queue.front();
    s->queue.pop_front();
    s->busy = true;
    lock.unlock();
    auto name = reverse(key.first, key.second);
    lock.lock();
    s->cache[key] = name;
    s->busy = false;
    s->cv.notify_all();
  }
}

}  // namespace netacct
