#include "output/report.hpp"

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "output/format.hpp"

namespace netacct {
namespace {

using nlohmann::json;

json json_cell(const Cell& cell, Unit unit) {
  if (std::holds_alternative<std::monostate>(cell)) return nullptr;
  if (const auto* b = std::get_if<bool>(&cell)) return *b;
  if (const auto* d = std::get_if<double>(&cell)) return *d;
  if (const auto* n = std::get_if<uint64_t>(&cell);
      n && unit != Unit::proto && unit != Unit::family)
    return *n;
  if (const auto* s = std::get_if<std::string>(&cell)) return escape_json(*s);
  return plain_text(cell, unit);
}

json json_rows(const Grouping& g, const std::vector<GroupRow>& rows) {
  json out = json::array();
  for (const auto& row : rows) {
    json obj = json::object();
    for (const auto& c : g.columns)
      if (c.sinks & kJson) obj[c.name] = json_cell(c.get(row), c.unit);
    out.push_back(std::move(obj));
  }
  return out;
}

// Quote a CSV field only when it needs it (RFC 4180).
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string text_cell(const Column& c, const Cell& cell) {
  switch (c.unit) {
    case Unit::bytes:
      return format_bytes(double(std::get<uint64_t>(cell)), ByteStyle::wide);
    case Unit::rate:
      return format_rate(std::get<double>(cell));
    case Unit::flag:
      return std::get<bool>(cell) ? c.name : "";
    default:
      return plain_text(cell, c.unit);
  }
}

bool numeric(Unit u) { return u == Unit::count || u == Unit::bytes || u == Unit::rate; }

// Pads every column to its widest cell; the last column is not padded.
std::string table(const std::vector<std::vector<std::string>>& rows,
                  const std::vector<bool>& right) {
  std::vector<size_t> width(rows.front().size(), 0);
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], display_width(row[i]));
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      std::string pad(width[i] - display_width(row[i]), ' ');
      bool last = i + 1 == row.size();
      line += right[i] ? pad + row[i] : row[i] + (last ? "" : pad);
      if (!last) line += "  ";
    }
    line.erase(line.find_last_not_of(' ') + 1);  // an empty last column leaves no blanks
    out += line + "\n";
  }
  return out;
}

// A hide_empty column shows only when some row has a value in it.
bool shown(const Column& c, const std::vector<GroupRow>& rows) {
  if (!(c.sinks & kText)) return false;
  if (!c.hide_empty) return true;
  return std::any_of(rows.begin(), rows.end(), [&](const GroupRow& r) {
    return !std::holds_alternative<std::monostate>(c.get(r));
  });
}

std::string text_table(const Grouping& g, const std::vector<GroupRow>& rows) {
  std::vector<const Column*> columns;
  for (const auto& c : g.columns)
    if (shown(c, rows)) columns.push_back(&c);
  std::vector<std::vector<std::string>> lines(1);
  std::vector<bool> right;
  for (const Column* c : columns) {
    lines[0].push_back(c->title);
    right.push_back(numeric(c->unit));
  }
  for (const auto& row : rows) {
    auto& line = lines.emplace_back();
    for (const Column* c : columns) line.push_back(text_cell(*c, c->get(row)));
  }
  return table(lines, right);
}

json receipt_line(const ReceiptLine& l) {
  json j = {{"wire_bytes", l.wire},
            {"process_bytes", l.process},
            {"retrans_bytes", l.retrans},
            {"forwarded_bytes", l.forwarded},
            {"non_socket_bytes", l.non_socket},
            {"no_process_bytes", l.no_process},
            {"unexplained_bytes", l.unexplained}};
  if (l.ifindex) {
    j["name"] = escape_json(l.name);
    j["index"] = l.ifindex;
  }
  return j;
}

json receipt_json(const Receipt& r) {
  json lines = json::array();
  for (const auto& l : r.interfaces) lines.push_back(receipt_line(l));
  return {{"interfaces", std::move(lines)}, {"total", receipt_line(r.total)}};
}

// One line: where the watched interfaces' bytes went.
std::string receipt_text(const Receipt& r) {
  const ReceiptLine& t = r.total;
  auto b = [](uint64_t n) { return format_bytes(double(n), ByteStyle::wide); };
  std::string out = "wire: " + b(t.wire) + " on " + std::to_string(r.interfaces.size()) +
                    (r.interfaces.size() == 1 ? " interface" : " interfaces") + " = processes " +
                    b(t.process) + " + retransmits " + b(t.retrans) + " + forwarded " +
                    b(t.forwarded) + " + non-socket " + b(t.non_socket) + " + no process " +
                    b(t.no_process) + " + unexplained ";
  out += (t.unexplained < 0 ? "-" : "") + b(uint64_t(std::llabs(t.unexplained)));
  return out + "\n";
}

json dns_json(const DnsStats& d) {
  return {{"enabled", d.enabled}, {"answers", d.answers}, {"malformed", d.malformed},
          {"lost", d.lost},       {"entries", d.entries}, {"expired", d.expired},
          {"evicted", d.evicted}};
}

}  // namespace

std::string to_json_line(const Report& r) {
  json j = {{"schema", "netacct.report/1"},
            {"start", rfc3339(r.start_wall)},
            {"end", rfc3339(r.end_wall)},
            {"interval_s", r.interval_s},
            {"host", r.host},
            {"backend", r.backend},
            {"totals", {{"tx_bytes", r.tx_bytes}, {"rx_bytes", r.rx_bytes}}},
            {"loss",
             {{"evicted_connections", r.loss.conns_evicted},
              {"failed_inserts", r.loss.insert_failed},
              {"unattributed_tx_bytes", r.loss.unattributed_tx},
              {"unattributed_rx_bytes", r.loss.unattributed_rx}}}};
  for (const auto& g : groupings()) j[g.plural] = json_rows(g, r.rows(g.kind));
  j["receipt"] = receipt_json(r.receipt);
  j["dns"] = dns_json(r.dns);
  // comm is cut at 15 bytes by the kernel, possibly inside a UTF-8
  // character: replace invalid bytes rather than fail the whole report.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<GroupKind> ReportWriter::tables() const {
  return format_ == Format::json ? every_grouping() : std::vector<GroupKind>{by_.kind};
}

bool ReportWriter::write(const Report& r) {
  errno = 0;
  switch (format_) {
    case Format::json:
      out_ << to_json_line(r) << "\n";
      break;
    case Format::text:
      write_text(r);
      break;
    case Format::csv:
      write_csv(r);
      break;
  }
  out_.flush();
  return bool(out_);
}

void ReportWriter::write_text(const Report& r) {
  out_ << rfc3339(r.start_wall) << " .. " << rfc3339(r.end_wall) << "  " << r.host << "  backend "
       << r.backend << "  sent " << format_bytes(double(r.tx_bytes), ByteStyle::wide) << " ("
       << format_rate(r.tx_rate) << ")  received "
       << format_bytes(double(r.rx_bytes), ByteStyle::wide) << " (" << format_rate(r.rx_rate)
       << ")\n";
  out_ << text_table(by_, r.rows(by_.kind));
  if (!r.receipt.empty()) out_ << receipt_text(r.receipt);
  if (r.loss.conns_evicted || r.loss.insert_failed)
    out_ << "loss: " << r.loss.conns_evicted << " connection entries evicted, "
         << r.loss.insert_failed << " failed inserts\n";
  out_ << "\n";
}

void ReportWriter::write_csv(const Report& r) {
  if (!csv_header_done_) {
    out_ << "start,end";
    for (const auto& c : by_.columns)
      if (c.sinks & kCsv) out_ << "," << c.name;
    out_ << "\n";
    csv_header_done_ = true;
  }
  std::string when = rfc3339(r.start_wall) + "," + rfc3339(r.end_wall);
  for (const auto& row : r.rows(by_.kind)) {
    out_ << when;
    for (const auto& c : by_.columns)
      if (c.sinks & kCsv) out_ << "," << csv_field(plain_text(c.get(row), c.unit));
    out_ << "\n";
  }
}

}  // namespace netacct
