#include "model/types.hpp"
#include "types.hpp"

#include <vector>
