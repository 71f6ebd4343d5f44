// FlatIndex against std::unordered_map over random adds and erases, with a
// weak hash (many equal hashes, long probe runs that wrap around the end).
#include "model/flat_index.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <unordered_map>

#include "model/flat_map.hpp"

using namespace netacct;

namespace {

TEST(FlatIndex, SameAnswersAsAMapThroughAddsAndErases) {
  std::mt19937_64 rng(11);
  for (uint64_t spread : {1000000u, 64u, 3u}) {  // 3: nearly every key collides
    SCOPED_TRACE("spread " + std::to_string(spread));
    FlatIndex index;
    std::vector<uint64_t> keys;  // by position; 0: free
    std::vector<uint32_t> free;
    std::unordered_map<uint64_t, uint32_t> plain;
    auto hash = [&](uint64_t k) { return size_t(k % spread) * 0x9e3779b97f4a7c15ull; };
    for (int step = 0; step < 20000; ++step) {
      uint64_t k = 1 + rng() % 700;
      auto same = [&](uint32_t p) { return keys[p] == k; };
      if (rng() % 3) {
        uint32_t next = free.empty() ? uint32_t(keys.size()) : free.back();
        auto [p, fresh] = index.find_or_add(hash(k), next, same);
        ASSERT_EQ(fresh, !plain.count(k));
        if (fresh) {
          if (free.empty())
            keys.push_back(k);
          else
            free.pop_back(), keys[p] = k;
          plain[k] = p;
        }
        ASSERT_EQ(p, plain[k]);
      } else if (auto it = plain.find(k); it != plain.end()) {
        index.erase(hash(k), it->second);
        keys[it->second] = 0;
        free.push_back(it->second);
        plain.erase(it);
      }
      ASSERT_EQ(index.size(), plain.size());
      if (step % 97 == 0)
        for (uint64_t q = 1; q <= 700; ++q) {
          auto at = index.find(hash(q), [&](uint32_t p) { return keys[p] == q; });
          auto it = plain.find(q);
          ASSERT_EQ(bool(at), it != plain.end()) << "key " << q;
          if (at) {
            ASSERT_EQ(*at, it->second);
          }
        }
    }
  }
}

}  // namespace

namespace {

// FlatMap keeps each entry where it was made while it lives (the live view
// holds pointers to its rows) and reuses the place of erased ones.
TEST(FlatMap, SameAsAMapAndEntriesStayPut) {
  std::mt19937_64 rng(5);
  FlatMap<uint64_t, std::string> map;
  std::unordered_map<uint64_t, std::pair<std::string, const void*>> plain;
  for (int step = 0; step < 30000; ++step) {
    uint64_t k = rng() % 3000;
    if (rng() % 4) {
      bool fresh = false;
      auto* e = map.get(k, fresh);
      ASSERT_EQ(fresh, !plain.count(k));
      if (fresh) {
        e->value = "v" + std::to_string(k);
        plain[k] = {e->value, e};
      }
      ASSERT_EQ(e, plain[k].second);  // the same place since it was made
      ASSERT_EQ(e->key, k);
      ASSERT_EQ(e->value, plain[k].first);
    } else if (auto* e = map.find(k)) {
      map.erase(e);
      plain.erase(k);
    }
    ASSERT_EQ(map.size(), plain.size());
  }
  for (const auto& [k, v] : plain) ASSERT_EQ(map.find(k)->value, v.first);
}

}  // namespace
