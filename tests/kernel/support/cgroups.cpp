#include "cgroups.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "env.hpp"

namespace fs = std::filesystem;

namespace kt {
namespace {

constexpr const char* kPrefix = "netacct-test-";

// Directories this process made, in creation order (a parent before its
// children), in fixed storage: a signal handler removes them without
// allocating, children first.
constexpr int kSlots = 64;
char g_dirs[kSlots][512];
volatile sig_atomic_t g_live[kSlots];
pid_t g_owner = 0;

void sleepMs(long ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, nullptr);
}

// Kills whatever is still in the group (cgroup.kill, 5.14+: the group and
// its descendants), then removes it; a killed task leaves the group only
// once it has exited, hence the retries. Async-signal-safe.
bool killAndRmdir(const char* dir) {
  if (rmdir(dir) == 0 || errno == ENOENT) return true;
  if (errno != EBUSY) return false;
  char kill_file[600];
  std::snprintf(kill_file, sizeof kill_file, "%s/cgroup.kill", dir);
  int fd = open(kill_file, O_WRONLY | O_CLOEXEC);
  if (fd >= 0) {
    (void)!write(fd, "1", 1);
    close(fd);
  }
  for (int i = 0; i < 300; ++i) {
    if (rmdir(dir) == 0 || errno == ENOENT) return true;
    if (errno != EBUSY) return false;
    sleepMs(10);
  }
  return false;
}

// Forked children inherit the handlers and atexit: only the test process
// itself removes its groups.
void removeAllLive() {
  if (getpid() != g_owner) return;
  for (int i = kSlots; i-- > 0;) {
    if (g_live[i]) {
      killAndRmdir(g_dirs[i]);
      g_live[i] = 0;
    }
  }
}

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGABRT, SIGSEGV, SIGBUS};
struct sigaction g_previous[sizeof kSignals / sizeof kSignals[0]];

// Removes the groups, then hands the signal to whatever handled it before
// (the fixture's namespace cleanup, which ends with the default action).
void onFatalSignal(int sig) {
  removeAllLive();
  for (size_t i = 0; i < sizeof kSignals / sizeof kSignals[0]; ++i)
    if (kSignals[i] == sig) sigaction(sig, &g_previous[i], nullptr);
  raise(sig);  // delivered when this handler returns
}

// A tree removed children first (not signal-safe: only for stale trees).
void removeTree(const fs::path& dir) {
  std::error_code ec;
  std::vector<fs::path> subdirs;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_directory(ec) && !it->is_symlink(ec)) subdirs.push_back(it->path());
  for (const auto& d : subdirs) removeTree(d);
  killAndRmdir(dir.c_str());
}

// Trees of earlier test processes that died by SIGKILL (no handler ran):
// netacct-test-<pid> whose pid is gone.
void removeOrphans(const std::string& mount) {
  std::error_code ec;
  for (fs::directory_iterator it(mount, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    int owner = 0;
    char rest = 0;
    if (std::sscanf(name.c_str(), "netacct-test-%d%c", &owner, &rest) != 1 || owner <= 0) continue;
    if (kill(owner, 0) != 0 && errno == ESRCH) removeTree(it->path());
  }
}

void installCleanupOnce(const std::string& mount) {
  static std::once_flag once;
  std::call_once(once, [&] {
    g_owner = getpid();
    removeOrphans(mount);
    std::atexit(removeAllLive);
    for (size_t i = 0; i < sizeof kSignals / sizeof kSignals[0]; ++i) {
      struct sigaction sa = {};
      sa.sa_handler = onFatalSignal;
      sa.sa_flags = SA_RESETHAND;
      sigaction(kSignals[i], &sa, &g_previous[i]);
    }
  });
}

void track(const std::string& dir) {
  for (int i = 0; i < kSlots; ++i) {
    if (!g_live[i]) {
      if (dir.size() >= sizeof g_dirs[i]) throw std::runtime_error("cgroup path too long: " + dir);
      std::snprintf(g_dirs[i], sizeof g_dirs[i], "%s", dir.c_str());
      g_live[i] = 1;
      return;
    }
  }
  throw std::runtime_error("too many test cgroups");
}

void untrack(const std::string& dir) {
  for (int i = 0; i < kSlots; ++i)
    if (g_live[i] && dir == g_dirs[i]) g_live[i] = 0;
}

uint64_t inode(const std::string& dir) {
  struct stat st {};
  if (stat(dir.c_str(), &st) != 0) throw std::system_error(errno, std::generic_category(), dir);
  return st.st_ino;
}

// mkdir that tracks what it made; an existing directory is reused.
void makeDir(const std::string& dir) {
  if (mkdir(dir.c_str(), 0755) == 0) {
    track(dir);
    return;
  }
  if (errno != EEXIST) throw std::system_error(errno, std::generic_category(), "mkdir " + dir);
}

}  // namespace

std::optional<std::string> cgroup2Mount() {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    // "... mountpoint options [optional fields] - fstype source superoptions"
    const auto dash = line.find(" - ");
    if (dash == std::string::npos || line.compare(dash + 3, 8, "cgroup2 ") != 0) continue;
    char mountpoint[4096];
    if (std::sscanf(line.c_str(), "%*s %*s %*s %*s %4095s", mountpoint) == 1) return mountpoint;
  }
  return std::nullopt;
}

void moveToCgroup(const Cgroup& g, pid_t pid) {
  const std::string file = g.abs + "/cgroup.procs";
  int fd = open(file.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "open " + file);
  const std::string text = std::to_string(pid);  // 0: the writer itself
  ssize_t n = write(fd, text.data(), text.size());
  int err = errno;
  close(fd);
  if (n != static_cast<ssize_t>(text.size()))
    throw std::system_error(err, std::generic_category(), "write " + text + " to " + file);
}

CgroupTree::CgroupTree() {
  const auto mount = cgroup2Mount();
  if (!mount) throw std::runtime_error("cgroup v2 is not mounted (no cgroup2 in mountinfo)");
  installCleanupOnce(*mount);
  const std::string name = kPrefix + std::to_string(getpid());
  root_.abs = *mount + "/" + name;
  root_.rel = "/" + name;
  removeTree(root_.abs);  // a leftover of a crashed run that had our pid
  makeDir(root_.abs);
  root_.id = inode(root_.abs);
}

CgroupTree::~CgroupTree() {
  // Children before parents: the reverse of creation order.
  for (int i = kSlots; i-- > 0;) {
    if (g_live[i] && std::string(g_dirs[i]).starts_with(root_.abs)) {
      killAndRmdir(g_dirs[i]);
      g_live[i] = 0;
    }
  }
  removeTree(root_.abs);  // anything made behind our back
}

Cgroup CgroupTree::make(const std::string& rel) {
  std::string dir = root_.abs;
  size_t start = 0;
  while (start < rel.size()) {
    size_t end = rel.find('/', start);
    if (end == std::string::npos) end = rel.size();
    if (end > start) {
      dir += "/" + rel.substr(start, end - start);
      makeDir(dir);
    }
    start = end + 1;
  }
  return Cgroup{.abs = dir, .rel = root_.rel + "/" + rel, .id = inode(dir)};
}

void CgroupTree::remove(const Cgroup& g) {
  // An exited, reaped process may take the kernel a moment to let go of.
  const auto deadline = std::chrono::steady_clock::now() + scaled(5);
  while (rmdir(g.abs.c_str()) != 0) {
    if (errno != EBUSY || std::chrono::steady_clock::now() > deadline)
      throw std::system_error(errno, std::generic_category(), "rmdir " + g.abs);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  untrack(g.abs);
}

std::string randomContainerId() {
  static std::mt19937_64 rng{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 64; ++i) id += hex[rng() % 16];
  return id;
}

void RuntimeFixtures::writeFile(const std::string& rel, const std::string& content) const {
  const fs::path p = fs::path(dir_.path()) / rel;
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::trunc);
  out << content;
  if (!out.flush()) throw std::runtime_error("cannot write " + p.string());
}

void RuntimeFixtures::docker(const std::string& id, const std::string& name) {
  // The fields Docker writes around "Name" do not matter to netacct; a few
  // are kept so the file looks like the real one.
  nlohmann::json cfg = {{"ID", id}, {"Name", "/" + name}, {"Config", {{"Labels", nullptr}}}};
  writeFile("docker/containers/" + id + "/config.v2.json", cfg.dump());
}

void RuntimeFixtures::containerd(const std::string& id, const std::string& ns,
                                 const std::string& pod, const std::string& container) {
  nlohmann::json spec = {{"ociVersion", "1.1.0"},
                         {"annotations",
                          {{"io.kubernetes.cri.container-type", "container"},
                           {"io.kubernetes.cri.sandbox-namespace", ns},
                           {"io.kubernetes.cri.sandbox-name", pod},
                           {"io.kubernetes.cri.container-name", container}}}};
  writeFile("containerd/io.containerd.runtime.v2.task/k8s.io/" + id + "/config.json", spec.dump());
}

void RuntimeFixtures::podman(const std::string& id, const std::string& name) {
  podman_.emplace_back(id, name);
  nlohmann::json records = nlohmann::json::array();
  for (const auto& [i, n] : podman_)
    records.push_back({{"id", i}, {"names", {n}}, {"image", "0123"}, {"layer", "4567"}});
  writeFile("podman/overlay-containers/containers.json", records.dump());
}

std::vector<std::string> RuntimeFixtures::env() const {
  return {"NETACCT_DOCKER_ROOT=" + dir_.path() + "/docker",
          "NETACCT_CONTAINERD_ROOT=" + dir_.path() + "/containerd",
          "NETACCT_CRIO_ROOT=" + dir_.path() + "/crio",
          "NETACCT_PODMAN_ROOT=" + dir_.path() + "/podman"};
}

}  // namespace kt
