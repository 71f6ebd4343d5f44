#include "netns.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <vector>

extern char** environ;

namespace kt {
namespace {

// Paths of live namespaces in fixed storage, so that a signal handler can
// remove them without allocating.
constexpr int kSlots = 8;
char g_paths[kSlots][96];
volatile sig_atomic_t g_live[kSlots];
pid_t g_owner = 0;

void removePath(const char* path) {
  umount2(path, MNT_DETACH);
  unlink(path);
}

// Forked traffic children inherit handlers and atexit; only the test process
// itself may remove the namespaces.
void removeAllLive() {
  if (getpid() != g_owner) return;
  for (int i = 0; i < kSlots; ++i) {
    if (g_live[i]) {
      removePath(g_paths[i]);
      g_live[i] = 0;
    }
  }
}

void onFatalSignal(int sig) {
  removeAllLive();
  signal(sig, SIG_DFL);
  raise(sig);
}

// Namespaces of an earlier test process that died by SIGKILL (no handler
// could run): "na-t<pid>-a|b" whose pid is gone.
void removeOrphans() {
  DIR* dir = opendir("/run/netns");
  if (dir == nullptr) return;
  while (dirent* e = readdir(dir)) {
    int owner = 0;
    char side = 0;
    if (std::sscanf(e->d_name, "na-t%d-%c", &owner, &side) != 2 || owner <= 0) continue;
    if (kill(owner, 0) != 0 && errno == ESRCH)
      removePath(("/run/netns/" + std::string(e->d_name)).c_str());
  }
  closedir(dir);
}

void installCleanupOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    g_owner = getpid();
    removeOrphans();
    std::atexit(removeAllLive);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGABRT, SIGSEGV, SIGBUS}) {
      struct sigaction sa = {};
      sa.sa_handler = onFatalSignal;
      sa.sa_flags = SA_RESETHAND;
      sigaction(sig, &sa, nullptr);
    }
  });
}

int track(const std::string& name) {
  const std::string path = "/run/netns/" + name;
  for (int i = 0; i < kSlots; ++i) {
    if (!g_live[i]) {
      std::snprintf(g_paths[i], sizeof g_paths[i], "%s", path.c_str());
      g_live[i] = 1;
      return i;
    }
  }
  throw std::runtime_error("too many live test namespaces");
}

void untrack(const std::string& name) {
  const std::string path = "/run/netns/" + name;
  for (int i = 0; i < kSlots; ++i) {
    if (g_live[i] && path == g_paths[i]) {
      removePath(g_paths[i]);
      g_live[i] = 0;
    }
  }
}

void configureSide(const std::string& ns, const char* dev, const char* v4, const char* v6) {
  runIp({"-n", ns, "addr", "add", std::string(v4) + "/24", "dev", dev});
  runIp({"-n", ns, "addr", "add", std::string(v6) + "/64", "dev", dev, "nodad"});
  runIp({"-n", ns, "link", "set", dev, "up"});
  runIp({"-n", ns, "link", "set", "lo", "up"});
}

}  // namespace

void runIp(std::vector<std::string> args) {
  args.insert(args.begin(), "ip");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, out[1], 2);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, "ip", &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(out[1]);
  std::string text;
  char buf[512];
  ssize_t n;
  while (rc == 0 && (n = read(out[0], buf, sizeof buf)) > 0) text.append(buf, n);
  close(out[0]);
  std::string cmd;
  for (auto& a : args) cmd += a + " ";
  if (rc != 0) throw std::runtime_error("cannot run " + cmd + ": " + std::strerror(rc));
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("`" + cmd + "` failed: " + text);
}

NetnsPair::NetnsPair(const std::string& sides) {
  installCleanupOnce();
  if (sides.size() != 2) throw std::invalid_argument("NetnsPair: two side letters, got " + sides);
  const std::string base = "na-t" + std::to_string(getpid());
  a_ = base + "-" + sides[0];
  b_ = base + "-" + sides[1];
  try {
    for (const auto& ns : {a_, b_}) {
      untrack(ns);
      removePath(("/run/netns/" + ns).c_str());  // leftover of a crashed run with our pid
      track(ns);
      runIp({"netns", "add", ns});
    }
    runIp({"-n", a_, "link", "add", "na0", "type", "veth", "peer", "name", "na1", "netns", b_});
    configureSide(a_, "na0", kA4, kA6);
    runIp({"-n", a_, "addr", "add", std::string(kA4second) + "/24", "dev", "na0"});
    runIp({"-n", a_, "addr", "add", std::string(kA6second) + "/64", "dev", "na0", "nodad"});
    configureSide(b_, "na1", kB4, kB6);
  } catch (...) {
    untrack(a_);
    untrack(b_);
    throw;
  }
}

NetnsPair::~NetnsPair() {
  untrack(a_);
  untrack(b_);
}

uint64_t netnsInode(const std::string& name) {
  struct stat st {};
  if (stat(("/run/netns/" + name).c_str(), &st) != 0) return 0;
  return st.st_ino;
}

void enterNetns(const std::string& name) {
  const std::string path = "/run/netns/" + name;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "open " + path);
  int rc = setns(fd, CLONE_NEWNET);
  int err = errno;
  close(fd);
  if (rc != 0) throw std::system_error(err, std::generic_category(), "setns " + path);
}

}  // namespace kt
