#pragma once
#include <CLI/CLI.hpp>
#include <civetweb.h>

#include "kernel/loader.hpp"
#include "model/accountant.hpp"
#include "resolve/dns.hpp"
