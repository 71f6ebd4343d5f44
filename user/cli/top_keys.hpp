// Keyboard input for the live view: bytes -> keys -> state changes. Pure,
// so every binding is unit-tested without a terminal.
#pragma once
#include <string>
#include <vector>

#include "output/top_render.hpp"

namespace netacct {

struct Key {
  enum Kind { character, up, down, enter, backspace, escape, tab } kind = character;
  char ch = 0;
  bool operator==(const Key&) const = default;
};

// Consumes complete keys from `pending` (escape sequences for arrows); a
// lone ESC at the end of a read is the Escape key.
std::vector<Key> parse_keys(std::string& pending);

// Applies one key. `rows` are the rows on screen (for Enter). Returns false
// when the key quits.
bool apply_key(TopState& st, const Key& key, const std::vector<TopRow>& rows);
// The same with a frame's rows: Enter on a row the frame did not make (the
// selection moved off screen since) does nothing.
bool apply_key(TopState& st, const Key& key, const FrameRows& rows);

}  // namespace netacct
