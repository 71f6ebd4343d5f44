#include "resolve/cgroup.hpp"

#include <string>

#include "model/types.hpp"
