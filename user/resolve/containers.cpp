#include "resolve/containers.hpp"

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <utility>

#include "resolve/cgroup.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace netacct {

namespace {

// ---- the path alone -------------------------------------------------------

std::vector<std::string> components(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (end > start) out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// Docker, containerd, CRI-O and Podman ids are 64 lowercase hex digits.
// Requiring that keeps units like "docker-compose@x.scope" out, and makes
// the id safe to join into a state file's path.
bool is_hex_id(const std::string& s) {
  auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); };
  return s.size() == 64 && std::all_of(s.begin(), s.end(), hex);
}

// "docker-<id>.scope" (systemd driver) or "crio-<id>" (cgroupfs driver).
std::optional<std::string> prefixed_id(const std::string& name, const std::string& prefix) {
  if (!name.starts_with(prefix)) return std::nullopt;
  std::string id = name.substr(prefix.size());
  if (id.ends_with(".scope")) id.resize(id.size() - 6);
  if (!is_hex_id(id)) return std::nullopt;
  return id;
}

// A runtime's monitor process (conmon, lxc monitor) is not the container.
bool is_monitor(const std::string& name) {
  return name.starts_with("libpod-conmon-") || name.starts_with("crio-conmon-") ||
         name == "lxc.monitor" || name.starts_with("lxc.monitor.");
}

ContainerInfo container(const std::string& runtime, const std::string& id) {
  return {.runtime = runtime, .id = id, .name = id.substr(0, 12)};
}

// LXC 4+ and LXD: "lxc.payload.<name>"; older LXC: "/lxc/<name>" (and
// "/lxc.payload/<name>" in between).
std::optional<std::string> lxc_name(const std::vector<std::string>& parts, size_t i) {
  static const std::string payload = "lxc.payload.";
  if (parts[i].starts_with(payload) && parts[i].size() > payload.size())
    return parts[i].substr(payload.size());
  if (i > 0 && (parts[i - 1] == "lxc" || parts[i - 1] == "lxc.payload")) return parts[i];
  return std::nullopt;
}

std::optional<ContainerInfo> container_at(const std::vector<std::string>& parts, size_t i) {
  static const std::pair<const char*, const char*> scopes[] = {
      {"docker-", "docker"},
      {"cri-containerd-", "containerd"},
      {"crio-", "crio"},
      {"libpod-", "podman"},
  };
  for (const auto& [prefix, runtime] : scopes)
    if (auto id = prefixed_id(parts[i], prefix)) return container(runtime, *id);
  if (auto name = lxc_name(parts, i))
    return ContainerInfo{.runtime = "lxc", .id = *name, .name = *name};
  if (i == 0 || !is_hex_id(parts[i])) return std::nullopt;
  // cgroupfs drivers: "/docker/<id>", "/kubepods/<qos>/pod<uid>/<id>"
  if (parts[i - 1] == "docker") return container("docker", parts[i]);
  if (parts[i - 1].starts_with("pod") && parts[0] == "kubepods") return container("cri", parts[i]);
  return std::nullopt;
}

// The pod uid of the pod slice enclosing component i: systemd's
// "kubepods-burstable-pod<uid>.slice" (with '-' escaped as '_') or
// cgroupfs' "pod<uid>".
std::optional<std::string> pod_uid(const std::vector<std::string>& parts, size_t i) {
  for (size_t j = i; j-- > 0;) {
    const std::string& p = parts[j];
    auto at = p.rfind("-pod");
    if (p.starts_with("kubepods") && p.ends_with(".slice") && at != std::string::npos) {
      std::string uid = p.substr(at + 4, p.size() - at - 4 - 6);
      std::replace(uid.begin(), uid.end(), '_', '-');
      if (!uid.empty()) return uid;
    }
    if (parts[0] == "kubepods" && p.starts_with("pod") && p.size() > 3) return p.substr(3);
  }
  return std::nullopt;
}

// "user-1000.slice" -> "user-1000"
std::optional<std::string> user_slice(const std::vector<std::string>& parts, size_t i) {
  for (size_t j = i; j-- > 0;) {
    const std::string& p = parts[j];
    if (p.size() > 11 && p.starts_with("user-") && p.ends_with(".slice"))
      return p.substr(0, p.size() - 6);
  }
  return std::nullopt;
}

// A systemd service or scope. Units of a user's session or service manager
// carry the user ("user-1000/session-3.scope"): two users' "foo.service"
// are different things; user@1000.service itself is a system unit.
std::optional<ContainerInfo> unit_at(const std::vector<std::string>& parts, size_t i) {
  const std::string& unit = parts[i];
  bool is_unit = (unit.ends_with(".service") && unit.size() > 8) ||
                 (unit.ends_with(".scope") && unit.size() > 6);
  if (!is_unit) return std::nullopt;
  ContainerInfo info{.runtime = "systemd", .id = unit, .name = unit};
  auto user = user_slice(parts, i);
  if (user && !unit.starts_with("user@")) info.name = *user + "/" + unit;
  return info;
}

// ---- the runtimes' state on disk ------------------------------------------

// The names are at depth <= 3 in every file read (annotations, labels,
// containers.json's names); deeper values are dropped while parsing, so a
// hostile file costs no more memory than its bounded size.
constexpr int kMaxJsonDepth = 4;
// Kubernetes names are <= 253 bytes, Docker's and Podman's shorter; a longer
// "name" is not one.
constexpr size_t kMaxNameBytes = 256;

// The file's text, or nullopt when it is not a regular file of a size we
// read or changed while being read.
std::optional<std::string> read_state_file(const fs::path& path) {
  std::error_code ec;
  // Only regular files: a FIFO planted in a state directory would block.
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  auto size = fs::file_size(path, ec);
  if (ec || size > ContainerNamer::kMaxFileBytes) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  std::string text(size + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  // More than stat said: the runtime is writing it; try again later.
  if (in.gcount() > static_cast<std::streamsize>(size)) return std::nullopt;
  text.resize(static_cast<size_t>(in.gcount()));
  return text;
}

std::optional<json> parse_state(std::string_view text) {
  auto prune = [](int depth, json::parse_event_t, json&) { return depth <= kMaxJsonDepth; };
  json j = json::parse(text, prune, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

const json* child(const json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

std::optional<std::string> text(const json* j) {
  if (!j || !j->is_string()) return std::nullopt;
  const auto& s = j->get_ref<const std::string&>();
  if (s.empty() || s.size() > kMaxNameBytes) return std::nullopt;
  return s;
}

std::optional<std::string> first_text(const json* obj, std::initializer_list<const char*> keys) {
  if (!obj) return std::nullopt;
  for (const char* key : keys)
    if (auto s = text(child(*obj, key))) return s;
  return std::nullopt;
}

// From OCI annotations or Docker labels. The io.kubernetes.pod.* keys are
// the kubelet's labels (CRI-O copies them into annotations); containerd's
// CRI plugin writes its own io.kubernetes.cri.* keys.
std::optional<StateIdentity> kube_identity(const json* labels) {
  auto ns =
      first_text(labels, {"io.kubernetes.pod.namespace", "io.kubernetes.cri.sandbox-namespace"});
  auto pod = first_text(labels, {"io.kubernetes.pod.name", "io.kubernetes.cri.sandbox-name"});
  if (!ns || !pod) return std::nullopt;
  auto ctr =
      first_text(labels, {"io.kubernetes.container.name", "io.kubernetes.cri.container-name"});
  // containerd's pod sandbox (pause) has no container name: "ns/pod".
  std::string name = *ns + "/" + *pod + (ctr ? "/" + *ctr : "");
  return StateIdentity{.name = name, .pod = pod, .namespace_ = ns};
}

std::optional<StateIdentity> oci_identity(const fs::path& config) {
  auto text = read_state_file(config);
  return text ? oci_config_identity(*text) : std::nullopt;
}

std::optional<StateIdentity> docker_identity(const std::string& root, const std::string& id) {
  auto text = read_state_file(fs::path(root) / "containers" / id / "config.v2.json");
  return text ? docker_config_identity(*text) : std::nullopt;
}

// Subdirectories of dir whose name passes keep (containerd namespaces,
// containers/storage's "<driver>-containers"). Errors end the listing.
std::vector<fs::path> subdirs(const fs::path& dir, bool (*keep)(const std::string&)) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_directory(ec) && keep(it->path().filename().string())) out.push_back(it->path());
  return out;
}

bool any_name(const std::string&) { return true; }
bool storage_containers(const std::string& name) { return name.ends_with("-containers"); }

std::optional<StateIdentity> containerd_identity(const std::string& root, const std::string& id) {
  for (const char* shim : {"io.containerd.runtime.v2.task", "io.containerd.runtime.v1.linux"})
    for (const auto& ns : subdirs(fs::path(root) / shim, any_name))
      if (auto found = oci_identity(ns / id / "config.json")) return found;
  return std::nullopt;
}

std::optional<StateIdentity> crio_identity(const std::vector<std::string>& roots,
                                           const std::string& id) {
  for (const auto& root : roots)
    for (const auto& dir : subdirs(root, storage_containers))
      if (auto found = oci_identity(dir / id / "userdata" / "config.json")) return found;
  return std::nullopt;
}

std::optional<StateIdentity> storage_record(const fs::path& list, const std::string& id) {
  auto text = read_state_file(list);
  return text ? storage_containers_identity(*text, id) : std::nullopt;
}

std::optional<StateIdentity> podman_identity(const std::vector<std::string>& roots,
                                             const std::string& id) {
  for (const auto& root : roots)
    for (const auto& dir : subdirs(root, storage_containers))
      for (const char* list : {"containers.json", "volatile-containers.json"})
        if (auto found = storage_record(dir / list, id)) return found;
  return std::nullopt;
}

}  // namespace

std::optional<StateIdentity> oci_config_identity(std::string_view config_json) {
  auto spec = parse_state(config_json);
  if (!spec) return std::nullopt;
  return kube_identity(child(*spec, "annotations")).value_or(StateIdentity{});
}

std::optional<StateIdentity> docker_config_identity(std::string_view config_v2_json) {
  auto cfg = parse_state(config_v2_json);
  if (!cfg) return std::nullopt;
  const json* config = child(*cfg, "Config");
  if (auto k8s = kube_identity(config ? child(*config, "Labels") : nullptr)) return k8s;
  auto name = text(child(*cfg, "Name"));
  if (name && name->starts_with('/')) name->erase(0, 1);
  return StateIdentity{.name = name.value_or("")};
}

// containers/storage's container list: [{"id": ..., "names": [...]}, ...]
std::optional<StateIdentity> storage_containers_identity(std::string_view containers_json,
                                                         const std::string& id) {
  auto records = parse_state(containers_json);
  if (!records || !records->is_array()) return std::nullopt;
  for (const auto& r : *records) {
    if (text(child(r, "id")) != id) continue;
    const json* names = child(r, "names");
    bool named = names && names->is_array() && !names->empty();
    return StateIdentity{.name = named ? text(&names->front()).value_or("") : ""};
  }
  return std::nullopt;
}

ContainerInfo classify_cgroup(const std::string& cgroup_path) {
  auto parts = components(cgroup_path);
  ContainerInfo plain{.name = cgroup_path};
  // The innermost container wins: walk from the leaf up.
  for (size_t i = parts.size(); i-- > 0;) {
    if (is_monitor(parts[i])) return plain;
    if (auto c = container_at(parts, i)) {
      if (c->runtime != "lxc") c->pod = pod_uid(parts, i);
      return *c;
    }
  }
  for (size_t i = parts.size(); i-- > 0;)
    if (auto unit = unit_at(parts, i)) return *unit;
  return plain;
}

// The report's "container" string of old: "docker:0123456789ab",
// "lxc:web", a service's unit; nothing for sessions, scopes, plain cgroups.
std::optional<std::string> container_name(const std::string& cgroup_path) {
  ContainerInfo c = classify_cgroup(cgroup_path);
  if (c.runtime.empty()) return std::nullopt;
  if (c.runtime == "systemd")
    return c.id.ends_with(".service") ? std::optional(c.id) : std::nullopt;
  return c.runtime + ":" + c.name;
}

ContainerNamer::ContainerNamer(RuntimeRoots roots, Clock clock)
    : roots_(std::move(roots)), clock_(std::move(clock)) {}

ContainerInfo ContainerNamer::name(const std::string& cgroup_path) {
  auto now = clock_();
  auto it = cache_.find(cgroup_path);
  if (it != cache_.end() && (it->second.final || now < it->second.retry_at)) return it->second.info;
  Cached entry{.info = classify_cgroup(cgroup_path), .retry_at = now + kRetry};
  ContainerInfo enriched = entry.info;
  try {
    if (enrich(enriched)) {
      entry.info = std::move(enriched);
      entry.final = true;
    }
  } catch (const std::exception&) {
    // A name is never worth the poller: keep the short id, retry later.
  }
  ContainerInfo out = entry.info;
  remember(cgroup_path, std::move(entry));
  return out;
}

// Reads the runtime's state into info; false when it could not be read
// (not written yet, being written, unreadable): try again later.
bool ContainerNamer::enrich(ContainerInfo& info) const {
  auto lookup = [&](const std::string& runtime) -> std::optional<StateIdentity> {
    if (runtime == "docker") return docker_identity(roots_.docker, info.id);
    if (runtime == "containerd") return containerd_identity(roots_.containerd, info.id);
    if (runtime == "crio") return crio_identity(roots_.crio, info.id);
    if (runtime == "podman") return podman_identity(roots_.podman, info.id);
    return std::nullopt;
  };
  std::optional<StateIdentity> found;
  if (info.runtime == "cri") {
    // The cgroupfs path does not say which runtime runs the pod.
    for (const char* runtime : {"containerd", "crio", "docker"})
      if ((found = lookup(runtime))) {
        info.runtime = runtime;
        break;
      }
  } else if (info.runtime == "docker" || info.runtime == "containerd" || info.runtime == "crio" ||
             info.runtime == "podman") {
    found = lookup(info.runtime);
  } else {
    return true;  // systemd, LXC, plain: the path is the whole story
  }
  if (!found) return false;
  if (!found->name.empty()) info.name = found->name;
  if (found->pod) info.pod = found->pod;
  if (found->namespace_) info.namespace_ = found->namespace_;
  return true;
}

void ContainerNamer::remember(const std::string& path, Cached entry) {
  auto [it, inserted] = cache_.insert_or_assign(path, std::move(entry));
  if (!inserted) return;
  order_.push_back(path);
  // Bounded: the oldest paths go first (a long-gone container's, most likely).
  if (cache_.size() > kMaxCached) {
    cache_.erase(order_.front());
    order_.pop_front();
  }
}

RuntimeRoots runtime_roots() {
  RuntimeRoots r;
  if (const char* v = std::getenv("NETACCT_DOCKER_ROOT")) r.docker = v;
  if (const char* v = std::getenv("NETACCT_CONTAINERD_ROOT")) r.containerd = v;
  if (const char* v = std::getenv("NETACCT_CRIO_ROOT")) r.crio = {v};
  if (const char* v = std::getenv("NETACCT_PODMAN_ROOT")) r.podman = {v};
  return r;
}

}  // namespace netacct
