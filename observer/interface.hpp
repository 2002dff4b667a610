// Whether a network interface can be captured on: it exists and is up. Every live
// source and `pspdr measure` ask the same question and give the same answer.
#pragma once

#include <string>

namespace pspdr {

// "" if `name` exists and is up; otherwise a one-line error naming the fix.
std::string interface_problem(const std::string& name);

}  // namespace pspdr
