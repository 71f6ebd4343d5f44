#pragma once
#include "../loader.hpp"
