// Names a process controls, set for real with prctl(PR_SET_NAME), through
// every sink of the real binary: report as JSON, text and CSV, top --batch,
// and interactive top in a tmux pane. netacct runs as root and writes these
// names to the operator's terminal: no control character may get through
// raw, no name may split a row, and the escaping must be the documented,
// reversible one (a backslash "\\", a control or invalid byte "\xNN").
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <set>
#include <sstream>
#include <thread>

#include "support/fixture.hpp"

namespace kt {
namespace {

// 15 bytes at most (TASK_COMM_LEN - 1).
const std::string kColor = "\x1b[31mevil\t\n";  // color, tab, newline
const std::string kBroken = "caf\xc3\\x";       // cut mid-character, and a backslash

// As text, CSV and top show them.
const std::string kColorShown = "\\x1b[31mevil\\x09\\x0a";
const std::string kBrokenShown = "caf\\xc3\\\\x";
// As JSON carries them (JSON escapes control characters itself).
const std::string kColorJson = kColor;
const std::string kBrokenJson = "caf\\xc3\\\\x";

bool ready(const std::string& err) { return err.find("netacct: ready") != std::string::npos; }

class HostileNames : public KernelTest {
 protected:
  // A server in A named kColor receives what a client in B named kBroken
  // sends, for about `seconds` (so that a live view can show them).
  struct Flow {
    Server server;
    Child client;
  };
  Flow start(double seconds) {
    auto server =
        tcpServerA(AF_INET, kColor, [](int fd, ChildCtx& ctx) { ctx.counts.rx += recvToEof(fd); });
    auto client = tcpClientB(server.ep, kBroken, [seconds](int fd, ChildCtx& ctx) {
      auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
      do {
        ctx.counts.tx += sendBytes(fd, 1000 + 7);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      } while (std::chrono::steady_clock::now() < end);
    });
    server_pid_ = server.child.pid();
    client_pid_ = client.pid();
    return Flow{std::move(server), std::move(client)};
  }
  std::pair<Counts, Counts> traffic(double seconds) {
    Flow f = start(seconds);
    return {f.server.child.finish(), f.client.finish()};
  }
  pid_t server_pid_ = 0, client_pid_ = 0;
};

TEST_F(HostileNames, ReportEscapesThemInEveryFormat) {
  Netacct json;
  Netacct text({.format = "text", .extra = {"--by", "connection"}});
  Netacct csv({.format = "csv"});
  auto [s, c] = traffic(0.5);
  NetacctRun jr = json.stop(), tr = text.stop(), cr = csv.stop();

  // JSON: the names exactly (escaped reversibly where not UTF-8), bytes exact.
  expectAccounted(jr, server_pid_, kColorJson, s);
  expectAccounted(jr, client_pid_, kBrokenJson, c);
  EXPECT_EQ(viewOf(jr, server_pid_).comms, (std::set<std::string>{kColorJson}));
  EXPECT_EQ(viewOf(jr, client_pid_).comms, (std::set<std::string>{kBrokenJson}));

  for (const NetacctRun* run : {&tr, &cr}) {
    EXPECT_TRUE(noRawControls(run->out));
    EXPECT_NE(run->out.find(kColorShown), std::string::npos) << run->out;
    EXPECT_NE(run->out.find(kBrokenShown), std::string::npos) << run->out;
  }
  // One CSV row per process: every row has the header's number of fields.
  std::istringstream rows(cr.out);
  std::string header, row;
  std::getline(rows, header);
  size_t fields = std::count(header.begin(), header.end(), ',');
  while (std::getline(rows, row)) EXPECT_EQ(std::count(row.begin(), row.end(), ','), fields) << row;
}

TEST_F(HostileNames, TopBatchEscapesThem) {
  Process top({"top", "--batch", "--delay", "0.5", "--count", "0", "--backend", testBackend()},
              {.env = {"COLUMNS=160", "LANG=C.UTF-8"}});
  ASSERT_TRUE(top.waitOutput([](auto&, const std::string& err) { return ready(err); },
                             std::chrono::seconds(scaledSeconds(20))));
  traffic(1.5);
  ASSERT_TRUE(top.waitOutput(
      [](const std::string& out, auto&) {
        return out.find(kColorShown) != std::string::npos &&
               out.find(kBrokenShown) != std::string::npos;
      },
      std::chrono::seconds(scaledSeconds(10))))
      << top.out();
  kill(top.pid(), SIGINT);
  top.waitExit(std::chrono::seconds(scaledSeconds(5)));
  EXPECT_TRUE(noRawControls(top.out()));
}

// The interactive screen, read back from a tmux pane: the escaped name is
// on screen as text (had the escape sequence reached the terminal, the pane
// would show "evil" in red and no "\x1b[31m").
TEST_F(HostileNames, InteractiveTopShowsThemEscaped) {
  const std::string socket = "na-hostile-" + std::to_string(getpid());
  // Bounded even if this test dies: the pane (and with it the tmux server)
  // ends when netacct does.
  const std::string cmd = "LANG=C.UTF-8 exec timeout -s INT " + std::to_string(scaledSeconds(30)) +
                          " '" + netacctBinary() + "' top --no-wire --delay 0.5 --backend " +
                          testBackend();
  auto tmux = [&](const std::string& args) {
    std::string line = "tmux -L " + socket + " -f /dev/null " + args + " 2>/dev/null";
    std::string out;
    if (FILE* p = popen(line.c_str(), "r")) {
      char buf[4096];
      for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
      pclose(p);
    }
    return out;
  };
  if (system("command -v tmux >/dev/null") != 0) {
    if (ciMode()) FAIL() << "tmux is missing";
    GTEST_SKIP() << "tmux is not installed";
  }
  // The pane's server goes whatever happens below (it would otherwise keep
  // netacct running, and every fd the test inherited, open).
  struct Server {
    std::function<std::string(const std::string&)> run;
    ~Server() { run("kill-server"); }
  } guard{tmux};
  tmux("new-session -d -c / -x 160 -y 30 \"" + cmd + "\"");
  // The traffic starts once netacct counts (its first screen is drawn after
  // attaching): started earlier, on a loaded machine, it can be over before.
  auto until = [&](auto done, int seconds) {
    std::string screen;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(scaledSeconds(seconds));
    while (std::chrono::steady_clock::now() < deadline) {
      screen = tmux("capture-pane -p");
      if (done(screen)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return screen;
  };
  std::string screen =
      until([](const std::string& s) { return s.find("netacct top") != std::string::npos; }, 20);
  ASSERT_NE(screen.find("netacct top"), std::string::npos) << screen;
  // Everything forks from this one thread (a fork beside a running thread
  // can inherit a held malloc lock and hang the child).
  Flow flow = start(4);
  screen = until(
      [](const std::string& s) {
        return s.find(kColorShown.substr(0, 12)) != std::string::npos &&
               s.find(kBrokenShown) != std::string::npos;
      },
      10);
  flow.server.child.finish();
  flow.client.finish();
  tmux("send-keys q");
  // The name column cuts at its width; the escaped prefix is what matters.
  EXPECT_NE(screen.find(kColorShown.substr(0, 12)), std::string::npos) << screen;
  EXPECT_NE(screen.find(kBrokenShown), std::string::npos) << screen;
}

}  // namespace
}  // namespace kt
