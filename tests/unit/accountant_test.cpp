#include <gtest/gtest.h>

#include "model/accountant.hpp"

using namespace netacct;

TEST(Accountant, placeholder) { SUCCEED(); }
