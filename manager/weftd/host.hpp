// What weftd learns from the node's own network setup at start: the
// underlay device and address, and the weft device's MAC and state.
#pragma once

#include <optional>
#include <string>

#include <weft/addr.hpp>

namespace weft {

// The device of the IPv4 default route (/proc/net/route), if there is one.
std::optional<std::string> default_route_device();

// The first global address of `family` (AF_INET, AF_INET6) on `ifname`.
std::optional<IpAddr> first_address(const std::string& ifname, int family);

// The interface's MAC (/sys/class/net/IFNAME/address).
std::optional<Mac> interface_mac(const std::string& ifname);

// Sets IFF_UP on the interface; throws weft::Error naming it.
void set_interface_up(const std::string& ifname);

// Creates the weft device IFNAME (what `ip link add IFNAME type weft` does)
// unless it exists. Returns true when it created it. Throws weft::Error when
// IFNAME exists but is not a weft device, or the kernel refuses (weft.ko
// not loaded: the message says so).
bool ensure_weft_device(const std::string& ifname);

// Makes `PREFIX dev IFNAME scope link` a route of the main table, unless an
// identical one is there. Returns true when it wrote the route. This is how
// the node's own stack sends pod-network traffic into the weft device.
bool ensure_device_route(const Prefix& prefix, const std::string& ifname);

} // namespace weft
