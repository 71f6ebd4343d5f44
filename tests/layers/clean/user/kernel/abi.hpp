#pragma once
#include "netacct.h"
