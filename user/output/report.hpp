// Report sinks: JSON (one object per line, schema netacct.report/1), an
// aligned text table with human units, and CSV with one header row.
#pragma once
#include <ostream>
#include <string>

#include "model/report.hpp"

namespace netacct {

enum class Format { text, json, csv };
enum class GroupBy { process, connection };

std::string to_json_line(const Report& r);

class ReportWriter {
 public:
  ReportWriter(std::ostream& out, Format format, GroupBy by)
      : out_(out), format_(format), by_(by) {}
  // Writes one report and flushes, so a pipe reader sees it at once.
  void write(const Report& r);

 private:
  std::ostream& out_;
  Format format_;
  GroupBy by_;
  bool csv_header_done_ = false;

  void write_text(const Report& r);
  void write_csv(const Report& r);
};

}  // namespace netacct
