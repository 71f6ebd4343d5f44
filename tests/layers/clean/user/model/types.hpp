// Fixture: model includes only model/ and system headers.
#pragma once
#include <cstdint>
