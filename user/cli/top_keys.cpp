#include "cli/top_keys.hpp"

#include <functional>

namespace netacct {
namespace {

Key arrow(char c) { return {c == 'A' ? Key::up : Key::down, 0}; }

void edit_filter(TopState& st, const Key& key) {
  std::string& text = *st.editing;
  switch (key.kind) {
    case Key::enter:
      st.filter = text;
      st.editing.reset();
      st.selected = 0;
      break;
    case Key::escape:
      st.filter.clear();
      st.editing.reset();
      break;
    case Key::backspace:
      if (!text.empty()) text.pop_back();
      break;
    case Key::character:
      if (key.ch >= 32 && key.ch < 127) text += key.ch;
      break;
    default:
      break;
  }
}

// Tab follows the groupings table, back to the first after the last.
// Views in table order, those top has (top_view) only; a drill-down shows
// one process's rows: views whose rows have no process (interfaces,
// containers) are skipped while in one.
GroupKind next_view(GroupKind v, bool drill) {
  const auto& table = groupings();
  size_t i = 0;
  while (i < table.size() && table[i].kind != v) ++i;
  do i = (i + 1) % table.size();
  while (!table[i].top_view || (drill && !table[i].has_process && !table[i].per_process_rows()));
  return table[i].kind;
}

// Back one level: a process's connections -> the processes (of the
// container drilled into, if any) -> the containers.
void back(TopState& st) {
  if (st.query.drill) {
    st.query.drill.reset();
    st.query.view = GroupKind::process;
    st.selected = 0;
  } else if (st.query.cgroup) {
    st.query.cgroup.reset();
    st.query.view = GroupKind::container;
    st.selected = 0;
  } else if (!st.filter.empty()) {
    st.filter.clear();
  }
}

// Enter: a container -> its processes; a process -> its connections.
void drill(TopState& st, const TopRow* selected) {
  if (!selected) return;
  if (st.query.view == GroupKind::container) {
    st.query.cgroup = selected->row.key.cgroup;
    st.query.view = GroupKind::process;
  } else if (st.query.view == GroupKind::process) {
    st.query.drill = selected->row.key.proc;
    st.query.view = GroupKind::connection;
  } else {
    return;
  }
  st.selected = 0;
}

bool apply_char(TopState& st, char c) {
  switch (c) {
    case 'q':
      return false;
    case 'j':
      ++st.selected;
      break;
    case 'k':
      if (st.selected) --st.selected;
      break;
    case 's':
      st.sort = SortBy::sent;
      break;
    case 'r':
      st.sort = SortBy::received;
      break;
    case 't':
      st.sort = SortBy::total;
      break;
    case '1':
    case '2':
    case '3':
      st.window = size_t(c - '1');
      break;
    case 'c':
      st.cumulative = !st.cumulative;
      break;
    case 'b':
      st.bits = !st.bits;
      break;
    case 'p':
      st.paused = !st.paused;
      break;
    case 'P':
      st.show_ports = !st.show_ports;
      break;
    case 'n':
      st.dns = !st.dns;
      break;
    case 'w':
      if (st.wire_layer)
        st.query.layer = st.query.layer == Layer::wire ? Layer::payload : Layer::wire;
      break;
    case '/':
      st.editing = st.filter;
      break;
    case 'h':
    case '?':
      st.help = true;
      break;
    default:
      break;
  }
  return true;
}

}  // namespace

std::vector<Key> parse_keys(std::string& in) {
  std::vector<Key> keys;
  size_t i = 0;
  while (i < in.size()) {
    char c = in[i];
    bool sequence = c == '\x1b' && i + 1 < in.size() && (in[i + 1] == '[' || in[i + 1] == 'O');
    if (sequence) {
      // CSI/SS3: parameters, then one final byte in '@'..'~'.
      size_t end = i + 2;
      while (end < in.size() && !(in[end] >= '@' && in[end] <= '~')) ++end;
      if (end == in.size()) break;  // incomplete: wait for the rest
      if (in[end] == 'A' || in[end] == 'B') keys.push_back(arrow(in[end]));
      i = end + 1;
      continue;
    }
    if (c == '\x1b')
      keys.push_back({Key::escape, 0});
    else if (c == '\r' || c == '\n')
      keys.push_back({Key::enter, 0});
    else if (c == '\x7f' || c == '\b')
      keys.push_back({Key::backspace, 0});
    else if (c == '\t')
      keys.push_back({Key::tab, 0});
    else
      keys.push_back({Key::character, c});
    ++i;
  }
  in.erase(0, i);
  return keys;
}

namespace {

// `at(i)`: the row at index i of the view, if made.
bool apply(TopState& st, const Key& key, size_t count,
           const std::function<const TopRow*(size_t)>& at) {
  if (st.editing) {
    edit_filter(st, key);
    return true;
  }
  if (st.help) {  // any key closes the help
    st.help = false;
    return !(key.kind == Key::character && key.ch == 'q');
  }
  switch (key.kind) {
    case Key::up:
      if (st.selected) --st.selected;
      break;
    case Key::down:
      ++st.selected;
      break;
    case Key::enter:
      drill(st, at(st.selected));
      break;
    case Key::backspace:
    case Key::escape:
      back(st);
      break;
    case Key::tab:
      st.query.view = next_view(st.query.view, bool(st.query.drill));
      if (st.query.view == GroupKind::process) st.query.drill.reset();  // back out of a drill-down
      st.query.cgroup.reset();  // the views Tab reaches are the whole host's
      st.selected = 0;
      break;
    case Key::character:
      if (!apply_char(st, key.ch)) return false;
      break;
  }
  if (count && st.selected >= count) st.selected = count - 1;
  return true;
}

}  // namespace

bool apply_key(TopState& st, const Key& key, const std::vector<TopRow>& rows) {
  return apply(st, key, rows.size(),
               [&](size_t i) { return i < rows.size() ? &rows[i] : nullptr; });
}

bool apply_key(TopState& st, const Key& key, const FrameRows& rows) {
  return apply(st, key, rows.count, [&](size_t i) { return rows.at(i); });
}

}  // namespace netacct
