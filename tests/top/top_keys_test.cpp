// Bytes -> keys -> state changes, for every binding in the help screen.
#include "cli/top_keys.hpp"

#include <gtest/gtest.h>

using namespace netacct;

namespace {

const Key kUp{Key::up, 0}, kDown{Key::down, 0}, kEnter{Key::enter, 0}, kBack{Key::backspace, 0},
    kEsc{Key::escape, 0}, kTab{Key::tab, 0};
Key ch(char c) { return {Key::character, c}; }

std::vector<Key> parse(std::string bytes, std::string* left = nullptr) {
  auto keys = parse_keys(bytes);
  if (left) *left = bytes;
  return keys;
}

// Three processes on screen.
std::vector<TopRow> three() {
  std::vector<TopRow> rows(3);
  for (uint32_t i = 0; i < 3; ++i) rows[i].row.key.proc = {100 + i, 7};
  return rows;
}

struct Keys : ::testing::Test {
  TopState st;
  std::vector<TopRow> rows = three();
  bool press(const Key& k) { return apply_key(st, k, rows); }
  bool type(const std::string& s) {
    bool running = true;
    for (const Key& k : parse(s)) running = running && press(k);
    return running;
  }
};

TEST(ParseKeys, PlainCharacters) {
  EXPECT_EQ(parse("qj/"), (std::vector<Key>{ch('q'), ch('j'), ch('/')}));
}

TEST(ParseKeys, ControlKeys) {
  EXPECT_EQ(parse("\r\n\t\x7f\b"), (std::vector<Key>{kEnter, kEnter, kTab, kBack, kBack}));
}

TEST(ParseKeys, Arrows) {
  EXPECT_EQ(parse("\x1b[A\x1b[B\x1bOA\x1bOB"), (std::vector<Key>{kUp, kDown, kUp, kDown}));
}

TEST(ParseKeys, LoneEscapeAtTheEndIsEscape) {
  std::string left;
  EXPECT_EQ(parse("x\x1b", &left), (std::vector<Key>{ch('x'), kEsc}));
  EXPECT_EQ(left, "");
  EXPECT_EQ(parse("\x1bq"), (std::vector<Key>{kEsc, ch('q')}));
}

TEST(ParseKeys, IncompleteSequenceWaitsForTheNextRead) {
  std::string pending = "k\x1b[1;";
  EXPECT_EQ(parse_keys(pending), (std::vector<Key>{ch('k')}));
  EXPECT_EQ(pending, "\x1b[1;");
  pending += "5A j";
  EXPECT_EQ(parse_keys(pending), (std::vector<Key>{kUp, ch(' '), ch('j')}));  // Ctrl-Up is up
  EXPECT_EQ(pending, "");
  pending = "\x1bO";
  EXPECT_TRUE(parse_keys(pending).empty());
  EXPECT_EQ(pending, "\x1bO");
}

TEST(ParseKeys, OtherSequencesAreIgnored) {
  EXPECT_EQ(parse("\x1b[C\x1b[D\x1b[3~\x1b[15~\x1bOPq"), (std::vector<Key>{ch('q')}));
}

TEST_F(Keys, QuitOnlyOnQ) {
  EXPECT_TRUE(press(ch('x')));
  EXPECT_FALSE(press(ch('q')));
  EXPECT_TRUE(press(ch('Q')));
}

TEST_F(Keys, ArrowsMoveAndClamp) {
  EXPECT_TRUE(press(kUp));
  EXPECT_EQ(st.selected, 0u);
  press(kDown);
  press(kDown);
  press(kDown);
  EXPECT_EQ(st.selected, 2u);
  press(kUp);
  EXPECT_EQ(st.selected, 1u);
}

// Regression (fixed): 'j' returns from apply_key before the clamp that the arrows get, so
// it walks past the last row ("jj\r" at the bottom then drills nothing).
TEST_F(Keys, JAndKMoveAndClamp) {
  press(ch('k'));
  EXPECT_EQ(st.selected, 0u);
  for (int i = 0; i < 5; ++i) press(ch('j'));
  EXPECT_EQ(st.selected, 2u);
  press(ch('k'));
  EXPECT_EQ(st.selected, 1u);
}

TEST_F(Keys, EnterDrillsIntoTheSelectedProcess) {
  st.selected = 1;
  press(kEnter);
  EXPECT_EQ(st.query.view, GroupKind::connection);
  ASSERT_TRUE(st.query.drill);
  EXPECT_EQ(*st.query.drill, (ProcId{101, 7}));
  EXPECT_EQ(st.selected, 0u);
}

TEST_F(Keys, EnterDoesNothingOutsideTheProcessesView) {
  st.query.view = GroupKind::remote;
  press(kEnter);
  EXPECT_EQ(st.query.view, GroupKind::remote);
  EXPECT_FALSE(st.query.drill);
  st.query.view = GroupKind::process;
  rows.clear();
  press(kEnter);
  EXPECT_FALSE(st.query.drill);
}

TEST_F(Keys, BackspaceAndEscapeGoBackThenClearTheFilter) {
  for (Key back : {kBack, kEsc}) {
    st = {};
    st.filter = "ssh";
    st.selected = 2;
    press(kEnter);
    press(kDown);
    press(back);
    EXPECT_EQ(st.query.view, GroupKind::process);
    EXPECT_FALSE(st.query.drill);
    EXPECT_EQ(st.selected, 0u);
    EXPECT_EQ(st.filter, "ssh");
    press(back);
    EXPECT_EQ(st.filter, "");
    press(back);  // nothing left to undo
    EXPECT_EQ(st.query.view, GroupKind::process);
  }
}

TEST_F(Keys, TabCyclesViews) {
  st.selected = 2;
  press(kTab);
  EXPECT_EQ(st.query.view, GroupKind::connection);
  EXPECT_EQ(st.selected, 0u);
  press(kTab);
  EXPECT_EQ(st.query.view, GroupKind::remote);
  press(kTab);
  EXPECT_EQ(st.query.view, GroupKind::interface);
  press(kTab);
  EXPECT_EQ(st.query.view, GroupKind::container);
  press(kTab);
  EXPECT_EQ(st.query.view, GroupKind::process);
}

// Regression (fixed): Tab keeps the drill-down all the way back to the processes view,
// whose title then reads "processes of PID N" over the full process list
// (process rows ignore the drill). Interfaces and containers have no
// process: a drill-down skips their views.
TEST_F(Keys, TabBackToProcessesLeavesTheDrillDown) {
  press(kEnter);
  press(kTab);
  EXPECT_EQ(st.query.view, GroupKind::remote);
  EXPECT_TRUE(st.query.drill);
  press(kTab);
  EXPECT_EQ(st.query.view, GroupKind::process);
  EXPECT_FALSE(st.query.drill);
}

// Enter on a container shows its processes, Enter on one of them its
// connections; Backspace walks back the same way. Tab leaves the container.
TEST_F(Keys, ContainerDrillsToItsProcessesThenToAProcess) {
  TopRow web;
  web.row.key.cgroup = 9001;
  TopRow proc;
  proc.row.key.proc = {4121, 7};
  st.query.view = GroupKind::container;
  ASSERT_TRUE(apply_key(st, kEnter, std::vector<TopRow>{web}));
  EXPECT_EQ(st.query.view, GroupKind::process);
  EXPECT_EQ(st.query.cgroup, 9001u);
  ASSERT_TRUE(apply_key(st, kEnter, std::vector<TopRow>{proc}));
  EXPECT_EQ(st.query.view, GroupKind::connection);
  EXPECT_EQ(st.query.drill, (ProcId{4121, 7}));
  EXPECT_EQ(st.query.cgroup, 9001u);
  press(kBack);
  EXPECT_EQ(st.query.view, GroupKind::process);
  EXPECT_FALSE(st.query.drill);
  EXPECT_EQ(st.query.cgroup, 9001u);
  press(kBack);
  EXPECT_EQ(st.query.view, GroupKind::container);
  EXPECT_FALSE(st.query.cgroup);
  ASSERT_TRUE(apply_key(st, kEnter, std::vector<TopRow>{web}));
  press(kTab);
  EXPECT_EQ(st.query.view, GroupKind::connection);
  EXPECT_FALSE(st.query.cgroup);
}

TEST_F(Keys, SortKeys) {
  press(ch('s'));
  EXPECT_EQ(st.sort, SortBy::sent);
  press(ch('r'));
  EXPECT_EQ(st.sort, SortBy::received);
  press(ch('t'));
  EXPECT_EQ(st.sort, SortBy::total);
  press(ch('3'));
  EXPECT_EQ(st.window, 2u);
  press(ch('2'));
  EXPECT_EQ(st.window, 1u);
  press(ch('1'));
  EXPECT_EQ(st.window, 0u);
  press(ch('4'));
  EXPECT_EQ(st.window, 0u);
}

TEST_F(Keys, Toggles) {
  type("cbpPn");
  EXPECT_TRUE(st.cumulative);
  EXPECT_TRUE(st.bits);
  EXPECT_TRUE(st.paused);
  EXPECT_FALSE(st.show_ports);
  EXPECT_TRUE(st.dns);
  type("cbpPn");
  EXPECT_FALSE(st.cumulative);
  EXPECT_FALSE(st.bits);
  EXPECT_FALSE(st.paused);
  EXPECT_TRUE(st.show_ports);
  EXPECT_FALSE(st.dns);
}

TEST_F(Keys, FilterIsTypedThenApplied) {
  st.selected = 2;
  EXPECT_TRUE(type("/pgx\x7f"));
  EXPECT_EQ(st.editing, "pg");
  EXPECT_EQ(st.filter, "");         // not applied while typing
  EXPECT_TRUE(type("q1\x1b[A\t"));  // keys are text (arrows, Tab ignored) while typing
  EXPECT_EQ(st.editing, "pgq1");
  EXPECT_EQ(st.sort, SortBy::total);
  type("\r");
  EXPECT_EQ(st.filter, "pgq1");
  EXPECT_FALSE(st.editing);
  EXPECT_EQ(st.selected, 0u);
  type("/");
  EXPECT_EQ(st.editing, "pgq1");  // starts from the current filter
  type("\x7f\x7f\x7f\x7f\x7fz\r");
  EXPECT_EQ(st.filter, "z");
}

TEST_F(Keys, EscapeWhileTypingClearsTheFilter) {
  st.filter = "old";
  type("/new");
  press(kEsc);
  EXPECT_FALSE(st.editing);
  EXPECT_EQ(st.filter, "");
}

// w switches rows between payload and wire bytes, where the wire layer runs.
TEST_F(Keys, WTogglesWireBytesOnlyWithTheWireLayer) {
  press(ch('w'));
  EXPECT_EQ(st.query.layer, Layer::payload);  // --no-wire: nothing to show
  st.wire_layer = true;
  press(ch('w'));
  EXPECT_EQ(st.query.layer, Layer::wire);
  press(ch('w'));
  EXPECT_EQ(st.query.layer, Layer::payload);
}

TEST_F(Keys, HelpOpensWithHOrQuestionMarkAndAnyKeyClosesIt) {
  for (char open : {'h', '?'}) {
    st = {};
    press(ch(open));
    EXPECT_TRUE(st.help);
    EXPECT_TRUE(press(ch('c')));
    EXPECT_FALSE(st.help);
    EXPECT_FALSE(st.cumulative);  // the closing key does nothing else
  }
  press(ch('h'));
  press(kDown);
  EXPECT_FALSE(st.help);
  EXPECT_EQ(st.selected, 0u);
  press(ch('?'));
  EXPECT_FALSE(press(ch('q')));  // q still quits
}

}  // namespace

namespace {

// A frame made only rows 10..12 of 50: the selection moves over all 50,
// Enter drills into the selected row when the frame has it.
TEST(FrameKeys, SelectionSpansTheViewEnterNeedsAMadeRow) {
  FrameRows f{.count = 50, .first = 10, .rows = three()};
  TopState st;
  st.selected = 11;
  EXPECT_TRUE(apply_key(st, kDown, f));
  EXPECT_EQ(st.selected, 12u);
  for (int i = 0; i < 60; ++i) apply_key(st, kDown, f);
  EXPECT_EQ(st.selected, 49u);  // clamped to the view, not to the rows made
  EXPECT_TRUE(apply_key(st, kEnter, f));
  EXPECT_FALSE(st.query.drill);  // row 49 was not made
  st.selected = 11;
  EXPECT_TRUE(apply_key(st, kEnter, f));
  ASSERT_TRUE(st.query.drill);
  EXPECT_EQ(st.query.drill->tgid, 101u);
  EXPECT_EQ(st.query.view, GroupKind::connection);
}

}  // namespace
