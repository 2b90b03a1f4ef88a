// Forgetting a pod's connections: when a pod's address is released, the
// conntrack entries that name it (as source or destination, in either
// direction) are deleted, so that a later pod given the same address does
// not inherit NAT bindings or policy verdicts of the old one.
#pragma once

#include <cstddef>
#include <vector>

#include <weft/addr.hpp>

namespace weft::cni {

// Deletes the calling thread's namespace's conntrack entries of `addrs` and
// returns how many were deleted. Throws CniError code 100 on failure.
std::size_t flush_conntrack(const std::vector<IpAddr>& addrs);

} // namespace weft::cni
