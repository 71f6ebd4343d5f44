#include <nlohmann/json.hpp>

#include "model/types.hpp"
#include "output/json.hpp"
