#pragma once
#include "model/report.hpp"
