#include <nlohmann/json.hpp>
#include <prometheus/metric_family.h>

#include "model/types.hpp"
#include "output/json.hpp"
