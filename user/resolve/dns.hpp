// Reverse DNS that never blocks the caller: lookup() answers from a cache
// and queues unknown addresses for one background thread; settle() waits,
// up to a deadline, for what is queued.
#pragma once
#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace netacct {

class ReverseDns {
 public:
  ReverseDns();
  ~ReverseDns();  // does not wait for a lookup in flight
  std::optional<std::string> lookup(uint16_t family, const std::array<uint8_t, 16>& addr);
  // Until no lookup is queued or in flight, or `deadline`: a lookup the
  // resolver never answers holds the queue behind it for its own timeout.
  void settle(std::chrono::steady_clock::time_point deadline);

 private:
  using Key = std::pair<uint16_t, std::array<uint8_t, 16>>;
  struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<Key> queue;
    std::map<Key, std::optional<std::string>> cache;  // nullopt: pending or no name
    bool busy = false;                                // a lookup in flight
    bool stop = false;
  };
  std::shared_ptr<Shared> shared_;
  static void work(std::shared_ptr<Shared> s);
};

}  // namespace netacct
