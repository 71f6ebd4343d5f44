#include "output/report.hpp"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "model/format.hpp"

namespace netacct {
namespace {

using nlohmann::json;

json opt(const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); }

json process_json(const ProcessRow& p) {
  return {{"pid", p.pid},
          {"comm", p.comm},
          {"exe", opt(p.exe)},
          {"uid", p.uid},
          {"user", opt(p.user)},
          {"cgroup", opt(p.cgroup)},
          {"container", opt(p.container)},
          {"tx_bytes", p.tx_bytes},
          {"rx_bytes", p.rx_bytes},
          {"tx_rate", p.tx_rate},
          {"rx_rate", p.rx_rate},
          {"exited", p.exited}};
}

json connection_json(const ConnectionRow& c) {
  return {{"pid", c.pid},         {"comm", c.comm},         {"proto", c.proto},
          {"family", c.family},   {"local", c.local},       {"remote", c.remote},
          {"netns", c.netns},     {"tx_bytes", c.tx_bytes}, {"rx_bytes", c.rx_bytes},
          {"tx_rate", c.tx_rate}, {"rx_rate", c.rx_rate}};
}

// Quote a CSV field only when it needs it (RFC 4180).
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string csv_opt(const std::optional<std::string>& s) { return s ? csv_field(*s) : ""; }

std::string fixed(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", v);
  return buf;
}

// Pads every column to its widest cell; the last column is not padded.
std::string table(const std::vector<std::vector<std::string>>& rows,
                  const std::vector<bool>& right) {
  std::vector<size_t> width(rows.front().size(), 0);
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      std::string pad(width[i] - row[i].size(), ' ');
      bool last = i + 1 == row.size();
      line += right[i] ? pad + row[i] : row[i] + (last ? "" : pad);
      if (!last) line += "  ";
    }
    line.erase(line.find_last_not_of(' ') + 1);  // an empty last column leaves no blanks
    out += line + "\n";
  }
  return out;
}

std::string process_table(const Report& r) {
  std::vector<std::vector<std::string>> rows = {
      {"PID", "USER", "PROGRAM", "SENT", "RECEIVED", "SEND/s", "RECV/s", ""}};
  for (const auto& p : r.processes)
    rows.push_back({std::to_string(p.pid), p.user.value_or(std::to_string(p.uid)), p.comm,
                    human_bytes(p.tx_bytes), human_bytes(p.rx_bytes), human_rate(p.tx_rate),
                    human_rate(p.rx_rate), p.exited ? "exited" : ""});
  return table(rows, {true, false, false, true, true, true, true, false});
}

std::string connection_table(const Report& r) {
  std::vector<std::vector<std::string>> rows = {
      {"PID", "PROGRAM", "PROTO", "LOCAL", "REMOTE", "SENT", "RECEIVED", "SEND/s", "RECV/s"}};
  for (const auto& c : r.connections)
    rows.push_back({std::to_string(c.pid), c.comm, c.proto, c.local, c.remote,
                    human_bytes(c.tx_bytes), human_bytes(c.rx_bytes), human_rate(c.tx_rate),
                    human_rate(c.rx_rate)});
  return table(rows, {true, false, false, false, false, true, true, true, true});
}

}  // namespace

std::string to_json_line(const Report& r) {
  json procs = json::array(), conns = json::array();
  for (const auto& p : r.processes) procs.push_back(process_json(p));
  for (const auto& c : r.connections) conns.push_back(connection_json(c));
  json j = {{"schema", "netacct.report/1"},
            {"start", rfc3339(r.start_wall)},
            {"end", rfc3339(r.end_wall)},
            {"interval_s", r.interval_s},
            {"host", r.host},
            {"backend", r.backend},
            {"totals", {{"tx_bytes", r.tx_bytes}, {"rx_bytes", r.rx_bytes}}},
            {"processes", procs},
            {"connections", conns},
            {"loss",
             {{"evicted_connections", r.loss.conns_evicted},
              {"failed_inserts", r.loss.insert_failed},
              {"unattributed_tx_bytes", r.loss.unattributed_tx},
              {"unattributed_rx_bytes", r.loss.unattributed_rx}}}};
  // comm is cut at 15 bytes by the kernel, possibly inside a UTF-8
  // character: replace invalid bytes rather than fail the whole report.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void ReportWriter::write(const Report& r) {
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
}

void ReportWriter::write_text(const Report& r) {
  out_ << rfc3339(r.start_wall) << " .. " << rfc3339(r.end_wall) << "  " << r.host << "  backend "
       << r.backend << "  sent " << human_bytes(r.tx_bytes) << " ("
       << human_rate(r.interval_s > 0 ? r.tx_bytes / r.interval_s : 0) << ")  received "
       << human_bytes(r.rx_bytes) << " ("
       << human_rate(r.interval_s > 0 ? r.rx_bytes / r.interval_s : 0) << ")\n";
  out_ << (by_ == GroupBy::process ? process_table(r) : connection_table(r));
  if (r.loss.conns_evicted || r.loss.insert_failed)
    out_ << "loss: " << r.loss.conns_evicted << " connection entries evicted, "
         << r.loss.insert_failed << " failed inserts\n";
  out_ << "\n";
}

void ReportWriter::write_csv(const Report& r) {
  bool procs = by_ == GroupBy::process;
  if (!csv_header_done_) {
    out_ << (procs ? "start,end,pid,comm,exe,uid,user,cgroup,container,tx_bytes,rx_bytes,"
                     "tx_rate,rx_rate,exited\n"
                   : "start,end,pid,comm,proto,family,local,remote,tx_bytes,rx_bytes,"
                     "tx_rate,rx_rate\n");
    csv_header_done_ = true;
  }
  std::string when = rfc3339(r.start_wall) + "," + rfc3339(r.end_wall) + ",";
  if (procs)
    for (const auto& p : r.processes)
      out_ << when << p.pid << "," << csv_field(p.comm) << "," << csv_opt(p.exe) << "," << p.uid
           << "," << csv_opt(p.user) << "," << csv_opt(p.cgroup) << "," << csv_opt(p.container)
           << "," << p.tx_bytes << "," << p.rx_bytes << "," << fixed(p.tx_rate) << ","
           << fixed(p.rx_rate) << "," << (p.exited ? "true" : "false") << "\n";
  else
    for (const auto& c : r.connections)
      out_ << when << c.pid << "," << csv_field(c.comm) << "," << c.proto << "," << c.family << ","
           << csv_field(c.local) << "," << csv_field(c.remote) << "," << c.tx_bytes << ","
           << c.rx_bytes << "," << fixed(c.tx_rate) << "," << fixed(c.rx_rate) << "\n";
}

}  // namespace netacct
