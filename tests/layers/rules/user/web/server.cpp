#include "model/accountant.hpp"
