// Fixture: the model reaching into resolve/ is the one violation here.
#include "model/report.hpp"

#include "resolve/cgroup.hpp"
