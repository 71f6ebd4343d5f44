// README's "Exit codes and errors" prints the bad-input table that the
// kernel tests run (tests/kernel/bad_input_table.hpp): this keeps the two
// equal. NETACCT_UPDATE_README=1 writes the table into README instead.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "bad_input_table.hpp"

namespace {

const std::string kReadme = std::string(NETACCT_SOURCE_DIR) + "/README.md";

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ReadmeErrors, PrintsTheBadInputTable) {
  namespace bi = kt::bad_input;
  std::string readme = slurp(kReadme);
  ASSERT_FALSE(readme.empty()) << kReadme;
  const size_t begin = readme.find(bi::kBegin);
  const size_t end = readme.find(bi::kEnd);
  ASSERT_NE(begin, std::string::npos) << "README has no bad-input table";
  ASSERT_NE(end, std::string::npos);
  ASSERT_LT(begin, end);
  size_t stop = end + bi::kEnd.size() + 1;  // the end marker's line
  const std::string want = bi::readmeTable();
  if (const char* update = std::getenv("NETACCT_UPDATE_README"); update && *update == '1') {
    readme.replace(begin, stop - begin, want);
    std::ofstream(kReadme) << readme;
    stop = begin + want.size();
  }
  EXPECT_EQ(readme.substr(begin, stop - begin), want)
      << "README's table differs from tests/kernel/bad_input_table.hpp; "
         "NETACCT_UPDATE_README=1 netacct_unit_tests --gtest_filter=ReadmeErrors.* rewrites it";
}

// Every case has a distinct name (each is a test of its own) and says one
// line: no "\n" inside, and an error exits 1 or 2.
TEST(ReadmeErrors, TableIsWellFormed) {
  std::set<std::string> names;
  size_t errors = 0;
  for (const auto& c : kt::bad_input::cases()) {
    EXPECT_TRUE(names.insert(c.name).second) << c.name;
    EXPECT_EQ(c.err.find('\n'), std::string::npos) << c.name;
    EXPECT_EQ(c.err.find('|'), std::string::npos) << c.name << ": breaks README's table";
    if (!c.runs) {
      ++errors;
      EXPECT_TRUE(c.exit_code == 1 || c.exit_code == 2) << c.name;
      EXPECT_TRUE(c.err.starts_with("netacct: ")) << c.name;
    } else {
      EXPECT_EQ(c.exit_code, 0) << c.name;
    }
  }
  EXPECT_GE(errors, 30u);
}

}  // namespace
