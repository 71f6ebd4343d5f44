#include "resolve/procfs.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "model/report.hpp"
#include "output/report.hpp"

using namespace netacct;
namespace fs = std::filesystem;

namespace {

class ProcFsTest : public ::testing::Test {
 protected:
  fs::path root;
  uint64_t ns_per_tick = 1'000'000'000 / uint64_t(sysconf(_SC_CLK_TCK));

  void SetUp() override {
    char tmpl[] = "/tmp/netacct-proc-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root = tmpl;
  }
  void TearDown() override { fs::remove_all(root); }

  // A /proc/<pid>/stat line; starttime is field 22.
  void stat(uint32_t pid, const std::string& comm, char state, uint64_t starttime) {
    fs::create_directories(root / std::to_string(pid));
    std::ofstream(root / std::to_string(pid) / "stat")
        << pid << " (" << comm << ") " << state
        << " 1 4242 4242 0 -1 4194560 1034 0 0 0 3 1 0 0 20 0 1 0 " << starttime
        << " 12345678 1234 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 17 1 0 0 0 0 0\n";
  }
};

}  // namespace

TEST_F(ProcFsTest, AliveWhenStartTimeMatches) {
  stat(4242, "my (weird) proc)", 'S', 123456);
  ProcFs p(root.string());
  EXPECT_TRUE(p.alive({4242, 123456 * ns_per_tick}));
  EXPECT_TRUE(p.alive({4242, 123456 * ns_per_tick + ns_per_tick - 1}));  // same tick
}

TEST_F(ProcFsTest, NotAliveWhenPidWasReused) {
  stat(4242, "sleep", 'S', 123457);
  ProcFs p(root.string());
  EXPECT_FALSE(p.alive({4242, 123456 * ns_per_tick}));
}

TEST_F(ProcFsTest, NotAliveWhenZombieOrDead) {
  stat(10, "zombie", 'Z', 500);
  stat(11, "dead", 'X', 500);
  stat(12, "running", 'R', 500);
  ProcFs p(root.string());
  EXPECT_FALSE(p.alive({10, 500 * ns_per_tick}));
  EXPECT_FALSE(p.alive({11, 500 * ns_per_tick}));
  EXPECT_TRUE(p.alive({12, 500 * ns_per_tick}));
}

TEST_F(ProcFsTest, NotAliveWhenDirectoryIsMissing) {
  ProcFs p(root.string());
  EXPECT_FALSE(p.alive({99, 0}));
  EXPECT_FALSE(p.pid_exists(99));
}

// A stat line cut short or garbled says nothing about the process: it is
// not reported ended for it (only a missing entry, a zombie or another
// start time does that).
TEST_F(ProcFsTest, AliveWhenStatIsTruncated) {
  fs::create_directories(root / "7");
  std::ofstream(root / "7" / "stat") << "7 (short) S 1 7 7\n";
  ProcFs p(root.string());
  EXPECT_TRUE(p.alive({7, 0}));
}

TEST_F(ProcFsTest, PidExists) {
  stat(4242, "x", 'S', 1);
  ProcFs p(root.string());
  EXPECT_TRUE(p.pid_exists(4242));
  EXPECT_FALSE(p.pid_exists(4243));
}

TEST_F(ProcFsTest, ExeFollowsSymlink) {
  stat(4242, "curl", 'S', 1);
  fs::create_symlink("/usr/bin/curl (deleted)", root / "4242" / "exe");
  ProcFs p(root.string());
  EXPECT_EQ(p.exe(4242), "/usr/bin/curl (deleted)");
  EXPECT_EQ(p.exe(4243), std::nullopt);
}

TEST_F(ProcFsTest, ExeMissingForKernelThread) {
  stat(2, "kthreadd", 'S', 1);
  ProcFs p(root.string());
  EXPECT_EQ(p.exe(2), std::nullopt);
}

TEST(UserName, RootAndUnknown) {
  EXPECT_EQ(user_name(0), "root");
  EXPECT_EQ(user_name(4'000'000'000u), std::nullopt);
}

TEST(ProcFsReal, ThisProcessExists) {
  ProcFs p;
  EXPECT_TRUE(p.pid_exists(uint32_t(getpid())));
  EXPECT_EQ(p.exe(uint32_t(getpid())), fs::read_symlink("/proc/self/exe").string());
}

// NSpid lists the PID in each PID namespace from this one inwards: a
// process in a container has two or more, the last is what it sees itself.
TEST_F(ProcFsTest, NsPidIsTheInnermostPidOfAProcessInAPidNamespace) {
  auto status = [&](uint32_t pid, const std::string& nspid) {
    fs::create_directories(root / std::to_string(pid));
    std::ofstream(root / std::to_string(pid) / "status") << "Name:\tsh\nTgid:\t" << pid << "\n"
                                                         << nspid << "PPid:\t1\n";
  };
  status(4242, "NSpid:\t4242\t17\t1\n");
  status(77, "NSpid:\t77\n");
  status(88, "");  // a kernel before 4.1
  ProcFs p(root.string());
  EXPECT_EQ(p.ns_pid(4242), 1u);
  EXPECT_EQ(p.ns_pid(77), std::nullopt);
  EXPECT_EQ(p.ns_pid(88), std::nullopt);
  EXPECT_EQ(p.ns_pid(99), std::nullopt);  // gone
}

// The parsers on a file's text, as tests/fuzz calls them.
TEST(ProcText, StatStartTicksAfterTheLastParenthesis) {
  std::string fields = " S 1 7 7 0 -1 4194560 1 0 0 0 3 1 0 0 20 0 1 0 777 123 45\n";
  EXPECT_EQ(stat_start_ticks("7 (a) (b c))" + fields), 777u);
  EXPECT_EQ(stat_start_ticks("7 (zombie) Z" + fields.substr(2)), std::nullopt);
  EXPECT_EQ(stat_start_ticks("7 no parenthesis" + fields), std::nullopt);
  EXPECT_EQ(stat_start_ticks("7 (short) S 1 7 7\n"), std::nullopt);
  EXPECT_EQ(stat_start_ticks(""), std::nullopt);
}

TEST(ProcText, StatusNsPidIsTheLastOfTheLine) {
  EXPECT_EQ(status_ns_pid("Name:\tsh\nNSpid:\t4242\t17\t1\nPPid:\t1\n"), 1u);
  EXPECT_EQ(status_ns_pid("NSpid:\t77\n"), std::nullopt);
  EXPECT_EQ(status_ns_pid("NSpid:\t77\t4294967296\n"), std::nullopt);
  EXPECT_EQ(status_ns_pid("Name:\tsh\n"), std::nullopt);
  EXPECT_EQ(status_ns_pid(""), std::nullopt);
}

// doctor's view of another netacct: its effective uid and capability masks
// from /proc/PID/status (a real 6.1 status, abridged).
TEST(StatusPrivileges, ReadsUidMasksAndNoNewPrivs) {
  const std::string status =
      "Name:\tnetacct\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t812\nPid:\t812\n"
      "Uid:\t65534\t65534\t65534\t65534\nGid:\t65534\t65534\t65534\t65534\nGroups:\t\n"
      "CapInh:\t0000000000000000\nCapPrm:\t0000000000081004\nCapEff:\t0000000000081004\n"
      "CapBnd:\t0000000000080004\nCapAmb:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t0\n";
  auto p = status_privileges(status);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->uid, 65534u);
  EXPECT_EQ(p->effective, 0x81004u);
  EXPECT_EQ(p->permitted, 0x81004u);
  EXPECT_EQ(p->bounding, 0x80004u);
  EXPECT_TRUE(p->no_new_privs);
}

TEST(StatusPrivileges, EffectiveUidIsTheSecondField) {
  auto p =
      status_privileges("Uid:\t0\t1000\t0\t0\nCapPrm:\t0\nCapEff:\t0\nCapBnd:\t000001ffffffffff\n");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->uid, 1000u);
  EXPECT_EQ(p->bounding, 0x1ffffffffffu);
  EXPECT_FALSE(p->no_new_privs) << "no NoNewPrivs line (Linux < 4.10): 0";
}

TEST(StatusPrivileges, MissingOrMalformedLinesAreNothing) {
  EXPECT_FALSE(status_privileges(""));
  EXPECT_FALSE(status_privileges("Uid:\t0\t0\t0\t0\nCapPrm:\t0\nCapEff:\t0\n"));  // no CapBnd
  EXPECT_FALSE(status_privileges("Uid:\t0\t0\t0\t0\nCapPrm:\t0\nCapEff:\tzz\nCapBnd:\t0\n"));
  EXPECT_FALSE(status_privileges("Uid:\t0\nCapPrm:\t0\nCapEff:\t0\nCapBnd:\t0\n"));
  EXPECT_FALSE(status_privileges("Uid:\t0\t-1\t0\t0\nCapPrm:\t0\nCapEff:\t0\nCapBnd:\t0\n"));
}

TEST_F(ProcFsTest, NamedListsProcessesByCommAscending) {
  for (uint32_t pid : {30u, 7u, 12u}) {
    fs::create_directories(root / std::to_string(pid));
    std::ofstream(root / std::to_string(pid) / "comm")
        << (pid == 12 ? "netacct-guard" : "netacct") << "\n";
  }
  fs::create_directories(root / "self");
  std::ofstream(root / "self" / "comm") << "netacct\n";
  EXPECT_EQ(ProcFs(root.string()).named("netacct"), (std::vector<uint32_t>{7, 30}));
}

TEST_F(ProcFsTest, CommandLineJoinsArgumentsWithSpaces) {
  fs::create_directories(root / "9");
  std::ofstream(root / "9" / "cmdline", std::ios::binary)
      << std::string("netacct\0serve\0--user\0nobody\0", 29);
  EXPECT_EQ(ProcFs(root.string()).command_line(9), "netacct serve --user nobody");
  EXPECT_FALSE(ProcFs(root.string()).command_line(10));
}

// ---- Faults: a read of /proc that fails the way the kernel's do ----

namespace {

// What the Nth touch of /proc (a read or a readlink, counted from 1) meets:
// the entry gone (ENOENT; ESRCH when the process ended between open and
// read), the field hidden (EACCES: hidepid, ptrace checks), a read cut
// short, or bytes that are not the file's (control bytes included).
enum class Fault { enoent, esrch, eacces, short_read, garbage };
const char* name(Fault f) {
  static const char* names[] = {"ENOENT", "ESRCH", "EACCES", "short read", "garbage"};
  return names[int(f)];
}
constexpr Fault kFaults[] = {Fault::enoent, Fault::esrch, Fault::eacces, Fault::short_read,
                             Fault::garbage};
const std::string kGarbage = "\x1b]0;owned\x07\x1b[2J)) Z 9 (\xff\n";

struct FaultyProc {
  Fault fault;
  int nth = 1;
  int calls = 0;

  // Whether this touch is the faulty one; *err or *text made so.
  bool hit(std::optional<std::string>& text, int* err) {
    if (++calls != nth) return false;
    switch (fault) {
      case Fault::enoent:
      case Fault::esrch:
      case Fault::eacces:
        *err = fault == Fault::enoent ? ENOENT : fault == Fault::esrch ? ESRCH : EACCES;
        text.reset();
        break;
      case Fault::short_read:
        if (text) text->resize(text->size() / 3);
        break;
      case Fault::garbage:
        text = kGarbage;
        break;
    }
    return true;
  }

  ProcIo io() {
    ProcIo real = ProcIo::system();
    return {.read =
                [this, real](const std::string& path, size_t max, int* err) {
                  std::optional<std::string> text = real.read(path, max, err);
                  hit(text, err);
                  return text;
                },
            .readlink =
                [this, real](const std::string& path, int* err) {
                  std::optional<std::string> text = real.readlink(path, err);
                  hit(text, err);
                  return text;
                }};
  }
};

// SystemResolver's /proc half over a faulty ProcFs (the rest answers nothing).
class ProcResolver : public Resolver {
 public:
  explicit ProcResolver(ProcFs procfs) : procfs_(std::move(procfs)) {}
  std::optional<std::string> exe(uint32_t pid) override { return procfs_.exe(pid); }
  std::optional<uint32_t> ns_pid(uint32_t pid) override { return procfs_.ns_pid(pid); }
  std::optional<std::string> user(uint32_t) override { return std::nullopt; }
  CgroupName cgroup(uint64_t) override { return {}; }

 private:
  ProcFs procfs_;
};

class ProcFaultTest : public ProcFsTest {
 protected:
  // Process 4242, "app", started at tick 5000, in a PID namespace (its own
  // PID 7), running /usr/bin/app.
  void SetUp() override {
    ProcFsTest::SetUp();
    stat(4242, "app", 'S', 5000);
    std::ofstream(root / "4242" / "status") << "Name:\tapp\nNSpid:\t4242\t7\nPPid:\t1\n";
    fs::create_symlink("/usr/bin/app", root / "4242" / "exe");
  }
  ProcId id() const { return {4242, 5000 * ns_per_tick}; }
};

}  // namespace

// Gone (ENOENT, ESRCH) ends the process; a field that cannot be read or
// parsed leaves it running (a read that failed is not an exit).
TEST_F(ProcFaultTest, AliveIsFalseOnlyWhenTheEntryIsGone) {
  for (Fault f : kFaults) {
    SCOPED_TRACE(name(f));
    FaultyProc faulty{.fault = f};
    ProcFs p(root.string(), faulty.io());
    EXPECT_EQ(p.alive(id()), f != Fault::enoent && f != Fault::esrch);
    EXPECT_EQ(faulty.calls, 1);
    EXPECT_TRUE(p.alive(id())) << "the next read is the real file";
  }
}

// Whichever touch of /proc fails, and however: the process is in the
// report with its exact bytes and its name (from the kernel), and with
// what /proc did tell (its executable, its PID in its namespace) or
// nothing; never with bytes a failed read made up, and no control byte
// reaches a report.
TEST_F(ProcFaultTest, ProcessIsReportedWithWhatIsKnownWhicheverReadFails) {
  for (Fault f : kFaults) {
    for (int nth = 1; nth <= 2; ++nth) {
      SCOPED_TRACE(std::string(name(f)) + " at touch " + std::to_string(nth));
      FaultyProc faulty{.fault = f, .nth = nth};
      ProcResolver res(ProcFs(root.string(), faulty.io()));
      Attributor attributor({}, res);
      Window w;
      w.start_mono = 1'000'000'000;
      w.end_mono = 2'000'000'000;
      w.procs.push_back(
          {.id = id(), .info = {.comm = "app", .uid = 0}, .bytes = {.tx = 1234, .rx = 567}});
      Attributed a = attributor.attribute(w);
      ASSERT_EQ(faulty.calls, 2) << "one readlink (exe), one read (status)";
      ASSERT_EQ(a.procs.size(), 1u);
      EXPECT_EQ(a.procs[0].tx, 1234u);
      EXPECT_EQ(a.procs[0].rx, 567u);
      const Identity& who = *a.procs[0].who;
      EXPECT_EQ(who.comm, "app");
      EXPECT_FALSE(who.exited);
      const bool exe_hit = nth == 1, status_hit = nth == 2;
      if (!exe_hit)
        EXPECT_EQ(who.exe, "/usr/bin/app");
      else if (f == Fault::garbage)
        EXPECT_EQ(who.exe, kGarbage) << "a link target is the process's to choose: sinks escape it";
      else if (f == Fault::short_read)
        EXPECT_EQ(who.exe, "/usr");
      else
        EXPECT_EQ(who.exe, std::nullopt);
      if (!status_hit)
        EXPECT_EQ(who.container_pid, 7u);
      else
        EXPECT_EQ(who.container_pid, std::nullopt) << "no NSpid line read: unknown, not made up";

      Report rep = assemble(a, "h", "b");
      std::ostringstream out;
      ReportWriter json(out, Format::json, GroupKind::process);
      json.write(rep);
      ReportWriter text(out, Format::text, GroupKind::process);
      text.write(rep);
      const std::string printed = out.str();
      EXPECT_NE(printed.find("\"tx_bytes\":1234"), std::string::npos) << printed;
      for (char c : printed)
        EXPECT_TRUE(c == '\n' || static_cast<unsigned char>(c) >= 0x20) << printed;
    }
  }
}
