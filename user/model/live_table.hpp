// State kept per kernel map entry, updated in place from one snapshot to
// the next (never rebuilt), found by id.
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
#include <unordered_map>
#include <vector>

namespace netacct {

template <typename Id, typename State>
class LiveTable {
  struct Slot;

 public:
  using Node = std::pair<const Id, Slot>;  // node addresses are stable

  std::size_t size() const { return map_.size(); }
  static State& state(Node* n) { return n->second.state; }

  Node* find(const Id& id) {
    auto it = map_.find(id);
    return it == map_.end() ? nullptr : &*it;
  }
  // Finds the entry, or adds it (`fresh`), outside of a pass.
  Node* get(const Id& id, bool& fresh) {
    auto [it, added] = map_.try_emplace(id);
    fresh = added;
    if (added) order_known_ = false;  // not in order_
    return &*it;
  }
  void erase(Node* n) {
    if (n->second.pos < order_.size() && order_[n->second.pos] == n)
      order_[n->second.pos] = nullptr;
    Id id = n->first;
    map_.erase(id);
  }
  template <typename F>
  void for_each(F&& f) {
    for (auto& n : map_) f(&n);
  }

  // A pass over a snapshot that holds every entry: visit() each of them,
  // in the snapshot's order, then finish() to drop those not visited.
  void start_pass() {
    ++pass_;
    cursor_ = 0;
    next_.clear();
    next_.reserve(map_.size());
    skipped_.clear();
  }
  Node* visit(const Id& id, bool& fresh) {
    while (cursor_ < order_.size() && !order_[cursor_]) ++cursor_;
    Node* n = cursor_ < order_.size() && order_[cursor_]->first == id ? order_[cursor_] : nullptr;
    fresh = false;
    if (n) {
      ++cursor_;
    } else if ((n = find(id))) {
      // Out of order: the entries between the cursor and this one were
      // skipped (gone, or moved later in the map's order).
      uint32_t pos = n->second.pos;
      if (pos < order_.size() && order_[pos] == n && pos >= cursor_) {
        for (std::size_t k = cursor_; k < pos; ++k)
          if (order_[k]) skipped_.push_back(order_[k]);
        cursor_ = pos + 1;
      }
    } else {
      n = &*map_.try_emplace(id).first;
      fresh = true;
    }
    n->second.pos = uint32_t(next_.size());
    n->second.pass = pass_;
    next_.push_back(n);
    return n;
  }
  // Entries not visited in this pass are gone: gone(node) is called for
  // each, then they are erased.
  template <typename F>
  void finish(F&& gone) {
    std::vector<Node*> drop;
    if (order_known_) {
      for (std::size_t k = cursor_; k < order_.size(); ++k)
        if (order_[k]) skipped_.push_back(order_[k]);
      for (Node* n : skipped_)
        if (n->second.pass != pass_) drop.push_back(n);
    } else if (map_.size() > next_.size()) {  // order_ did not list every entry: look at all
      for (auto& n : map_)
        if (n.second.pass != pass_) drop.push_back(&n);
    }
    for (Node* n : drop) {
      gone(n);
      map_.erase(Id(n->first));
    }
    order_.swap(next_);
    order_known_ = true;
  }

 private:
  struct Slot {
    State state{};
    uint32_t pos = UINT32_MAX;  // index in order_ (the last pass)
    uint32_t pass = 0;          // the last pass that visited it
  };
  std::unordered_map<Id, Slot> map_;
  std::vector<Node*> order_;  // the last pass's order; null: erased since
  bool order_known_ = true;   // order_ lists every entry of map_
  std::vector<Node*> next_, skipped_;
  std::size_t cursor_ = 0;
  uint32_t pass_ = 0;
};

}  // namespace netacct
