#include "prometheus.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "env.hpp"
#include "http.hpp"

namespace kt {
namespace {

constexpr const char* kDirPrefix = "netacct-kt-prom-";

// Dirs of runs whose process is gone (killed before their destructor ran).
void removeStaleDirs() {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/tmp", ec)) {
    std::string name = e.path().filename();
    if (name.rfind(kDirPrefix, 0) != 0) continue;
    pid_t pid = atoi(name.c_str() + strlen(kDirPrefix));
    if (pid > 0 && kill(pid, 0) != 0 && errno == ESRCH) std::filesystem::remove_all(e.path(), ec);
  }
}

std::string makeDir() {
  std::string tmpl = "/tmp/" + std::string(kDirPrefix) + std::to_string(getpid()) + "-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr)
    throw std::system_error(errno, std::generic_category(), "mkdtemp " + tmpl);
  return tmpl;
}

void writeConfig(const std::string& dir, uint16_t target) {
  std::ofstream(dir + "/prometheus.yml") << "global:\n"
                                            "  scrape_interval: 1s\n"
                                            "  scrape_timeout: 1s\n"
                                            "scrape_configs:\n"
                                            "  - job_name: netacct\n"
                                            "    static_configs:\n"
                                            "      - targets: ['127.0.0.1:"
                                         << target << "']\n";
}

// Fork and exec; the child dies with the test process (PR_SET_PDEATHSIG).
pid_t spawn(const std::string& dir, uint16_t port) {
  std::vector<std::string> args{kPrometheusBin, "--config.file=" + dir + "/prometheus.yml",
                                "--storage.tsdb.path=" + dir + "/data",
                                "--web.listen-address=127.0.0.1:" + std::to_string(port),
                                "--log.level=warn"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string log = dir + "/log";
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(fd, 1);
    dup2(fd, 2);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

}  // namespace

PrometheusServer::PrometheusServer(uint16_t target_port) {
  removeStaleDirs();
  dir_ = makeDir();
  try {
    writeConfig(dir_, target_port);
    port_ = freeLoopbackPort();
    pid_ = spawn(dir_, port_);
    const auto deadline = std::chrono::steady_clock::now() + scaled(30);
    while (std::chrono::steady_clock::now() < deadline) {
      try {
        if (httpGet(port_, "/-/ready", scaledMs(2000)).status == 200) return;
      } catch (const std::exception&) {
      }
      int status;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("prometheus exited at start: " + log());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    throw std::runtime_error("prometheus not ready within 30 s: " + log());
  } catch (...) {
    stop();
    throw;
  }
}

PrometheusServer::~PrometheusServer() { stop(); }

void PrometheusServer::stop() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    int status;
    for (int i = 0; i < 100 && waitpid(pid_, &status, WNOHANG) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (waitpid(pid_, &status, WNOHANG) == 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    }
    pid_ = -1;
  }
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

std::string PrometheusServer::log() const {
  std::ifstream in(dir_ + "/log");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

nlohmann::json PrometheusServer::query(const std::string& promql) {
  HttpResponse r = httpGet(port_, "/api/v1/query?query=" + urlEncode(promql), scaledMs(5000));
  auto j = nlohmann::json::parse(r.body);
  if (r.status != 200 || j.value("status", "") != "success")
    throw std::runtime_error("query " + promql + ": HTTP " + std::to_string(r.status) + " " +
                             r.body);
  return j["data"];
}

bool PrometheusServer::waitQuery(const std::string& promql,
                                 const std::function<bool(const nlohmann::json&)>& pred,
                                 std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  do {
    if (pred(query(promql)["result"])) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  } while (std::chrono::steady_clock::now() < deadline);
  return false;
}

std::map<std::string, double> byLabel(const nlohmann::json& result, const std::string& label) {
  std::map<std::string, double> out;
  for (const auto& s : result)
    out[s["metric"].value(label, "")] = std::stod(s["value"][1].get<std::string>());
  return out;
}

std::vector<double> rawSamples(const nlohmann::json& result) {
  if (result.size() != 1)
    throw std::runtime_error("expected one series, got " + std::to_string(result.size()) + ": " +
                             result.dump());
  std::vector<double> out;
  for (const auto& v : result[0]["values"]) out.push_back(std::stod(v[1].get<std::string>()));
  return out;
}

}  // namespace kt
