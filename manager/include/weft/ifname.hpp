// Interface name and index conversion in the caller's network namespace.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace weft {

std::optional<std::uint32_t> ifname_to_index(const std::string& name);
// The name of `ifindex`, or nothing if no such interface exists.
std::optional<std::string> ifindex_to_name(std::uint32_t ifindex);

} // namespace weft
