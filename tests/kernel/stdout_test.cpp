// Where a report goes when its reader fails: a reader that goes away ends
// netacct quietly (SIGPIPE's status 141, or exit 0 when SIGPIPE is ignored
// and the write says EPIPE), as `netacct report | head -1` expects; a full
// disk (/dev/full) ends it with one line and exit 1, never silently. The
// same for top's batch frames.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "support/env.hpp"
#include "support/tempdir.hpp"

namespace kt {
namespace {

struct Outcome {
  int status = -1;  // exit status, or 128 + the signal that ended netacct
  std::string err;  // netacct's stderr
};

enum class Sink { closed_pipe, closed_pipe_sigpipe_ignored, dev_full };

// `netacct report` (hostSafe: no TC on the machine's interfaces) with its
// stdout on `sink`. A closed pipe: the reader takes one byte and closes.
const std::vector<std::string> kReport{"report", "--interval", "0.2", "--count",
                                       "0",      "--format",   "json"};
const std::vector<std::string> kTopBatch{"top", "--batch", "--delay", "0.2", "--count", "0"};

Outcome runInto(Sink sink, const std::vector<std::string>& command = kReport) {
  TempDir dir;
  const std::string err_path = dir.path() + "/err";
  std::vector<std::string> args{netacctBinary()};
  for (auto& a : hostSafe(command)) args.push_back(std::move(a));
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
  const pid_t pid = fork();
  if (pid == 0) {
    int out = sink == Sink::dev_full ? open("/dev/full", O_WRONLY) : p[1];
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) _exit(120);
    signal(SIGPIPE, sink == Sink::closed_pipe_sigpipe_ignored ? SIG_IGN : SIG_DFL);
    execv(argv[0], argv.data());
    _exit(121);
  }
  close(p[1]);
  char byte;
  if (sink != Sink::dev_full && read(p[0], &byte, 1) != 1) ADD_FAILURE() << "no report byte";
  close(p[0]);
  int raw = 0;
  const auto deadline = std::chrono::steady_clock::now() + scaled(30);
  while (waitpid(pid, &raw, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &raw, 0);
      ADD_FAILURE() << "netacct did not end within 30 s";
      break;
    }
    usleep(20 * 1000);
  }
  std::ifstream in(err_path);
  std::stringstream text;
  text << in.rdbuf();
  return {WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw), text.str()};
}

const char kReady[] = "netacct: ready (backend ";

// The stderr lines other than netacct's "ready" line.
std::string beyondReady(const std::string& err) {
  std::istringstream in(err);
  std::string line, out;
  while (std::getline(in, line))
    if (!line.starts_with(kReady)) out += line + "\n";
  return out;
}

class StdoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string why = unavailableReason();
    if (!why.empty()) KT_SKIP(why);
  }
};

TEST_F(StdoutTest, ClosedPipeEndsBySigpipeQuietly) {
  const Outcome r = runInto(Sink::closed_pipe);
  EXPECT_EQ(r.status, 128 + SIGPIPE) << r.err;
  EXPECT_EQ(beyondReady(r.err), "");
}

TEST_F(StdoutTest, ClosedPipeWithSigpipeIgnoredExitsZeroQuietly) {
  const Outcome r = runInto(Sink::closed_pipe_sigpipe_ignored);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(beyondReady(r.err), "");
}

TEST_F(StdoutTest, FullDiskIsOneLineAndExitOne) {
  const Outcome r = runInto(Sink::dev_full);
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_EQ(beyondReady(r.err), "netacct: cannot write the report: No space left on device\n");
}

TEST_F(StdoutTest, TopBatchOnAFullDiskIsOneLineAndExitOne) {
  const Outcome r = runInto(Sink::dev_full, kTopBatch);
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_EQ(beyondReady(r.err), "netacct: cannot write the frame: No space left on device\n");
}

TEST_F(StdoutTest, TopBatchIntoAClosedPipeEndsQuietly) {
  const Outcome r = runInto(Sink::closed_pipe, kTopBatch);
  EXPECT_EQ(r.status, 128 + SIGPIPE) << r.err;
  EXPECT_EQ(beyondReady(r.err), "");
}

}  // namespace
}  // namespace kt
