// Report sinks: JSON (one object per line, schema netacct.report/1, one
// array per grouping), an aligned text table with human units, and CSV with
// one header row. Both tables print the grouping chosen with --by; every
// sink reads the grouping's columns, so a new grouping needs nothing here.
#pragma once
#include <ostream>
#include <string>
#include <vector>

#include "model/report.hpp"

namespace netacct {

enum class Format { text, json, csv };

std::string to_json_line(const Report& r);

class ReportWriter {
 public:
  ReportWriter(std::ostream& out, Format format, GroupKind by)
      : out_(out), format_(format), by_(grouping(by)) {}
  // Writes one report and flushes, so a pipe reader sees it at once.
  // False when the stream failed (a full disk, /dev/full, a closed pipe
  // with SIGPIPE ignored): errno is the write's, or 0 when it is unknown.
  bool write(const Report& r);
  // The tables it prints: JSON has every grouping, text and CSV the one
  // chosen with --by.
  std::vector<GroupKind> tables() const;

 private:
  std::ostream& out_;
  Format format_;
  const Grouping& by_;
  bool csv_header_done_ = false;

  void write_text(const Report& r);
  void write_csv(const Report& r);
};

}  // namespace netacct
