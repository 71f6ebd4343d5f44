#include "screen.hpp"

#include <cmath>
#include <cstdlib>
#include <sstream>

namespace kt {

Screen lines(const std::string& text) {
  Screen s;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) s.push_back(l);
  return s;
}

std::string show(const Screen& s) {
  std::string out = "---- screen ----\n";
  for (const auto& l : s) out += "|" + l + "\n";
  return out + "----------------";
}

std::vector<std::string> words(const std::string& s) {
  std::vector<std::string> w;
  std::istringstream in(s);
  for (std::string t; in >> t;) w.push_back(t);
  return w;
}

std::vector<std::string> numbersAfter(const std::string& line, const std::string& arrow) {
  auto at = line.find(" " + arrow);
  if (at == std::string::npos) return {};
  return words(line.substr(at + 1 + arrow.size()));
}

double parseCompact(const std::string& s) {
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str()) return NAN;
  std::string unit(end);
  if (unit == "B") return v;
  const std::string units = "KMGTP";
  if (unit.size() != 1 || units.find(unit[0]) == std::string::npos) return NAN;
  return v * std::pow(1024.0, double(units.find(unit[0]) + 1));
}

std::vector<int> rowLines(const Screen& s) {
  std::vector<int> out;
  for (size_t i = 0; i + 1 < s.size(); ++i)
    if (s[i].size() >= 2 && s[i].find(" =>") != std::string::npos) out.push_back(int(i));
  return out;
}

int rowStartingWith(const Screen& s, const std::string& first) {
  for (int i : rowLines(s)) {
    auto w = words(s[size_t(i)].substr(1));
    if (!w.empty() && w[0] == first) return i;
  }
  return -1;
}

int rowOf(const Screen& s, pid_t pid) { return rowStartingWith(s, std::to_string(pid)); }

size_t displayWidth(const std::string& line) {
  size_t n = 0;
  for (unsigned char c : line) n += (c & 0xc0) != 0x80;
  return n;
}

std::vector<Screen> batchFrames(const std::string& out) {
  std::vector<Screen> frames;
  for (const auto& l : lines(out)) {
    if (l.rfind("netacct top ", 0) == 0) frames.emplace_back();
    if (frames.empty()) continue;
    if (l.empty() && frames.back().size() > 4) continue;  // the blank line closing a frame
    frames.back().push_back(l);
  }
  return frames;
}

}  // namespace kt
