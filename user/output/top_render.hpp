// The live view as a pure function: model rows + view state -> lines of
// text of exactly the terminal's width. No escape codes: the terminal layer
// only positions them, so frames are golden-tested as plain strings.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "model/top_model.hpp"

namespace netacct {

struct TopState {
  TopQuery query;
  bool cumulative = false;             // c: cumulative bytes instead of rates
  bool bits = false;                   // b
  bool paused = false;                 // p
  bool help = false;                   // h / ?
  bool dns = false;                    // n
  size_t selected = 0;                 // index into the rows
  std::optional<std::string> editing;  // filter being typed after '/'
};

struct TopHeader {
  std::string clock;  // "15:40:01"
  std::string backend;
  TopTotals totals;
  double cpu_percent = 0;    // netacct's own CPU, of one core
  double ns_per_event = -1;  // kernel programs' mean run time; < 0 unknown
  uint64_t evicted = 0;      // connection entries lost to the LRU
  std::string drill_name;    // "postgres (4121)" when drilled in
};

// `height` 0: as many lines as needed (batch mode).
std::vector<std::string> render_top(const TopHeader& header, const std::vector<TopRow>& rows,
                                    const TopState& state, size_t width, size_t height, bool utf8);

// Compact amount: "0B", "512B", "1.50K", "245M"; with bits "1.97Gb".
std::string compact(double bytes, bool bits);

// Which row index is first on screen so that `selected` is visible.
size_t first_visible(size_t selected, size_t rows, size_t visible);

std::string view_name(View v);

// History columns: 8 buckets of 5 s on an 80-column screen, 20 of 2 s when
// there is room.
size_t spark_width(size_t width);

}  // namespace netacct
