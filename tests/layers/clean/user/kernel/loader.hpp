#pragma once
#include "model/types.hpp"
