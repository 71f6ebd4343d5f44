// An index from keys to positions in a vector its user owns: open
// addressing (linear probing) over 8-byte slots (32 bits of the key's hash,
// position + 1), no allocation per key, so a lookup costs a slot and the
// user's entry, not a chain of nodes. Keys are compared through the user's
// vector. Grows; never shrinks.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace netacct {

class FlatIndex {
 public:
  explicit FlatIndex(size_t expected = 0) { resize(expected); }

  // The position of the key that `same(position)` recognises, or `next`
  // (added, second = true) when there is none.
  template <typename Same>
  std::pair<uint32_t, bool> find_or_add(size_t hash, uint32_t next, Same&& same) {
    if (2 * (size_ + 1) > slots_.size()) resize(2 * (size_ + 1));
    uint32_t h = uint32_t(hash ^ (hash >> 32));
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (!s.at) {
        s = {h, next + 1};
        ++size_;
        return {next, true};
      }
      if (s.hash == h && same(s.at - 1)) return {s.at - 1, false};
    }
  }
  // The position of the key that `same(position)` recognises, if any.
  template <typename Same>
  std::optional<uint32_t> find(size_t hash, Same&& same) const {
    if (slots_.empty()) return std::nullopt;
    uint32_t h = uint32_t(hash ^ (hash >> 32));
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (!s.at) return std::nullopt;
      if (s.hash == h && same(s.at - 1)) return s.at - 1;
    }
  }
  // Removes the key at `position` (whose hash is `hash`); the slots after
  // it move back so that no probe sequence is broken.
  void erase(size_t hash, uint32_t position) {
    if (slots_.empty()) return;
    uint32_t h = uint32_t(hash ^ (hash >> 32));
    size_t i = h & mask_;
    while (slots_[i].at && slots_[i].at != position + 1) i = (i + 1) & mask_;
    if (!slots_[i].at) return;
    --size_;
    for (size_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
      if (!slots_[j].at) break;
      size_t home = slots_[j].hash & mask_;
      // Slot j may fill the hole at i unless its home lies in (i, j].
      bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
      if (stays) continue;
      slots_[i] = slots_[j];
      i = j;
    }
    slots_[i] = Slot{};
  }
  // Makes room for `n` keys at once.
  void reserve(size_t n) { resize(n); }
  size_t size() const { return size_; }

 private:
  struct Slot {
    uint32_t hash = 0, at = 0;  // at: position + 1; 0: empty
  };
  std::vector<Slot> slots_;
  size_t mask_ = 0, size_ = 0;

  void resize(size_t want) {
    size_t n = 16;
    while (n < 2 * want) n *= 2;
    if (n <= slots_.size()) return;
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(n, Slot{});
    mask_ = n - 1;
    for (const Slot& s : old)
      if (s.at)
        for (size_t i = s.hash & mask_;; i = (i + 1) & mask_)
          if (!slots_[i].at) {
            slots_[i] = s;
            break;
          }
  }
};

}  // namespace netacct
