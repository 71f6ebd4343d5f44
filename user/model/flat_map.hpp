// A hash map for long-lived per-key state: entries in chunks of stable
// storage (an entry's address holds while it lives; freed ones are reused),
// found through a FlatIndex. No node per entry, no chain to walk: a lookup
// costs an index slot and the entry.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "model/flat_index.hpp"

namespace netacct {

template <typename K, typename V>
class FlatMap {
 public:
  struct Entry {
    K key{};
    V value{};
    uint32_t self = 0;  // its own index
  };

  std::size_t size() const { return index_.size(); }
  Entry* find(const K& key) {
    auto at = index_.find(hash(key), [&](uint32_t i) { return at_(i).key == key; });
    return at ? &at_(*at) : nullptr;
  }
  const Entry* find(const K& key) const { return const_cast<FlatMap*>(this)->find(key); }
  // Finds the entry or adds one with a default value (`fresh`).
  Entry* get(const K& key, bool& fresh) {
    uint32_t next = free_.empty() ? uint32_t(count_) : free_.back();
    auto [i, added] =
        index_.find_or_add(hash(key), next, [&](uint32_t k) { return at_(k).key == key; });
    fresh = added;
    if (!added) return &at_(i);
    if (free_.empty()) {
      if (count_ % kChunk == 0) chunks_.push_back(std::make_unique<Entry[]>(kChunk));
      ++count_;
    } else {
      free_.pop_back();
    }
    Entry& e = at_(i);
    e.key = key;
    e.self = i;
    return &e;
  }
  void erase(Entry* e) {
    index_.erase(hash(e->key), e->self);
    uint32_t self = e->self;
    *e = Entry{};
    e->self = kFree;
    free_.push_back(self);
  }
  // Whether a remembered entry address still holds this key (an erased
  // entry's storage stays, free or reused by another key).
  static bool holds(const Entry* e, const K& key) {
    return e && e->self != kFree && e->key == key;
  }

 private:
  static constexpr std::size_t kChunk = 1024;
  static constexpr uint32_t kFree = UINT32_MAX;
  std::vector<std::unique_ptr<Entry[]>> chunks_;
  std::size_t count_ = 0;  // entries ever made (used or free)
  std::vector<uint32_t> free_;
  FlatIndex index_;

  Entry& at_(uint32_t i) { return chunks_[i / kChunk][i % kChunk]; }
  static std::size_t hash(const K& key) { return std::hash<K>()(key); }
};

}  // namespace netacct
