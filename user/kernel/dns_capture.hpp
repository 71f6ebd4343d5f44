// The DNS answers the kernel captured (bpf/netacct.h, na_dns_event), read
// from their ring buffer: its fd goes into the command's event loop, and
// each refresh drains what is left before it attributes the window.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "model/remote_names.hpp"

struct ring_buffer;

namespace netacct {

class DnsCapture {
 public:
  // nullptr and *error when the ring cannot be mapped. `lost`: the
  // program's count of answers that found the ring full.
  static std::unique_ptr<DnsCapture> open(int ring_fd, const volatile uint64_t* lost,
                                          std::string* error);
  ~DnsCapture();
  DnsCapture(const DnsCapture&) = delete;
  DnsCapture& operator=(const DnsCapture&) = delete;

  // Readable when answers wait (epoll fd of the ring).
  int fd() const;
  // Hands every waiting answer to `take`, in arrival order.
  void drain(const std::function<void(DnsMessage&&)>& take);
  uint64_t lost() const { return *lost_; }

 private:
  DnsCapture(const volatile uint64_t* lost) : lost_(lost) {}
  static int on_sample(void* self, void* data, size_t size);
  ring_buffer* ring_ = nullptr;
  const volatile uint64_t* lost_;
  const std::function<void(DnsMessage&&)>* take_ = nullptr;
};

}  // namespace netacct
