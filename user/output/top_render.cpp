#include "output/top_render.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace netacct {
namespace {

constexpr size_t kNum = 7;      // one numeric column: space + 6 characters
constexpr size_t kTotalW = 13;  // cumulative mode's exact byte column

// Display width of UTF-8 text (the sparkline's blocks are one cell each).
size_t cells(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xc0) != 0x80;
  return n;
}

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
  std::string out;
  if (!st.cumulative) {
    for (double rate : win) out += right(compact(rate, st.bits), kNum);
    out += right(compact(tx ? r.rates.peak_tx : r.rates.peak_rx, st.bits), kNum);
    out += right(compact(double(tx ? r.rates.total_tx : r.rates.total_rx), st.bits), kNum);
    return out;
  }
  for (uint64_t bytes : tx ? r.rates.tx_bytes : r.rates.rx_bytes)
    out += right(compact(double(bytes), st.bits), kNum);
  uint64_t total = tx ? r.rates.total_tx : r.rates.total_rx;
  return out + right(std::to_string(st.bits ? total * 8 : total), kTotalW);
}

size_t numbers_width(const TopState& st) { return st.cumulative ? 3 * kNum + kTotalW : 5 * kNum; }

// "10.0.0.1:5432" -> ":5432": narrow screens show only the local port.
std::string local_text(const std::string& local, size_t id_w) {
  auto colon = local.rfind(':');
  if (id_w >= 48 || colon == std::string::npos) return local;
  return local.substr(colon);
}

// The two identity lines of a row; which facts depend on the view.
std::pair<std::string, std::string> identity(const TopRow& r, View v, size_t id_w) {
  char pid[16];
  std::snprintf(pid, sizeof pid, "%6u", r.pid);
  std::string exited = r.exited ? " (exited)" : "";
  switch (v) {
    case View::processes:
      return {std::string(pid) + " " + fit(r.user, 8) + " " + r.program,
              exited.empty() ? "" : "      " + exited};
    case View::connections:
      return {std::string(pid) + " " + r.program + exited + " " + r.proto + " " +
                  local_text(r.local, id_w),
              "       to " + r.remote};
    default:
      return {r.remote, ""};
  }
}

std::vector<std::string> row_lines(const TopRow& r, const TopState& st, size_t id_w, bool selected,
                                   bool utf8) {
  auto [id1, id2] = identity(r, st.query.view, id_w);
  double max = 0;
  for (double x : r.spark.tx) max = std::max(max, x);
  for (double x : r.spark.rx) max = std::max(max, x);
  std::string cursor = selected ? ">" : " ";
  return {cursor + fit(id1, id_w) + " =>" + numbers(r, true, st) + "  " +
              spark_text(r.spark.tx, max, utf8),
          cursor + fit(id2, id_w) + " <=" + numbers(r, false, st) + "  " +
              spark_text(r.spark.rx, max, utf8)};
}

std::string column_header(const TopState& st, size_t id_w, size_t spark_w) {
  std::string id =
      st.query.view == View::processes ? "   PID USER     PROGRAM"
      : st.query.view == View::connections
          ? (id_w >= 48 ? "   PID PROGRAM PROTO LOCAL / REMOTE" : "   PID PROGRAM PROTO PORT")
          : "REMOTE HOST";
  std::string cols;
  for (const char* w : {"2s", "10s", "40s"}) cols += right(w, kNum);
  cols += st.cumulative ? right("TOTAL", kTotalW) : right("PEAK", kNum) + right("TOTAL", kNum);
  return " " + fit(id, id_w) + "   " + cols + "  " + fit("LAST 40s", spark_w);
}

std::vector<std::string> header_lines(const TopHeader& h, const TopState& st) {
  std::string unit = st.bits ? "bits" : "bytes";
  std::string mode = st.cumulative ? unit + " moved" : unit + "/s";
  std::string view = view_name(st.query.view) + (h.drill_name.empty() ? "" : " of " + h.drill_name);
  std::string l1 = "netacct top " + h.clock + "  " + h.backend + "  " + view + "  " + mode +
                   (st.paused ? "  PAUSED" : "") + "  h: help";
  std::string l2 = "total  sent " + compact(h.totals.rates.tx[0], st.bits) + "/s  received " +
                   compact(h.totals.rates.rx[0], st.bits) + "/s  (2s)   " +
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
  else if (!st.query.filter.empty())
    l3 += "   filter: " + st.query.filter;
  return {l1, l2, l3};
}

const std::vector<std::string>& help_lines() {
  static const std::vector<std::string> lines = {
      "keys",
      "  q            quit",
      "  up/down j/k  move the selection",
      "  Enter        show the selected process's connections and remote hosts",
      "  Backspace    back (also Esc)",
      "  Tab          cycle views: processes, connections, remote hosts",
      "  s / r / t    sort by sent / received / total",
      "  1 / 2 / 3    sort by the 2 s / 10 s / 40 s average",
      "  c            rate or cumulative bytes",
      "  b            bits or bytes",
      "  p            pause",
      "  P            show or hide ports",
      "  n            reverse DNS (looked up in the background)",
      "  /            filter by program, address or port (Enter applies, Esc clears)",
      "  h ?          this help (any key closes it)",
  };
  return lines;
}

}  // namespace

size_t spark_width(size_t width) { return width >= 110 ? 20 : 8; }

std::string view_name(View v) {
  switch (v) {
    case View::processes:
      return "processes";
    case View::connections:
      return "connections";
    default:
      return "remote hosts";
  }
}

std::string compact(double bytes, bool bits) {
  double v = bits ? bytes * 8 : bytes;
  double base = bits ? 1000 : 1024;
  static const char* units[] = {"", "K", "M", "G", "T", "P"};
  int u = 0;
  while (v >= 999.5 && u < 5) {
    v /= base;
    ++u;
  }
  char buf[32];
  const char* suffix = bits ? "b" : (u == 0 ? "B" : "");
  if (u == 0 || v >= 99.95)
    std::snprintf(buf, sizeof buf, "%.0f%s%s", v, units[u], suffix);
  else if (v >= 9.995)
    std::snprintf(buf, sizeof buf, "%.1f%s%s", v, units[u], suffix);
  else
    std::snprintf(buf, sizeof buf, "%.2f%s%s", v, units[u], suffix);
  return buf;
}

size_t first_visible(size_t selected, size_t rows, size_t visible) {
  if (visible == 0 || rows <= visible) return 0;
  size_t first = selected >= visible ? selected - visible + 1 : 0;
  return std::min(first, rows - visible);
}

std::vector<std::string> render_top(const TopHeader& header, const std::vector<TopRow>& rows,
                                    const TopState& st, size_t width, size_t height, bool utf8) {
  size_t spark_w = spark_width(width);
  size_t fixed = 1 + 3 + numbers_width(st) + 2 + spark_w;
  size_t id_w = width > fixed + 12 ? width - fixed : 12;
  std::vector<std::string> out = header_lines(header, st);
  out.push_back("");
  if (st.help) {
    for (const auto& l : help_lines()) out.push_back(l);
  } else {
    out.push_back(column_header(st, id_w, spark_w));
    size_t room = height > out.size() ? (height - out.size()) / 2 : 0;
    size_t visible = height == 0 ? rows.size() : room;
    size_t first = first_visible(st.selected, rows.size(), visible);
    for (size_t i = first; i < rows.size() && i < first + visible; ++i)
      for (auto& l : row_lines(rows[i], st, id_w, i == st.selected && height != 0, utf8))
        out.push_back(std::move(l));
    if (rows.empty()) out.push_back(" (no traffic in the last 40 s)");
  }
  if (height) out.resize(height);
  for (auto& l : out) l = fit(l, width);
  return out;
}

}  // namespace netacct
