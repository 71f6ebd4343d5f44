#include "kernel/dns_capture.hpp"

#include <bpf/libbpf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "kernel/abi.hpp"

namespace netacct {

std::unique_ptr<DnsCapture> DnsCapture::open(int ring_fd, const volatile uint64_t* lost,
                                             std::string* error) {
  std::unique_ptr<DnsCapture> c(new DnsCapture(lost));
  c->ring_ = ring_buffer__new(ring_fd, &DnsCapture::on_sample, c.get(), nullptr);
  if (!c->ring_) {
    *error = std::string("cannot map the DNS answer ring: ") + strerror(errno);
    return nullptr;
  }
  return c;
}

DnsCapture::~DnsCapture() { ring_buffer__free(ring_); }

int DnsCapture::fd() const { return ring_buffer__epoll_fd(ring_); }

int DnsCapture::on_sample(void* self, void* data, size_t size) {
  auto* c = static_cast<DnsCapture*>(self);
  if (size < sizeof(na_dns_event) || !c->take_) return 0;
  const auto* e = static_cast<const na_dns_event*>(data);
  uint32_t len = std::min<uint32_t>(e->len, NA_DNS_MAX);
  DnsMessage m{.cookie = e->cookie,
               .cgroup_id = e->cgroup_id,
               .mono_ns = int64_t(e->mono_ns),
               .msg_len = e->msg_len,
               .bytes = std::vector<uint8_t>(e->data, e->data + len)};
  (*c->take_)(std::move(m));
  return 0;
}

void DnsCapture::drain(const std::function<void(DnsMessage&&)>& take) {
  take_ = &take;
  ring_buffer__consume(ring_);
  take_ = nullptr;
}

}  // namespace netacct
