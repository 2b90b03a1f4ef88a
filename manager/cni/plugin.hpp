// weft-cni's verbs: ADD, DEL, CHECK, VERSION, STATUS and GC, driven by one
// invocation's environment and stdin, as the container runtime calls it.
#pragma once

#include <map>
#include <ostream>
#include <string>
#include <string_view>

namespace weft::cni {

// Runs one invocation: `vars` is the environment (CNI_*), `stdin_text` the
// network configuration. Prints the result (ADD, VERSION) or the CNI error
// object to `out`, a one-line diagnostic to `err` on failure, and returns
// the exit status: 0 on success, 1 after printing an error.
int run(const std::map<std::string, std::string>& vars, std::string_view stdin_text,
        std::ostream& out, std::ostream& err);

} // namespace weft::cni
