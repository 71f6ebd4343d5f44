#include "resolve/containers.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <ostream>

#include "resolve/cgroup.hpp"

using namespace netacct;
namespace fs = std::filesystem;

namespace netacct {
// Readable failures: the whole identity on one line.
void PrintTo(const ContainerInfo& c, std::ostream* os) {
  *os << "{runtime=" << c.runtime << " id=" << c.id << " name=" << c.name
      << " pod=" << c.pod.value_or("-") << " ns=" << c.namespace_.value_or("-") << "}";
}
}  // namespace netacct

namespace {

// Realistic ids: 64 lowercase hex, as the runtimes make them.
const std::string kId = "8f3b2c1d9e0a47b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2";
const std::string kId2 = "0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e";
const std::string kShort = kId.substr(0, 12);
const std::string kUid = "7a9c2b1e-3f4d-4c5e-8a6b-1c2d3e4f5a6b";
const std::string kUidEscaped = "7a9c2b1e_3f4d_4c5e_8a6b_1c2d3e4f5a6b";
const std::string kPodSlice =
    "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + kUidEscaped + ".slice";

ContainerInfo ctr(const std::string& runtime, const std::string& id,
                  std::optional<std::string> pod = std::nullopt) {
  return {.runtime = runtime, .id = id, .name = id.substr(0, 12), .pod = pod};
}
ContainerInfo unit(const std::string& id, const std::string& name) {
  return {.runtime = "systemd", .id = id, .name = name};
}
ContainerInfo lxc(const std::string& name) { return {.runtime = "lxc", .id = name, .name = name}; }
ContainerInfo plain(const std::string& path) { return {.name = path}; }

struct Case {
  std::string path;
  ContainerInfo want;
};

const Case kCases[] = {
    // Docker: systemd and cgroupfs drivers, Docker in Docker, under a service
    {"/system.slice/docker-" + kId + ".scope", ctr("docker", kId)},
    {"/docker/" + kId, ctr("docker", kId)},
    {"/docker/" + kId + "/docker/" + kId2, ctr("docker", kId2)},
    {"/system.slice/containerd.service/docker-" + kId + ".scope", ctr("docker", kId)},
    // Kubernetes, systemd driver: burstable, guaranteed (no qos slice)
    {kPodSlice + "/cri-containerd-" + kId + ".scope", ctr("containerd", kId, kUid)},
    {"/kubepods.slice/kubepods-pod" + kUidEscaped + ".slice/cri-containerd-" + kId + ".scope",
     ctr("containerd", kId, kUid)},
    {kPodSlice + "/crio-" + kId + ".scope", ctr("crio", kId, kUid)},
    {kPodSlice + "/crio-conmon-" + kId + ".scope",
     plain(kPodSlice + "/crio-conmon-" + kId + ".scope")},
    {kPodSlice + "/docker-" + kId + ".scope", ctr("docker", kId, kUid)},
    // Kubernetes, cgroupfs driver: the runtime is not in the path
    {"/kubepods/burstable/pod" + kUid + "/" + kId, ctr("cri", kId, kUid)},
    {"/kubepods/pod" + kUid + "/" + kId, ctr("cri", kId, kUid)},
    {"/kubepods/besteffort/pod" + kUid + "/crio-" + kId, ctr("crio", kId, kUid)},
    {"/kubepods/besteffort/pod" + kUid, plain("/kubepods/besteffort/pod" + kUid)},
    // Podman, rootful and rootless; its monitor is not the container
    {"/machine.slice/libpod-" + kId + ".scope", ctr("podman", kId)},
    {"/machine.slice/libpod-" + kId + ".scope/container", ctr("podman", kId)},
    {"/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + kId + ".scope",
     ctr("podman", kId)},
    {"/machine.slice/libpod-conmon-" + kId + ".scope",
     plain("/machine.slice/libpod-conmon-" + kId + ".scope")},
    // LXC / LXD: a unit inside the container is the container's
    {"/lxc.payload.web01", lxc("web01")},
    {"/lxc.payload.web01/system.slice/nginx.service", lxc("web01")},
    {"/lxc/web01", lxc("web01")},
    {"/lxc/web01/init.scope", lxc("web01")},
    {"/lxc.payload/web01", lxc("web01")},
    {"/lxc.monitor.web01", plain("/lxc.monitor.web01")},
    {"/lxc.payload.outer/system.slice/docker-" + kId + ".scope", ctr("docker", kId)},
    // systemd: services, scopes, sessions, user services
    {"/system.slice/nginx.service", unit("nginx.service", "nginx.service")},
    {"/system.slice/nginx.service/workers", unit("nginx.service", "nginx.service")},
    {"/init.scope", unit("init.scope", "init.scope")},
    {"/system.slice/run-r3c1f.scope", unit("run-r3c1f.scope", "run-r3c1f.scope")},
    {"/user.slice/user-1000.slice/session-3.scope",
     unit("session-3.scope", "user-1000/session-3.scope")},
    {"/user.slice/user-1000.slice/user@1000.service",
     unit("user@1000.service", "user@1000.service")},
    {"/user.slice/user-1000.slice/user@1000.service/app.slice/foo.service",
     unit("foo.service", "user-1000/foo.service")},
    {"/user.slice/user-1000.slice/user@1000.service/app.slice/app-firefox-4242.scope",
     unit("app-firefox-4242.scope", "user-1000/app-firefox-4242.scope")},
    // Not a container id: a unit, or nothing
    {"/system.slice/docker-.scope", unit("docker-.scope", "docker-.scope")},
    {"/system.slice/docker-abc123.scope", unit("docker-abc123.scope", "docker-abc123.scope")},
    {"/docker/" + std::string(64, 'A'), plain("/docker/" + std::string(64, 'A'))},
    {"/system.slice", plain("/system.slice")},
    {"/user.slice/user-1000.slice", plain("/user.slice/user-1000.slice")},
    {"/", plain("/")},
    {"", plain("")},
    {"/.service", plain("/.service")},
};

class ClassifyCgroup : public ::testing::TestWithParam<Case> {};

TEST_P(ClassifyCgroup, Path) { EXPECT_EQ(classify_cgroup(GetParam().path), GetParam().want); }

INSTANTIATE_TEST_SUITE_P(Patterns, ClassifyCgroup, ::testing::ValuesIn(kCases));

// The report's container string of old, for the existing callers.
TEST(ContainerNameCompat, SameStringsAsBefore) {
  EXPECT_EQ(container_name("/system.slice/docker-" + kId + ".scope"), "docker:" + kShort);
  EXPECT_EQ(container_name(kPodSlice + "/cri-containerd-" + kId + ".scope"),
            "containerd:" + kShort);
  EXPECT_EQ(container_name("/user.slice/user-1000.slice/user@1000.service/app.slice/foo.service"),
            "foo.service");
  EXPECT_EQ(container_name("/user.slice/user-1000.slice/session-3.scope"), std::nullopt);
  EXPECT_EQ(container_name("/system.slice/docker-.scope"), std::nullopt);
}

TEST(ContainerNameCompat, NewPatterns) {
  EXPECT_EQ(container_name("/docker/" + kId), "docker:" + kShort);
  EXPECT_EQ(container_name("/kubepods/burstable/pod" + kUid + "/" + kId), "cri:" + kShort);
  EXPECT_EQ(container_name("/lxc.payload.web01"), "lxc:web01");
}

// ---- ContainerNamer over a fixture tree -------------------------------------

class Namer : public ::testing::Test {
 protected:
  fs::path dir;
  RuntimeRoots roots;
  std::chrono::steady_clock::time_point now{};

  void SetUp() override {
    char tmpl[] = "/tmp/netacct-containers-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir = tmpl;
    roots = {.docker = (dir / "docker").string(),
             .containerd = (dir / "containerd").string(),
             .crio = {(dir / "run-storage").string(), (dir / "graph-storage").string()},
             .podman = {(dir / "graph-storage").string(), (dir / "run-storage").string()}};
  }
  void TearDown() override { fs::remove_all(dir); }

  ContainerNamer namer() {
    return ContainerNamer(roots, [this] { return now; });
  }
  void write(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
  }
  fs::path docker_config(const std::string& id = kId) {
    return dir / "docker" / "containers" / id / "config.v2.json";
  }
  fs::path containerd_config(const std::string& ns, const std::string& id = kId) {
    return dir / "containerd" / "io.containerd.runtime.v2.task" / ns / id / "config.json";
  }
  fs::path storage_config(const std::string& root, const std::string& id = kId) {
    return dir / root / "overlay-containers" / id / "userdata" / "config.json";
  }
  static std::string oci(const std::string& annotations) {
    return R"({"ociVersion": "1.0.2-dev", "process": {"args": ["nginx"]}, "annotations": {)" +
           annotations + "}}";
  }
};

const std::string kDockerPath = "/system.slice/docker-" + kId + ".scope";
const std::string kContainerdPath = kPodSlice + "/cri-containerd-" + kId + ".scope";
const std::string kCrioPath = kPodSlice + "/crio-" + kId + ".scope";
const std::string kPodmanPath = "/machine.slice/libpod-" + kId + ".scope";
const std::string kCgroupfsPath = "/kubepods/burstable/pod" + kUid + "/" + kId;

const std::string kCriAnnotations =
    R"("io.kubernetes.cri.container-type": "container",
       "io.kubernetes.cri.sandbox-id": ")" +
    kId2 + R"(",
       "io.kubernetes.cri.sandbox-name": "web-7d4b9c6f5-x2x9z",
       "io.kubernetes.cri.sandbox-namespace": "shop",
       "io.kubernetes.cri.sandbox-uid": ")" +
    kUid + R"(",
       "io.kubernetes.cri.container-name": "nginx")";
const std::string kPodAnnotations = R"("io.kubernetes.pod.namespace": "shop",
       "io.kubernetes.pod.name": "web-7d4b9c6f5-x2x9z",
       "io.kubernetes.pod.uid": ")" +
                                    kUid +
                                    R"(",
       "io.kubernetes.container.name": "nginx",
       "io.kubernetes.cri-o.ContainerType": "container")";

ContainerInfo kube(const std::string& runtime, const std::string& name) {
  return {.runtime = runtime,
          .id = kId,
          .name = name,
          .pod = "web-7d4b9c6f5-x2x9z",
          .namespace_ = "shop"};
}

TEST_F(Namer, DockerConfigName) {
  write(docker_config(), R"({"ID": ")" + kId + R"(", "Name": "/web-1", "State": {"Running": true},
      "Config": {"Hostname": "8f3b2c1d9e0a", "Labels": {"com.docker.compose.service": "web"}}})");
  EXPECT_EQ(namer().name(kDockerPath),
            (ContainerInfo{.runtime = "docker", .id = kId, .name = "web-1"}));
}

// cri-dockerd: the kubelet's labels are on the Docker container.
TEST_F(Namer, DockerKubernetesLabels) {
  write(docker_config(), R"({"Name": "/k8s_nginx_web-7d4b9c6f5-x2x9z_shop_)" + kUid +
                             R"(_0", "Config": {"Labels": {)" + kPodAnnotations + "}}}");
  auto got = namer().name(kPodSlice + "/docker-" + kId + ".scope");
  EXPECT_EQ(got, kube("docker", "shop/web-7d4b9c6f5-x2x9z/nginx"));
}

TEST_F(Namer, ContainerdCriAnnotationsInAnyNamespace) {
  fs::create_directories(containerd_config("moby", kId2).parent_path());
  write(containerd_config("k8s.io"), oci(kCriAnnotations));
  EXPECT_EQ(namer().name(kContainerdPath), kube("containerd", "shop/web-7d4b9c6f5-x2x9z/nginx"));
}

TEST_F(Namer, ContainerdPodAnnotations) {
  write(containerd_config("k8s.io"), oci(kPodAnnotations));
  EXPECT_EQ(namer().name(kContainerdPath), kube("containerd", "shop/web-7d4b9c6f5-x2x9z/nginx"));
}

TEST_F(Namer, ContainerdSandboxHasNoContainerName) {
  write(containerd_config("k8s.io"), oci(R"("io.kubernetes.cri.container-type": "sandbox",
      "io.kubernetes.cri.sandbox-name": "web-7d4b9c6f5-x2x9z",
      "io.kubernetes.cri.sandbox-namespace": "shop")"));
  EXPECT_EQ(namer().name(kContainerdPath), kube("containerd", "shop/web-7d4b9c6f5-x2x9z"));
}

// A spec without Kubernetes annotations names nothing: the short id, and
// the pod uid the path gave.
TEST_F(Namer, ContainerdWithoutAnnotations) {
  write(containerd_config("default"), R"({"ociVersion": "1.0.2"})");
  EXPECT_EQ(namer().name(kContainerdPath), ctr("containerd", kId, kUid));
}

TEST_F(Namer, CrioRunRoot) {
  write(storage_config("run-storage"), oci(kPodAnnotations));
  EXPECT_EQ(namer().name(kCrioPath), kube("crio", "shop/web-7d4b9c6f5-x2x9z/nginx"));
}

TEST_F(Namer, CrioGraphRoot) {
  write(storage_config("graph-storage"), oci(kPodAnnotations));
  EXPECT_EQ(namer().name(kCrioPath), kube("crio", "shop/web-7d4b9c6f5-x2x9z/nginx"));
}

TEST_F(Namer, PodmanContainersJson) {
  write(dir / "graph-storage" / "overlay-containers" / "containers.json",
        R"([{"id": ")" + kId2 + R"(", "names": ["other"], "image": "abc", "layer": "def"},
            {"id": ")" +
            kId + R"(", "names": ["db", "db-alias"], "image": "abc", "layer": "ghi",
             "metadata": "{\"image-name\":\"docker.io/library/postgres:16\",\"name\":\"db\"}",
             "created": "2024-05-01T10:00:00Z"}])");
  EXPECT_EQ(namer().name(kPodmanPath),
            (ContainerInfo{.runtime = "podman", .id = kId, .name = "db"}));
}

TEST_F(Namer, PodmanVolatileContainersJson) {
  write(dir / "run-storage" / "vfs-containers" / "volatile-containers.json",
        R"([{"id": ")" + kId + R"(", "names": ["scratch"]}])");
  EXPECT_EQ(namer().name(kPodmanPath),
            (ContainerInfo{.runtime = "podman", .id = kId, .name = "scratch"}));
}

TEST_F(Namer, CgroupfsDriverFindsTheRuntimeFromItsState) {
  write(storage_config("run-storage"), oci(kPodAnnotations));
  EXPECT_EQ(namer().name(kCgroupfsPath), kube("crio", "shop/web-7d4b9c6f5-x2x9z/nginx"));
  write(containerd_config("k8s.io", kId2), oci(kCriAnnotations));
  auto got = namer().name("/kubepods/burstable/pod" + kUid + "/" + kId2);
  EXPECT_EQ(got.runtime, "containerd");
  EXPECT_EQ(got.name, "shop/web-7d4b9c6f5-x2x9z/nginx");
}

TEST_F(Namer, NoStateKeepsRuntimeUnknown) {
  EXPECT_EQ(namer().name(kCgroupfsPath), ctr("cri", kId, kUid));
}

TEST_F(Namer, PathOnlyIdentitiesReadNothing) {
  auto n = namer();
  EXPECT_EQ(n.name("/system.slice/nginx.service"), unit("nginx.service", "nginx.service"));
  EXPECT_EQ(n.name("/lxc.payload.web01"), lxc("web01"));
  EXPECT_EQ(n.name("/system.slice"), plain("/system.slice"));
}

// ---- bad state: never a crash, always the short id -------------------------

TEST_F(Namer, MissingFilesGiveTheShortId) {
  auto n = namer();
  EXPECT_EQ(n.name(kDockerPath), ctr("docker", kId));
  EXPECT_EQ(n.name(kContainerdPath), ctr("containerd", kId, kUid));
  EXPECT_EQ(n.name(kCrioPath), ctr("crio", kId, kUid));
  EXPECT_EQ(n.name(kPodmanPath), ctr("podman", kId));
}

TEST_F(Namer, MalformedJsonGivesTheShortId) {
  write(docker_config(), R"({"Name": "/web-1", "Config": {)");
  write(containerd_config("k8s.io"), std::string("\x00\xff garbage", 11));
  write(storage_config("run-storage"), "");
  write(dir / "graph-storage" / "overlay-containers" / "containers.json", "[{\"id\": ");
  auto n = namer();
  EXPECT_EQ(n.name(kDockerPath), ctr("docker", kId));
  EXPECT_EQ(n.name(kContainerdPath), ctr("containerd", kId, kUid));
  EXPECT_EQ(n.name(kCrioPath), ctr("crio", kId, kUid));
  EXPECT_EQ(n.name(kPodmanPath), ctr("podman", kId));
}

TEST_F(Namer, WrongTypesGiveTheShortId) {
  write(docker_config(), R"({"Name": 42, "Config": {"Labels": ["io.kubernetes.pod.name"]}})");
  write(containerd_config("k8s.io"), R"({"annotations": ["io.kubernetes.cri.sandbox-name"]})");
  write(storage_config("run-storage"), R"([1, 2, 3])");
  write(dir / "graph-storage" / "overlay-containers" / "containers.json",
        R"({"id": ")" + kId + R"(", "names": "db"})");
  auto n = namer();
  EXPECT_EQ(n.name(kDockerPath), ctr("docker", kId));
  EXPECT_EQ(n.name(kContainerdPath), ctr("containerd", kId, kUid));
  EXPECT_EQ(n.name(kCrioPath), ctr("crio", kId, kUid));
  EXPECT_EQ(n.name(kPodmanPath), ctr("podman", kId));
  write(dir / "graph-storage" / "overlay-containers" / "containers.json",
        R"([{"id": ")" + kId + R"(", "names": [7]}])");
  EXPECT_EQ(namer().name(kPodmanPath), ctr("podman", kId));
}

TEST_F(Namer, HugeFileGivesTheShortId) {
  std::string pad(ContainerNamer::kMaxFileBytes, 'x');
  write(docker_config(), R"({"Name": "/big", "pad": ")" + pad + "\"}");
  EXPECT_EQ(namer().name(kDockerPath), ctr("docker", kId));
}

TEST_F(Namer, DeepNestingDoesNotCrash) {
  std::string depth(1 << 20, '[');
  write(docker_config(), R"({"Name": "/deep", "x": )" + depth + std::string(1 << 20, ']') + "}");
  EXPECT_EQ(namer().name(kDockerPath).name, "deep");
  write(containerd_config("k8s.io"), depth);
  EXPECT_EQ(namer().name(kContainerdPath), ctr("containerd", kId, kUid));
}

TEST_F(Namer, OverlongNameGivesTheShortId) {
  write(docker_config(), R"({"Name": "/)" + std::string(300, 'a') + "\"}");
  EXPECT_EQ(namer().name(kDockerPath), ctr("docker", kId));
}

// A FIFO would block a reader forever; it is not a state file.
TEST_F(Namer, FifoIsNotRead) {
  fs::create_directories(docker_config().parent_path());
  ASSERT_EQ(mkfifo(docker_config().c_str(), 0600), 0);
  EXPECT_EQ(namer().name(kDockerPath), ctr("docker", kId));
}

// Names are untrusted text: kept byte for byte (sinks escape them).
TEST_F(Namer, ControlCharactersAreKeptAsText) {
  write(docker_config(), R"({"Name": "/evil\u001b[2J\nname"})");
  EXPECT_EQ(namer().name(kDockerPath).name, "evil\x1b[2J\nname");
}

// ---- caching ------------------------------------------------------------------

// The runtime writes its state after the container's first bytes: a miss
// is retried, but not on every call.
TEST_F(Namer, MissIsRetriedAfterTheInterval) {
  auto n = namer();
  EXPECT_EQ(n.name(kDockerPath).name, kShort);
  write(docker_config(), R"({"Name": "/late"})");
  now += ContainerNamer::kRetry - std::chrono::milliseconds(1);
  EXPECT_EQ(n.name(kDockerPath).name, kShort);
  now += std::chrono::milliseconds(1);
  EXPECT_EQ(n.name(kDockerPath).name, "late");
}

// Read once: a removed container keeps its name.
TEST_F(Namer, NameOutlivesTheStateFiles) {
  write(docker_config(), R"({"Name": "/web-1"})");
  auto n = namer();
  EXPECT_EQ(n.name(kDockerPath).name, "web-1");
  fs::remove_all(dir / "docker");
  now += std::chrono::hours(1);
  EXPECT_EQ(n.name(kDockerPath).name, "web-1");
}

TEST_F(Namer, CacheIsBounded) {
  write(docker_config(), R"({"Name": "/first"})");
  auto n = namer();
  EXPECT_EQ(n.name(kDockerPath).name, "first");
  write(docker_config(), R"({"Name": "/renamed"})");
  for (size_t i = 0; i < ContainerNamer::kMaxCached; ++i)
    n.name("/system.slice/u" + std::to_string(i) + ".service");
  // The oldest entry went first: the path is named again from disk.
  EXPECT_EQ(n.name(kDockerPath).name, "renamed");
}

}  // namespace

// The state file parsers on text, as tests/fuzz calls them.
TEST(StateText, EachParserOnItsFile) {
  auto docker = docker_config_identity(R"({"Name": "/web-1"})");
  ASSERT_TRUE(docker);
  EXPECT_EQ(docker->name, "web-1");
  auto oci = oci_config_identity(R"({"annotations": {)" + kPodAnnotations + "}}");
  ASSERT_TRUE(oci);
  EXPECT_EQ(oci->name, "shop/web-7d4b9c6f5-x2x9z/nginx");
  EXPECT_EQ(oci->namespace_, "shop");
  auto podman = storage_containers_identity(R"([{"id": ")" + kId + R"(", "names": ["db"]}])", kId);
  ASSERT_TRUE(podman);
  EXPECT_EQ(podman->name, "db");
  EXPECT_EQ(storage_containers_identity(R"([{"id": ")" + kId + R"("}])", kId2), std::nullopt);
  EXPECT_EQ(docker_config_identity("{"), std::nullopt);
  EXPECT_EQ(oci_config_identity(""), std::nullopt);
  ASSERT_TRUE(oci_config_identity("{}"));
  EXPECT_EQ(oci_config_identity("{}")->name, "");  // read, names nothing
}
