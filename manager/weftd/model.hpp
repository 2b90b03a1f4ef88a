// What weftd knows of the cluster: the nodes and the pod blocks they own.
// The datastores (embedded, etcd) store it, the reconciler programs it into
// weft.ko.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <linux/weft.h>

#include <weft/addr.hpp>

namespace weft {

// How a node is reached; the values are enum weft_encap's.
enum class Encap : std::uint8_t {
    vxlan = WEFT_ENCAP_VXLAN,
    ipip = WEFT_ENCAP_IPIP,
    none = WEFT_ENCAP_NONE,
};

std::string to_string(Encap encap); // "none", "vxlan", "ipip"

// The encapsulation two nodes use between them, given the ones they publish.
// It must be the same both ways: weft.ko takes IP-in-IP only from nodes it
// sends IP-in-IP to. Nodes that agree use theirs; otherwise the one that
// carries more wins: VXLAN (any inner family, any underlay) over IP-in-IP
// (IPv4 only) over none (the same link only). A cluster moving from one
// encapsulation to another thus keeps every pair connected throughout.
Encap pair_encap(Encap a, Encap b);
std::optional<Encap> parse_encap(std::string_view text);

// One node of the cluster, as it publishes itself.
struct NodeSpec {
    std::string name;             // unique in the cluster (the host name by default)
    IpAddr addr;                  // its underlay address, where tunnels go
    Encap encap = Encap::vxlan;   // how the others send to it
    std::optional<Mac> vtep_mac;  // its weft0 MAC (VXLAN inner destination)
    std::optional<Prefix> block4; // its IPv4 pod block, e.g. 10.244.1.0/24
    std::optional<Prefix> block6; // its IPv6 pod block, e.g. fd00:244:1::/64

    bool operator==(const NodeSpec&) const = default;
};

} // namespace weft
