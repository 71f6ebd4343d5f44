// The /metrics sink: the exporter's state through prometheus-cpp's own text
// serializer. Label values a process controls never break the exposition.
#include "output/prometheus.hpp"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <sstream>
#include <string>
#include <vector>

using namespace netacct;

namespace {

std::string exposition(const std::vector<prometheus::MetricFamily>& families) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

MetricData programs(std::vector<MetricData::Sample> samples) {
  return {.name = "netacct_program_payload_bytes_total",
          .help = "Payload bytes",
          .type = MetricType::counter,
          .label_names = {"program", "user", "direction"},
          .samples = std::move(samples)};
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace

TEST(PrometheusSink, CountersAndGaugesWithTheirHelp) {
  ExporterState s;
  s.metrics.push_back(programs({{{"curl", "alice", "tx"}, 151}}));
  s.metrics.push_back({.name = "netacct_refresh_duration_seconds",
                       .help = "Duration",
                       .type = MetricType::gauge,
                       .label_names = {},
                       .samples = {{{}, 0.5}}});
  EXPECT_EQ(exposition(to_families(s)),
            "# HELP netacct_program_payload_bytes_total Payload bytes\n"
            "# TYPE netacct_program_payload_bytes_total counter\n"
            "netacct_program_payload_bytes_total{program=\"curl\",user=\"alice\",direction=\"tx\"} "
            "151\n"
            "# HELP netacct_refresh_duration_seconds Duration\n"
            "# TYPE netacct_refresh_duration_seconds gauge\n"
            "netacct_refresh_duration_seconds 0.5\n");
}

// A program name that tries to end its label, start a line of its own and
// write control and invalid UTF-8 bytes: one sample line, its value the
// project's reversible escaping (escape_visible), then the exposition's.
TEST(PrometheusSink, HostileLabelValuesStayInsideTheirLabel) {
  const std::string hostile = "x\"} 1\nfake_metric 99\n\\\xff\x1b[2J\t";
  ExporterState s;
  s.metrics.push_back(programs({{{hostile, "bob\"", "rx"}, 7}}));
  std::string text = exposition(to_families(s));
  auto got = lines(text);
  ASSERT_EQ(got.size(), 3u) << text;
  EXPECT_EQ(
      got[2],
      R"(netacct_program_payload_bytes_total{program="x\"} 1\\x0afake_metric 99\\x0a\\\\\\xff\\x1b[2J\\x09",user="bob\"",direction="rx"} 7)");
  for (unsigned char c : text) {
    EXPECT_TRUE(c == '\n' || (c >= 0x20 && c < 0x7f)) << "byte " << int(c) << " in " << text;
  }
}

TEST(PrometheusSink, ValidUtf8PassesUnchanged) {
  ExporterState s;
  s.metrics.push_back(programs({{{"café-進程", "ünïcode", "tx"}, 1}}));
  EXPECT_NE(
      exposition(to_families(s)).find(R"({program="café-進程",user="ünïcode",direction="tx"} 1)"),
      std::string::npos);
}

TEST(PrometheusSink, CollectServesTheLastPublishedStateAndScrapeDuration) {
  MetricsCollectable c;
  auto first = c.Collect();
  ASSERT_EQ(first.size(), 1u);  // nothing published yet: the scrape's own gauge
  EXPECT_EQ(first[0].name, "netacct_scrape_duration_seconds");
  auto s = std::make_shared<ExporterState>();
  s->metrics.push_back(programs({{{"curl", "alice", "tx"}, 1}}));
  c.publish(s);
  auto s2 = std::make_shared<ExporterState>(*s);
  s2->metrics[0].samples[0].value = 2;
  c.publish(s2);
  auto got = c.Collect();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].metric[0].counter.value, 2);
  EXPECT_EQ(got[1].name, "netacct_scrape_duration_seconds");
  EXPECT_GE(got[1].metric[0].gauge.value, 0);
}
