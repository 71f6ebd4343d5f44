// Reverse DNS that never blocks the caller: lookup() answers from a cache
// and queues unknown addresses for one background thread.
#pragma once
#include <array>
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

 private:
  using Key = std::pair<uint16_t, std::array<uint8_t, 16>>;
  struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<Key> queue;
    std::map<Key, std::optional<std::string>> cache;  // nullopt: pending or no name
    bool stop = false;
  };
  std::shared_ptr<Shared> shared_;
  static void work(std::shared_ptr<Shared> s);
};

}  // namespace netacct
