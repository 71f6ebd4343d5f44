#include "output/top_render.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

namespace netacct {
namespace {

constexpr size_t kNum = 7;        // one numeric column: space + 6 characters
constexpr size_t kTotalW = 13;    // cumulative mode's exact byte column
constexpr size_t kMinExtra = 12;  // narrowest useful executable column
constexpr size_t kAboveRows =
    5;  // header (3; 4 with the wire line), a blank line, the column header

size_t cells(const std::string& s) { return display_width(s); }

std::string fit(const std::string& s, size_t width) {
  size_t n = cells(s);
  if (n <= width) return s + std::string(width - n, ' ');
  std::string out;
  size_t w = 0;
  for (size_t i = 0; i < s.size() && w < width - 1; ++i) {
    out += s[i];
    if ((static_cast<unsigned char>(s[i]) & 0xc0) != 0x80) ++w;
  }
  return out + "~";
}

std::string right(const std::string& s, size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}

std::string amount(double bytes, bool bits) {
  return format_bytes(bytes, bits ? ByteStyle::bits : ByteStyle::compact);
}

// The identity columns of a grouping: those before its traffic columns.
std::vector<const Column*> identity_columns(const Grouping& g) {
  std::vector<const Column*> out;
  for (const auto& c : g.columns) {
    if (c.unit == Unit::bytes) break;
    if (c.sinks & kText) out.push_back(&c);
  }
  return out;
}

// A remote address as top shows it: the name from the DNS answers (its
// source after it), else while `n` is on the reverse DNS name (ptr), else
// the address; ports only when shown.
struct RemoteShown {
  std::string text;  // the name (escaped) or the address, and the port
  std::string tag;   // " (answer)", " (namespace)", " (ptr)"; "" for an address
};

RemoteShown remote_parts(const Address& a, const GroupRow& row, const TopState& st) {
  std::optional<std::string> name;
  NameSource source = NameSource::ptr;
  if (row.name) {
    name = row.name->name;
    source = row.name->source;
  } else if (st.dns && st.name) {
    name = st.name(a.family, a.addr);
  }
  if (!name) return {address_text(a, st.show_ports), ""};
  Namer named = [&](uint16_t, const std::array<uint8_t, 16>&) { return name; };
  return {address_text(a, st.show_ports, &named),
          std::string(" (") + name_source_text(source) + ")"};
}

// One identity cell as top shows it.
std::string shown(const Column& c, const GroupRow& row, const TopState& st) {
  Cell cell = c.get(row);
  if (const auto* a = std::get_if<Address>(&cell)) {
    if (c.name != "remote") return address_text(*a, st.show_ports);
    RemoteShown r = remote_parts(*a, row, st);
    return r.text + r.tag;
  }
  return plain_text(cell, c.unit);
}

// `lead` and the remote as shown in `width` cells: a long name is cut, its
// source stays whole at the end.
std::string remote_line(const std::string& lead, const Grouping& g, const TopRow& r,
                        const TopState& st, size_t width) {
  for (const auto& c : g.columns) {
    if (c.name != "remote") continue;
    Cell cell = c.get(r.row);
    const auto* a = std::get_if<Address>(&cell);
    if (!a) break;
    RemoteShown shown = remote_parts(*a, r.row, st);
    std::string body = lead + shown.text;
    size_t tag = cells(shown.tag);
    if (cells(body) + tag > width && width > cells(lead) + tag + 1) body = fit(body, width - tag);
    return body + shown.tag;
  }
  return lead;
}

std::string shown(const Grouping& g, const TopRow& r, const TopState& st,
                  const std::string& title) {
  return shown_text(g, r, st, title);
}

bool matches(const Grouping& g, const TopRow& r, const TopState& st) {
  if (st.filter.empty()) return true;
  for (const Column* c : identity_columns(g)) {
    if (c->unit == Unit::count) continue;  // numbers match whole, below
    if (shown(*c, r.row, st).find(st.filter) != std::string::npos) return true;
  }
  return g.has_process && r.row.key.proc.tgid != 0 &&
         std::to_string(r.row.key.proc.tgid) == st.filter;
}

// How each view lays out its two identity lines; a grouping without an
// entry shows its identity columns in order.
struct Layout {
  size_t max_width;  // the numbers stay next to the identity on wide screens
  std::string (*header)(size_t id_w);
  std::pair<std::string, std::string> (*lines)(const Grouping&, const TopRow&, const TopState&,
                                               size_t id_w);
};

std::string pid_text(const TopRow& r) {
  char pid[16];
  std::snprintf(pid, sizeof pid, "%6u", r.row.key.proc.tgid);
  return pid;
}

std::string exited_text(const TopRow& r) { return r.row.who.exited ? " (exited)" : ""; }

// "10.0.0.1:5432" -> ":5432": narrow screens show only the local port.
std::string local_text(const std::string& local, size_t id_w) {
  auto colon = local.rfind(':');
  if (id_w >= 48 || colon == std::string::npos) return local;
  return local.substr(colon);
}

Layout process_layout() {
  return {.max_width = 40,
          .header = [](size_t) -> std::string { return "   PID USER     PROGRAM"; },
          .lines = [](const Grouping& g, const TopRow& r, const TopState& st,
                      size_t) -> std::pair<std::string, std::string> {
            std::string exited = exited_text(r);
            return {pid_text(r) + " " + fit(shown(g, r, st, "USER"), 8) + " " +
                        shown(g, r, st, "PROGRAM"),
                    exited.empty() ? "" : "      " + exited};
          }};
}

Layout connection_layout() {
  return {.max_width = 64,
          .header = [](size_t id_w) -> std::string {
            return id_w >= 48 ? "   PID PROGRAM PROTO LOCAL / REMOTE" : "   PID PROGRAM PROTO PORT";
          },
          .lines = [](const Grouping& g, const TopRow& r, const TopState& st,
                      size_t id_w) -> std::pair<std::string, std::string> {
            return {pid_text(r) + " " + shown(g, r, st, "PROGRAM") + exited_text(r) + " " +
                        shown(g, r, st, "PROTO") + " " + local_text(shown(g, r, st, "LOCAL"), id_w),
                    remote_line("       to ", g, r, st, id_w)};
          }};
}

Layout remote_layout() {
  return {.max_width = 48,
          .header = [](size_t) -> std::string { return "REMOTE HOST"; },
          .lines = [](const Grouping& g, const TopRow& r, const TopState& st,
                      size_t id_w) -> std::pair<std::string, std::string> {
            return {remote_line("", g, r, st, id_w), ""};
          }};
}

Layout generic_layout() { return {.max_width = 64, .header = nullptr, .lines = nullptr}; }

Layout layout(GroupKind kind) {
  switch (kind) {
    case GroupKind::process:
      return process_layout();
    case GroupKind::connection:
      return connection_layout();
    case GroupKind::remote:
      return remote_layout();
    case GroupKind::interface:
    case GroupKind::flow:
      return generic_layout();
  }
  return generic_layout();
}

std::string generic_header(const Grouping& g) {
  std::string out;
  for (const Column* c : identity_columns(g)) out += (out.empty() ? "" : " ") + c->title;
  return out;
}

std::pair<std::string, std::string> identity(const Grouping& g, const TopRow& r, const TopState& st,
                                             size_t id_w) {
  Layout l = layout(g.kind);
  if (l.lines) return l.lines(g, r, st, id_w);
  std::string out;
  for (const Column* c : identity_columns(g))
    out += (out.empty() ? "" : " ") + shown(*c, r.row, st);
  return {out, ""};
}

std::string spark_text(const std::vector<double>& v, double max, bool utf8) {
  static const char* blocks[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  static const char ascii[] = ".:-=+*#@";
  std::string out;
  for (double x : v) {
    if (x <= 0 || max <= 0) {
      out += ' ';
      continue;
    }
    int level = std::clamp(int(std::ceil(x / max * 8)) - 1, 0, 7);
    if (utf8)
      out += blocks[level];
    else
      out += ascii[level];
  }
  return out;
}

std::string numbers(const TopRow& r, bool tx, const TopState& st) {
  const auto& win = tx ? r.rates.tx : r.rates.rx;
  uint64_t total = tx ? r.totals.total_tx : r.totals.total_rx;
  std::string out;
  if (!st.cumulative) {
    for (double rate : win) out += right(amount(rate, st.bits), kNum);
    out += right(amount(tx ? r.totals.peak_tx : r.totals.peak_rx, st.bits), kNum);
    out += right(amount(double(total), st.bits), kNum);
    return out;
  }
  for (uint64_t bytes : tx ? r.rates.tx_bytes : r.rates.rx_bytes)
    out += right(amount(double(bytes), st.bits), kNum);
  return out + right(std::to_string(st.bits ? total * 8 : total), kTotalW);
}

size_t numbers_width(const TopState& st) { return st.cumulative ? 3 * kNum + kTotalW : 5 * kNum; }

// The widths of one frame: the identity column, and the executable column
// that takes what a wide screen has left (as top's COMMAND does).
struct Widths {
  size_t id = 12, spark = 8, extra = 0;
};

Widths widths(const Grouping& g, const TopState& st, size_t width) {
  Widths w{.spark = spark_width(width)};
  size_t fixed = 1 + 3 + numbers_width(st) + 2 + w.spark;
  if (width > fixed + w.id) w.id = width - fixed;
  w.id = std::max<size_t>(12, std::min(w.id, layout(g.kind).max_width));
  size_t used = fixed + w.id + 2;
  if (g.has_process && width >= used + kMinExtra) w.extra = width - used;
  return w;
}

std::vector<std::string> row_lines(const Grouping& g, const TopRow& r, const TopState& st,
                                   const Widths& w, bool selected, bool utf8) {
  auto [id1, id2] = identity(g, r, st, w.id);
  double max = 0;
  for (double x : r.spark.tx) max = std::max(max, x);
  for (double x : r.spark.rx) max = std::max(max, x);
  std::string cursor = selected ? ">" : " ";
  std::string l1 = cursor + fit(id1, w.id) + " =>" + numbers(r, true, st) + "  " +
                   spark_text(r.spark.tx, max, utf8);
  if (w.extra) l1 += "  " + fit(escape_visible(r.row.who.exe.value_or("")), w.extra);
  return {l1, cursor + fit(id2, w.id) + " <=" + numbers(r, false, st) + "  " +
                  spark_text(r.spark.rx, max, utf8)};
}

std::string column_header(const Grouping& g, const TopState& st, const Widths& w) {
  Layout l = layout(g.kind);
  std::string id = l.header ? l.header(w.id) : generic_header(g);
  std::string cols;
  for (const char* name : {"2s", "10s", "40s"}) cols += right(name, kNum);
  cols += st.cumulative ? right("TOTAL", kTotalW) : right("PEAK", kNum) + right("TOTAL", kNum);
  std::string out = " " + fit(id, w.id) + "   " + cols + "  " + fit("LAST 40s", w.spark);
  if (w.extra) out += "  EXECUTABLE";
  return out;
}

// The receipt of the last window, short enough for 80 columns: the
// interfaces' wire rate and how it breaks down, in percent of the wire
// bytes (README: "Wire layer"). Unexplained keeps a decimal: it must be
// small, and is shown.
std::string wire_line(const TopHeader& h, const TopState& st) {
  const ReceiptLine& t = h.wire.total;
  double secs = h.wire_seconds > 0 ? h.wire_seconds : 1;
  std::string out = "wire   " + amount(double(t.wire) / secs, st.bits) + "/s";
  if (t.wire) {
    auto pct = [&](const char* name, double v, const char* fmt) {
      char buf[48];
      std::snprintf(buf, sizeof buf, fmt, name, 100.0 * v / double(t.wire));
      out += buf;
    };
    pct("proc", double(t.process), "  %s %.0f%%");
    pct("retr", double(t.retrans), "  %s %.0f%%");
    pct("fwd", double(t.forwarded), "  %s %.0f%%");
    pct("nonsock", double(t.non_socket), "  %s %.0f%%");
    pct("noproc", double(t.no_process), "  %s %.0f%%");
    pct("unexpl", double(t.unexplained), "  %s %.1f%%");
  }
  size_t n = h.wire.interfaces.size();
  return out + "  (" + std::to_string(n) + (n == 1 ? " interface)" : " interfaces)");
}

std::vector<std::string> header_lines(const TopHeader& h, const TopState& st) {
  std::string unit = st.bits ? "bits" : "bytes";
  if (st.query.layer == Layer::wire) unit = "wire " + unit;
  std::string mode = st.cumulative ? unit + " moved" : unit + "/s";
  std::string view = view_name(st.query.view) +
                     (h.drill_name.empty() ? "" : " of " + escape_visible(h.drill_name));
  std::string l1 = "netacct top " + h.clock + "  " + h.backend + "  " + view + "  " + mode +
                   (st.paused ? "  PAUSED" : "") + "  h: help";
  std::string l2 = "total  sent " + amount(h.totals.rates.tx[0], st.bits) + "/s  received " +
                   amount(h.totals.rates.rx[0], st.bits) + "/s  (2s)   " +
                   std::to_string(h.totals.processes) + " processes  " +
                   std::to_string(h.totals.connections) + " connections";
  char cost[128];
  if (h.ns_per_event >= 0)
    std::snprintf(cost, sizeof cost,
                  "cost   netacct cpu %.1f%%  kernel %.0f ns/event  evicted %llu", h.cpu_percent,
                  h.ns_per_event, (unsigned long long)h.evicted);
  else
    std::snprintf(cost, sizeof cost, "cost   netacct cpu %.1f%%  kernel n/a  evicted %llu",
                  h.cpu_percent, (unsigned long long)h.evicted);
  std::string l3 = cost;
  if (st.editing)
    l3 += "   filter: " + *st.editing + "_";
  else if (!st.filter.empty())
    l3 += "   filter: " + st.filter;
  if (h.wire.empty()) return {l1, l2, l3};
  return {l1, l2, l3, wire_line(h, st)};
}

std::string views_list() {
  std::string out;
  for (const auto& g : groupings())
    if (g.top_view) out += (out.empty() ? "" : ", ") + g.plural;
  return out;
}

std::vector<std::string> help_lines() {
  return {
      "keys",
      "  q            quit",
      "  up/down j/k  move the selection",
      "  Enter        a process's connections and remote hosts; a container's processes",
      "  Backspace    back (also Esc)",
      "  Tab          views: " + views_list(),
      "  s / r / t    sort by sent / received / total",
      "  1 / 2 / 3    sort by the 2 s / 10 s / 40 s average",
      "  c            rate or cumulative bytes",
      "  b            bits or bytes",
      "  p            pause",
      "  P            show or hide ports",
      "  n            reverse DNS (looked up in the background)",
      "  w            payload or wire bytes (with headers and retransmits)",
      "  /            filter by program, address or port (Enter applies, Esc clears)",
      "  h ?          this help (any key closes it)",
  };
}

}  // namespace

std::string shown_text(const Grouping& g, const TopRow& r, const TopState& st,
                       const std::string& title) {
  for (const auto& c : g.columns)
    if (c.title == title) return shown(c, r.row, st);
  return "";
}

// Rows of the processes view that match through one of their connections.
std::set<ProcId> matched_via_connections(const TopModel& model, const TopState& st) {
  std::set<ProcId> out;
  const Grouping& conns = grouping(GroupKind::connection);
  for (const auto& c : model.rows({.view = conns.kind, .spark_buckets = 0}))
    if (matches(conns, c, st)) out.insert(c.row.key.proc);
  return out;
}

FrameRows frame_rows(const TopModel& model, const TopState& st, size_t room) {
  const Grouping& g = grouping(st.query.view);
  std::vector<TopModel::Ranked> ranked = model.ranked(st.query, st.sort, st.window);
  if (!st.filter.empty()) {  // the filter reads the text on screen: every row is made
    std::set<ProcId> via_conns;
    if (g.kind == GroupKind::process) via_conns = matched_via_connections(model, st);
    TopQuery bare = st.query;
    bare.spark_buckets = 0;
    std::erase_if(ranked, [&](const TopModel::Ranked& r) {
      TopRow row = model.row(bare, r);
      return !matches(g, row, st) && !via_conns.count(row.row.key.proc);
    });
  }
  FrameRows out{.count = ranked.size()};
  size_t visible = std::min(room, out.count);
  out.first = first_visible(st.selected, out.count, visible);
  auto end = ranked.begin() + ptrdiff_t(out.first + visible);
  if (end != ranked.end()) std::nth_element(ranked.begin(), end, ranked.end(), TopModel::before);
  std::sort(ranked.begin(), end, TopModel::before);
  out.rows.reserve(visible);
  for (auto it = ranked.begin() + ptrdiff_t(out.first); it != end; ++it)
    out.rows.push_back(model.row(st.query, *it));
  return out;
}

std::vector<TopRow> visible_rows(const TopModel& model, const TopState& st) {
  return frame_rows(model, st, SIZE_MAX).rows;
}

size_t rows_room(size_t height, const TopHeader& header) {
  if (height == 0) return SIZE_MAX;
  size_t above = kAboveRows + (header.wire.empty() ? 0 : 1);
  return height > above ? (height - above) / 2 : 0;
}

size_t spark_width(size_t width) { return width >= 110 ? 20 : 8; }

std::string view_name(GroupKind v) { return grouping(v).title; }

size_t first_visible(size_t selected, size_t rows, size_t visible) {
  if (visible == 0 || rows <= visible) return 0;
  size_t first = selected >= visible ? selected - visible + 1 : 0;
  return std::min(first, rows - visible);
}

namespace {

// Rows count .. of the sorted view, `at(i)` the made ones.
std::vector<std::string> render(const TopHeader& header, size_t count, size_t first,
                                const std::function<const TopRow*(size_t)>& at, const TopState& st,
                                size_t width, size_t height, bool utf8) {
  const Grouping& g = grouping(st.query.view);
  Widths w = widths(g, st, width);
  std::vector<std::string> out = header_lines(header, st);
  out.push_back("");
  if (st.help) {
    for (const auto& l : help_lines()) out.push_back(l);
  } else {
    out.push_back(column_header(g, st, w));
    size_t visible = std::min(rows_room(height, header), count);
    for (size_t i = first; i < count && i < first + visible; ++i)
      if (const TopRow* r = at(i))
        for (auto& l : row_lines(g, *r, st, w, i == st.selected && height != 0, utf8))
          out.push_back(std::move(l));
    if (count == 0) out.push_back(" (no traffic in the last 40 s)");
  }
  if (height) out.resize(height);
  for (auto& l : out) l = fit(l, width);
  return out;
}

}  // namespace

std::vector<std::string> render_top(const TopHeader& header, const std::vector<TopRow>& rows,
                                    const TopState& st, size_t width, size_t height, bool utf8) {
  size_t first =
      first_visible(st.selected, rows.size(), std::min(rows_room(height, header), rows.size()));
  return render(
      header, rows.size(), first, [&](size_t i) { return &rows[i]; }, st, width, height, utf8);
}

std::vector<std::string> render_frame(const TopHeader& header, const FrameRows& rows,
                                      const TopState& st, size_t width, size_t height, bool utf8) {
  // A complete frame (the paused view, made whole once) scrolls with the
  // selection here; a partial one was cut around it by frame_rows.
  size_t first = rows.complete() ? first_visible(st.selected, rows.count,
                                                 std::min(rows_room(height, header), rows.count))
                                 : rows.first;
  return render(
      header, rows.count, first, [&](size_t i) { return rows.at(i); }, st, width, height, utf8);
}

}  // namespace netacct
