#include "resolve/cgroup.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <vector>

using namespace netacct;
namespace fs = std::filesystem;

namespace {

const std::string kId = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

class TempDir : public ::testing::Test {
 protected:
  fs::path dir;
  void SetUp() override {
    char tmpl[] = "/tmp/netacct-cgroup-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir = tmpl;
  }
  void TearDown() override { fs::remove_all(dir); }
  uint64_t inode(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_ino;
  }
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir / name) << text;
    return (dir / name).string();
  }
};

}  // namespace

TEST(ContainerName, Docker) {
  EXPECT_EQ(container_name("/system.slice/docker-" + kId + ".scope"), "docker:0123456789ab");
}

TEST(ContainerName, ContainerdUnderKubepods) {
  EXPECT_EQ(container_name("/kubepods.slice/kubepods-burstable.slice/"
                           "kubepods-burstable-pod1234_5678.slice/cri-containerd-" +
                           kId + ".scope"),
            "containerd:0123456789ab");
}

TEST(ContainerName, Crio) {
  EXPECT_EQ(container_name("/kubepods.slice/kubepods-besteffort.slice/"
                           "kubepods-besteffort-podabc.slice/crio-" +
                           kId + ".scope"),
            "crio:0123456789ab");
}

TEST(ContainerName, Podman) {
  EXPECT_EQ(container_name("/machine.slice/libpod-" + kId + ".scope"), "podman:0123456789ab");
  // A process in a sub-group of the container is still the container's.
  EXPECT_EQ(container_name("/machine.slice/libpod-" + kId + ".scope/container"),
            "podman:0123456789ab");
}

TEST(ContainerName, PodmanMonitorIsNotAContainer) {
  EXPECT_EQ(container_name("/machine.slice/libpod-conmon-" + kId + ".scope"), std::nullopt);
}

// Regression (fixed): CRI-O's monitor runs in crio-conmon-<id>.scope (the
// counterpart of podman's libpod-conmon-<id>.scope, which is excluded); it
// is named as a container "crio:conmon-01234" instead.
TEST(ContainerName, CrioMonitorIsNotAContainer) {
  EXPECT_EQ(container_name("/kubepods.slice/kubepods-besteffort.slice/"
                           "kubepods-besteffort-podabc.slice/crio-conmon-" +
                           kId + ".scope"),
            std::nullopt);
}

TEST(ContainerName, SystemdService) {
  EXPECT_EQ(container_name("/system.slice/nginx.service"), "nginx.service");
  EXPECT_EQ(container_name("/system.slice/nginx.service/workers"), "nginx.service");
}

TEST(ContainerName, InnermostNameWins) {
  EXPECT_EQ(container_name("/system.slice/containerd.service/docker-" + kId + ".scope"),
            "docker:0123456789ab");
}

TEST(ContainerName, NothingToName) {
  EXPECT_EQ(container_name("/user.slice/user-1000.slice/session-3.scope"), std::nullopt);
  EXPECT_EQ(container_name("/"), std::nullopt);
  EXPECT_EQ(container_name(""), std::nullopt);
  EXPECT_EQ(container_name("/system.slice/docker-.scope"), std::nullopt);
}

using Cgroup2Mount = TempDir;

TEST_F(Cgroup2Mount, HybridLayout) {
  std::string mi = write(
      "mountinfo",
      "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
      "25 22 0:23 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n"
      "26 25 0:24 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 "
      "cgroup2 rw,nsdelegate\n"
      "27 25 0:25 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup "
      "cgroup rw,xattr,name=systemd\n");
  EXPECT_EQ(find_cgroup2_mount(mi), "/sys/fs/cgroup/unified");
}

TEST_F(Cgroup2Mount, UnifiedLayoutWithoutOptionalFields) {
  std::string mi = write("mountinfo",
                         "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
                         "30 22 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n");
  EXPECT_EQ(find_cgroup2_mount(mi), "/sys/fs/cgroup");
}

TEST_F(Cgroup2Mount, None) {
  std::string mi = write("mountinfo",
                         "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
                         "27 22 0:25 / /sys/fs/cgroup/cpu rw shared:11 - cgroup cgroup rw,cpu\n");
  EXPECT_EQ(find_cgroup2_mount(mi), std::nullopt);
  EXPECT_EQ(find_cgroup2_mount((dir / "missing").string()), std::nullopt);
}

// Regression (fixed): mountinfo escapes space, tab, newline and backslash
// in mount points as octal (\040 ...); find_cgroup2_mount returns the
// escaped text, a path that does not exist.
TEST_F(Cgroup2Mount, EscapedMountPointIsDecoded) {
  std::string mi = write("mountinfo", "30 22 0:26 / /mnt/my\\040cgroup rw - cgroup2 cgroup2 rw\n");
  EXPECT_EQ(find_cgroup2_mount(mi), "/mnt/my cgroup");  // actual: "/mnt/my\040cgroup"
}

TEST(Cgroup2MountText, FirstCgroup2LineOfTheText) {
  EXPECT_EQ(cgroup2_mount_in("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
                             "30 22 0:26 / /mnt/a\\040b rw shared:3 - cgroup2 cgroup2 rw\n"
                             "31 22 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"),
            "/mnt/a b");
  EXPECT_EQ(cgroup2_mount_in("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"), std::nullopt);
  EXPECT_EQ(cgroup2_mount_in(""), std::nullopt);
}

using CgroupResolverTest = TempDir;

TEST_F(CgroupResolverTest, IdsAreDirectoryInodes) {
  fs::create_directories(dir / "system.slice" / "nginx.service");
  fs::create_directories(dir / "user.slice");
  write("cgroup.procs", "");  // files are not cgroups
  CgroupResolver r(dir.string());
  EXPECT_EQ(r.path(inode(dir)), "/");
  EXPECT_EQ(r.path(inode(dir / "system.slice")), "/system.slice");
  EXPECT_EQ(r.path(inode(dir / "system.slice" / "nginx.service")), "/system.slice/nginx.service");
  EXPECT_EQ(r.path(inode(dir / "user.slice")), "/user.slice");
  EXPECT_EQ(r.path(inode(dir / "cgroup.procs")), std::nullopt);
}

TEST_F(CgroupResolverTest, FindsCgroupCreatedAfterFirstWalk) {
  fs::create_directories(dir / "a");
  CgroupResolver r(dir.string());
  EXPECT_EQ(r.path(inode(dir / "a")), "/a");
  fs::create_directories(dir / "b" / "c");
  EXPECT_EQ(r.path(inode(dir / "b" / "c")), "/b/c");
}

// A cgroup removed while netacct runs keeps its path through later walks
// (ids are never reused), so its bytes stay named in reports.
TEST_F(CgroupResolverTest, DeletedCgroupKeepsItsPath) {
  fs::create_directories(dir / "system.slice" / "gone.service");
  uint64_t gone = inode(dir / "system.slice" / "gone.service");
  CgroupResolver r(dir.string());
  EXPECT_EQ(r.path(gone), "/system.slice/gone.service");
  // Made before the removal: ext4 (unlike cgroupfs) reuses inode numbers.
  fs::create_directories(dir / "new.slice");
  fs::remove(dir / "system.slice" / "gone.service");
  EXPECT_EQ(r.path(inode(dir / "new.slice")), "/new.slice");  // a new walk
  EXPECT_EQ(r.path(gone), "/system.slice/gone.service");
  EXPECT_EQ(r.path(~uint64_t{0}), std::nullopt);  // and another
  EXPECT_EQ(r.path(gone), "/system.slice/gone.service");
}

// Deleted cgroups' paths are bounded: the newest max_retired are kept.
TEST_F(CgroupResolverTest, DeletedPathsAreBounded) {
  const size_t max_retired = 16, n = max_retired + 3;
  std::vector<uint64_t> ids;
  for (size_t i = 0; i < n; ++i) {
    fs::create_directory(dir / std::to_string(i));
    ids.push_back(inode(dir / std::to_string(i)));
  }
  CgroupResolver r(dir.string(), max_retired);
  EXPECT_EQ(r.path(ids[0]), "/0");
  for (size_t i = 0; i < n; ++i) fs::remove(dir / std::to_string(i));
  EXPECT_EQ(r.path(~uint64_t{0}), std::nullopt);  // the walk that retires them
  size_t kept = 0;
  for (size_t i = 0; i < n; ++i) kept += r.path(ids[i]) == "/" + std::to_string(i);
  EXPECT_EQ(kept, max_retired);
}

TEST_F(CgroupResolverTest, NoMount) {
  CgroupResolver r(std::nullopt);
  EXPECT_EQ(r.path(inode(dir)), std::nullopt);
}
