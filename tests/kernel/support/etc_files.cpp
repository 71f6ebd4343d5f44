#include "etc_files.hpp"

#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

namespace kt {

bool bindPrivately(const Binds& binds) {
  if (unshare(CLONE_NEWNS) != 0) return false;
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return false;
  for (const auto& [file, over] : binds)
    if (mount(file.c_str(), over.c_str(), nullptr, MS_BIND, nullptr) != 0) return false;
  return true;
}

MountTarget::MountTarget(std::string path) : path_(std::move(path)) {
  struct stat st {};
  if (stat(path_.c_str(), &st) != 0) {
    std::ofstream(path_) << "";
    created_ = true;
  }
}

MountTarget::~MountTarget() {
  if (created_) unlink(path_.c_str());
}

}  // namespace kt
