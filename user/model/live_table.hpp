// State kept per kernel map entry, updated in place from one snapshot to
// the next (never rebuilt), found by id. Entries live in one vector (a
// reference is an index, stable while the entry lives), found through a
// FlatIndex: a lookup costs an index slot and the entry.
//
// A snapshot that holds every entry is visited in the map's order, which
// stays the same from one read to the next (a BPF hash map returns its
// buckets in order; only inserted and deleted entries move): the table
// remembers that order and looks the next entry up where the previous one
// was, so a pass over an unchanged map is a sequential walk, not a hash
// lookup per entry. Entries it did not visit are gone; the table finds them
// among the entries the walk skipped, without scanning the others.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "model/flat_index.hpp"

namespace netacct {

template <typename Id, typename State>
class LiveTable {
 public:
  using Ref = uint32_t;
  static constexpr Ref kNone = UINT32_MAX;

  std::size_t size() const { return index_.size(); }
  const Id& id(Ref r) const { return entries_[r].id; }
  State& state(Ref r) { return entries_[r].state; }

  Ref find(const Id& id) const {
    auto at = index_.find(hash(id), [&](uint32_t k) { return entries_[k].id == id; });
    return at ? *at : kNone;
  }
  // Whether `r` is the live entry of this id (a remembered reference may
  // since have been erased or reused).
  bool holds(Ref r, const Id& id) const {
    return r < entries_.size() && entries_[r].live && entries_[r].id == id;
  }
  // Finds the entry, or adds it (`fresh`), outside of a pass.
  Ref get(const Id& id, bool& fresh) {
    Ref r = add(id, fresh);
    if (fresh) order_known_ = false;  // not in order_
    return r;
  }
  // Not during a pass.
  void erase(Ref r) {
    Entry& e = entries_[r];
    if (e.pos < order_.size() && order_[e.pos] == r) order_[e.pos] = kNone;
    index_.erase(hash(e.id), r);
    e = Entry{};
    e.live = false;
    free_.push_back(r);
  }
  void reserve(std::size_t n) {
    entries_.reserve(n);
    index_.reserve(n);
  }

  // A pass over a snapshot that holds every entry: visit() each of them,
  // in the snapshot's order, then finish() to drop those not visited.
  void start_pass() {
    ++pass_;
    cursor_ = 0;
    next_.clear();
    next_.reserve(size());
    skipped_.clear();
  }
  Ref visit(const Id& id, bool& fresh) {
    while (cursor_ < order_.size() && order_[cursor_] == kNone) ++cursor_;
    fresh = false;
    Ref r = kNone;
    if (cursor_ < order_.size() && entries_[order_[cursor_]].id == id) {
      r = order_[cursor_++];
    } else {
      r = add(id, fresh);
      // Out of order: the entries between the cursor and this one were
      // skipped (gone, or moved later in the map's order).
      uint32_t pos = entries_[r].pos;
      if (!fresh && pos < order_.size() && order_[pos] == r && pos >= cursor_) {
        for (std::size_t k = cursor_; k < pos; ++k)
          if (order_[k] != kNone) skipped_.push_back(order_[k]);
        cursor_ = pos + 1;
      }
    }
    entries_[r].pos = uint32_t(next_.size());
    entries_[r].pass = pass_;
    next_.push_back(r);
    return r;
  }
  // Entries not visited in this pass are gone: gone(ref) is called for
  // each, then they are erased.
  template <typename F>
  void finish(F&& gone) {
    std::vector<Ref> drop;
    if (order_known_) {
      for (std::size_t k = cursor_; k < order_.size(); ++k)
        if (order_[k] != kNone) skipped_.push_back(order_[k]);
      for (Ref r : skipped_)
        if (entries_[r].pass != pass_) drop.push_back(r);
    } else if (size() > next_.size()) {  // order_ did not list every entry: look at all
      for (Ref r = 0; r < entries_.size(); ++r)
        if (entries_[r].live && entries_[r].pass != pass_) drop.push_back(r);
    }
    order_.swap(next_);
    order_known_ = true;
    for (Ref r : drop) {
      gone(r);
      erase(r);
    }
  }

 private:
  struct Entry {
    Id id{};
    State state{};
    uint32_t pos = UINT32_MAX;  // index in order_ (the last pass)
    uint32_t pass = 0;          // the last pass that visited it
    bool live = true;
  };
  std::vector<Entry> entries_;
  std::vector<Ref> free_;
  FlatIndex index_;
  std::vector<Ref> order_;   // the last pass's order; kNone: erased since
  bool order_known_ = true;  // order_ lists every entry
  std::vector<Ref> next_, skipped_;
  std::size_t cursor_ = 0;
  uint32_t pass_ = 0;

  static std::size_t hash(const Id& id) { return std::hash<Id>()(id); }
  Ref add(const Id& id, bool& fresh) {
    Ref slot = free_.empty() ? Ref(entries_.size()) : free_.back();
    auto [r, added] =
        index_.find_or_add(hash(id), slot, [&](uint32_t k) { return entries_[k].id == id; });
    fresh = added;
    if (!added) return r;
    if (free_.empty())
      entries_.push_back(Entry{.id = id});
    else {
      free_.pop_back();
      entries_[r] = Entry{.id = id};
    }
    return r;
  }
};

}  // namespace netacct
