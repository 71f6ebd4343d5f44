// The live view as pure functions: the model's rows + view state -> the
// rows on screen (filtered, sorted) -> lines of text of exactly the
// terminal's width. No escape codes: the terminal layer only positions
// them, so frames are golden-tested as plain strings.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "model/top_model.hpp"
#include "output/format.hpp"

namespace netacct {

struct TopState {
  TopQuery query;                      // what the model is asked for
  SortBy sort = SortBy::total;         // s r t
  size_t window = 0;                   // 1 2 3: index into kRateWindows used for sorting
  bool show_ports = true;              // P
  std::string filter;                  // substring of what a row shows, or a whole PID
  bool cumulative = false;             // c: cumulative bytes instead of rates
  bool bits = false;                   // b
  bool paused = false;                 // p
  bool help = false;                   // h / ?
  bool dns = false;                    // n
  bool wire_layer = false;             // the wire layer runs: w toggles query.layer
  size_t selected = 0;                 // index into the rows
  std::optional<std::string> editing;  // filter being typed after '/'
  Namer name;                          // names for remote addresses while `dns` is on
};

struct TopHeader {
  std::string clock;  // "15:40:01"
  std::string backend;
  TopTotals totals;
  double cpu_percent = 0;    // netacct's own CPU, of one core
  double ns_per_event = -1;  // kernel programs' mean run time; < 0 unknown
  uint64_t evicted = 0;      // connection entries evicted to make room
  std::string drill_name;    // "PID 4121" when drilled in; raw (escaped here)
  // The last window's receipt (wire layer; empty without it) and the
  // window's length: a fourth header line.
  Receipt wire;
  double wire_seconds = 0;
};

// The view's rows as shown: the filter applied to the text on screen (a
// process also matches through its connections, so "/5432" finds who talks
// to or serves port 5432), then sorted.
std::vector<TopRow> visible_rows(const TopModel& model, const TopState& st);

// What one frame shows of them: every row is counted and ranked, but only
// those on screen are made (their identity, rates and history), so a frame
// costs the rows on view plus one number per row.
struct FrameRows {
  size_t count = 0;          // rows of the view, filtered
  size_t first = 0;          // index of rows[0] in the sorted view
  std::vector<TopRow> rows;  // from `first` on, as many as the screen shows
  const TopRow* at(size_t i) const {
    return i >= first && i - first < rows.size() ? &rows[i - first] : nullptr;
  }
  bool complete() const { return rows.size() == count; }
};
// `room`: how many rows the screen shows (rows_room()); SIZE_MAX makes them all.
FrameRows frame_rows(const TopModel& model, const TopState& st, size_t room);
// How many rows fit on a screen `height` lines high; 0 (batch): all.
size_t rows_room(size_t height, const TopHeader& header);

// The text a row shows for the column titled `title` ("PROGRAM", "REMOTE"):
// remote addresses named while DNS is on, ports only while shown.
std::string shown_text(const Grouping& g, const TopRow& r, const TopState& st,
                       const std::string& title);

// `height` 0: as many lines as needed (batch mode).
std::vector<std::string> render_top(const TopHeader& header, const std::vector<TopRow>& rows,
                                    const TopState& state, size_t width, size_t height, bool utf8);
std::vector<std::string> render_frame(const TopHeader& header, const FrameRows& rows,
                                      const TopState& state, size_t width, size_t height,
                                      bool utf8);

// Which row index is first on screen so that `selected` is visible.
size_t first_visible(size_t selected, size_t rows, size_t visible);

std::string view_name(GroupKind v);

// History columns: 8 buckets of 5 s on an 80-column screen, 20 of 2 s when
// there is room.
size_t spark_width(size_t width);

}  // namespace netacct
