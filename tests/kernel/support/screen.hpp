// Reading netacct top's text, from a tmux pane or from batch frames: lines,
// words, the numbers of a row, compact amounts ("2.50M"), rows by PID.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace kt {

using Screen = std::vector<std::string>;

Screen lines(const std::string& text);
std::string show(const Screen& s);  // framed, for failure messages
std::vector<std::string> words(const std::string& s);

// The numbers after "=>" or "<=" on a row line (rates or byte amounts, then
// the sparkline's cells, which may also split into words).
std::vector<std::string> numbersAfter(const std::string& line, const std::string& arrow);

// "2.50M" -> 2621440: the compact amounts of netacct top (B, K, M, G, T;
// 1024 steps in bytes mode). NaN when it is not one.
double parseCompact(const std::string& s);

// First line of the row whose identity starts with this PID (processes and
// connections views), or -1.
int rowOf(const Screen& s, pid_t pid);
// First line of the row whose identity (first word after the cursor column)
// is `first`, e.g. a remote host's address in the remote hosts view; or -1.
int rowStartingWith(const Screen& s, const std::string& first);
// First lines of every row ("=>" lines), in screen order.
std::vector<int> rowLines(const Screen& s);

// Display width of a line (UTF-8 code points; netacct draws no wide characters).
size_t displayWidth(const std::string& line);

// Batch output (`netacct top --batch`) split into frames: each starts with
// its "netacct top " header line and ends before the blank line that closes it.
std::vector<Screen> batchFrames(const std::string& out);

}  // namespace kt
