// cgroup v2 path -> the container or unit an operator knows, from the path's
// shape and the runtimes' own state on disk; no daemon is asked.
//
// What is read, per runtime (every root is a RuntimeRoots field):
// - Docker (`docker-<id>.scope`, `/docker/<id>`):
//   `<docker>/containers/<id>/config.v2.json`, field "Name" (without its
//   leading '/'); when "Config.Labels" holds the kubelet's io.kubernetes.*
//   labels (cri-dockerd), the name is `namespace/pod/container` instead.
// - containerd (`cri-containerd-<id>.scope`): the OCI bundle's
//   `<containerd>/io.containerd.runtime.v2.task/<ns>/<id>/config.json` (and
//   `io.containerd.runtime.v1.linux/<ns>/<id>/config.json`), in every
//   containerd namespace directory <ns> (Kubernetes uses k8s.io). Its
//   "annotations" name the pod: containerd's CRI plugin writes
//   io.kubernetes.cri.sandbox-namespace, io.kubernetes.cri.sandbox-name and
//   io.kubernetes.cri.container-name; io.kubernetes.pod.namespace,
//   io.kubernetes.pod.name and io.kubernetes.container.name are used first
//   when present.
// - CRI-O (`crio-<id>.scope`, `crio-<id>`): the OCI config CRI-O saves in
//   `<root>/<driver>-containers/<id>/userdata/config.json` (it writes the same
//   file under its run root and its graph root), "annotations" as above (CRI-O
//   writes the io.kubernetes.pod.* and io.kubernetes.container.name ones).
// - Podman (`libpod-<id>.scope`): containers/storage's container list
//   `<root>/<driver>-containers/containers.json` (and
//   `volatile-containers.json`), the record whose "id" is the container's:
//   its first "names" entry is the name `podman run --name` gave (Podman
//   names its storage container after itself). Podman's own database
//   (BoltDB/SQLite) is not read. Rootless Podman's storage is in the user's
//   home and not searched: those containers show their short id.
// - A Kubernetes container under the cgroupfs driver
//   (`/kubepods/<qos>/pod<uid>/<id>`) names no runtime: containerd's, CRI-O's
//   and Docker's state are tried in that order.
// - LXC/LXD (`lxc.payload.<name>`, `/lxc/<name>`), systemd units, user
//   sessions: nothing is read, the path holds the name.
// Only regular files up to 4 MiB are read, parsed by nlohmann-json, once
// per container when they can be read; a missing, partial or malformed file
// is tried again after ContainerNamer::kRetry (5 s), and meanwhile the
// container shows its short id. Names come from files that container owners
// influence: they are kept as untrusted text (sinks escape them).
#pragma once
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace netacct {

struct ContainerInfo {
  // "docker", "containerd", "crio", "podman", "lxc", "systemd"; "cri" for a
  // Kubernetes container whose runtime neither path nor state told; "" for
  // a plain cgroup.
  std::string runtime;
  // The full container id (64 hex), the LXC name or the unit name; "" for
  // a plain cgroup.
  std::string id;
  // What an operator knows: the Docker or Podman name, Kubernetes
  // "namespace/pod/container", the LXC name, the unit ("nginx.service",
  // "user-1000/session-3.scope"); else the 12-character short id; for a
  // plain cgroup its path.
  std::string name;
  std::optional<std::string> pod;         // pod name, or the pod uid from the path
  std::optional<std::string> namespace_;  // Kubernetes namespace
  bool operator==(const ContainerInfo&) const = default;
};

// Where the runtimes keep their state. CRI-O and Podman both use
// containers/storage: a graph root (persistent) and a run root (tmpfs).
struct RuntimeRoots {
  std::string docker = "/var/lib/docker";
  std::string containerd = "/run/containerd";
  std::vector<std::string> crio = {"/run/containers/storage", "/var/lib/containers/storage"};
  std::vector<std::string> podman = {"/var/lib/containers/storage", "/run/containers/storage"};
};

// What the path alone says (no file is read): runtime, id, pod uid, and the
// name before enrichment (short id, LXC name, unit, or the path). The
// innermost container wins; a unit counts only when no container encloses
// it (a service inside an LXC container is the container's).
ContainerInfo classify_cgroup(const std::string& cgroup_path);

// What a runtime's state file says. An empty name: the file was read and
// names nothing (the short id stays, the file is not read again).
struct StateIdentity {
  std::string name;
  std::optional<std::string> pod;
  std::optional<std::string> namespace_;
};

// The state file parsers, on a file's text (ContainerNamer reads the files;
// tests/fuzz feeds these). nullopt: not JSON, or for containers.json not a
// list holding a record whose "id" is id.
std::optional<StateIdentity> docker_config_identity(std::string_view config_v2_json);
std::optional<StateIdentity> oci_config_identity(std::string_view config_json);
std::optional<StateIdentity> storage_containers_identity(std::string_view containers_json,
                                                         const std::string& id);

// The default roots, each replaced by an environment variable when set:
// NETACCT_DOCKER_ROOT, NETACCT_CONTAINERD_ROOT, NETACCT_CRIO_ROOT and
// NETACCT_PODMAN_ROOT (one directory each; tests point them at fixtures).
RuntimeRoots runtime_roots();

// classify_cgroup, then the runtime's state on disk. Caches per path, so a
// deleted container keeps its name. Not thread-safe.
class ContainerNamer {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  // How long a container whose state could not be read keeps its short id
  // before the files are tried again (the runtime may not have written them
  // yet when its first bytes are counted).
  static constexpr std::chrono::seconds kRetry{5};
  static constexpr std::size_t kMaxFileBytes = 4u << 20;
  static constexpr std::size_t kMaxCached = 16384;

  explicit ContainerNamer(
      RuntimeRoots roots = {}, Clock clock = [] { return std::chrono::steady_clock::now(); });
  ContainerInfo name(const std::string& cgroup_path);

 private:
  struct Cached {
    ContainerInfo info;
    bool final = false;  // the state was read, or there is none to read
    std::chrono::steady_clock::time_point retry_at;
  };
  RuntimeRoots roots_;
  Clock clock_;
  std::unordered_map<std::string, Cached> cache_;
  std::deque<std::string> order_;  // cache_ keys, oldest first (eviction)
  bool enrich(ContainerInfo& info) const;
  void remember(const std::string& path, Cached entry);
};

}  // namespace netacct
