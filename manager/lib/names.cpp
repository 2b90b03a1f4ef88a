// Names of the UAPI's attributes, commands and drop reasons, used to turn an
// extended ACK's offset into something an operator can read.
#include <array>
#include <span>

#include <linux/weft.h>

#include <weft/names.hpp>

namespace weft {

namespace {

struct Space {
    const char* prefix; // for types the table does not know
    std::span<const char* const> names;
};

constexpr const char* top_names[] = {
    "WEFT_A_UNSPEC", "WEFT_A_PAD",  "WEFT_A_IFINDEX", "WEFT_A_IFNAME",   "WEFT_A_DEV",
    "WEFT_A_STATS",  "WEFT_A_NODE", "WEFT_A_ROUTE",   "WEFT_A_ENDPOINT", "WEFT_A_IDENTITY",
    "WEFT_A_POLICY", "WEFT_A_CT",   "WEFT_A_DROP",    "WEFT_A_REPLACE",
};
static_assert(std::size(top_names) == WEFT_A_MAX + 1);

constexpr const char* dev_names[] = {
    "WEFT_DEV_A_UNSPEC",      "WEFT_DEV_A_PAD",        "WEFT_DEV_A_VNI",      "WEFT_DEV_A_PORT",
    "WEFT_DEV_A_LOCAL4",      "WEFT_DEV_A_LOCAL6",     "WEFT_DEV_A_UNDERLAY", "WEFT_DEV_A_VTEP_MAC",
    "WEFT_DEV_A_CROSSSUBNET", "WEFT_DEV_A_GENERATION", "WEFT_DEV_A_MTU",
};
static_assert(std::size(dev_names) == WEFT_DEV_A_MAX + 1);

constexpr const char* stats_names[] = {
    "WEFT_STATS_A_UNSPEC",   "WEFT_STATS_A_PAD",        "WEFT_STATS_A_RX_PACKETS",
    "WEFT_STATS_A_RX_BYTES", "WEFT_STATS_A_TX_PACKETS", "WEFT_STATS_A_TX_BYTES",
    "WEFT_STATS_A_RX_DROPS", "WEFT_STATS_A_TX_DROPS",   "WEFT_STATS_A_DROPS",
};
static_assert(std::size(stats_names) == WEFT_STATS_A_MAX + 1);

// In the WEFT_STATS_A_DROPS nest the type is reason + 1.
constexpr const char* drops_names[] = {
    "WEFT_DROP_UNSPEC",     "WEFT_DROP_NO_ROUTE",    "WEFT_DROP_NO_NODE",
    "WEFT_DROP_BAD_HEADER", "WEFT_DROP_BAD_VNI",     "WEFT_DROP_UNKNOWN_PEER",
    "WEFT_DROP_POLICY",     "WEFT_DROP_TOO_BIG",     "WEFT_DROP_NO_MEMORY",
    "WEFT_DROP_PROTO",      "WEFT_DROP_NO_UNDERLAY", "WEFT_DROP_ENCAP",
};
static_assert(std::size(drops_names) == WEFT_DROP_MAX + 2);

constexpr const char* node_names[] = {
    "WEFT_NODE_A_UNSPEC", "WEFT_NODE_A_PAD",      "WEFT_NODE_A_ADDR4", "WEFT_NODE_A_ADDR6",
    "WEFT_NODE_A_ENCAP",  "WEFT_NODE_A_VTEP_MAC", "WEFT_NODE_A_STATS",
};
static_assert(std::size(node_names) == WEFT_NODE_A_MAX + 1);

constexpr const char* route_names[] = {
    "WEFT_ROUTE_A_UNSPEC",    "WEFT_ROUTE_A_FAMILY", "WEFT_ROUTE_A_PREFIX",
    "WEFT_ROUTE_A_PREFIXLEN", "WEFT_ROUTE_A_NODE4",  "WEFT_ROUTE_A_NODE6",
};
static_assert(std::size(route_names) == WEFT_ROUTE_A_MAX + 1);

constexpr const char* endpoint_names[] = {
    "WEFT_ENDPOINT_A_UNSPEC", "WEFT_ENDPOINT_A_IFINDEX",  "WEFT_ENDPOINT_A_ADDR4",
    "WEFT_ENDPOINT_A_ADDR6",  "WEFT_ENDPOINT_A_IDENTITY",
};
static_assert(std::size(endpoint_names) == WEFT_ENDPOINT_A_MAX + 1);

constexpr const char* identity_names[] = {
    "WEFT_IDENTITY_A_UNSPEC", "WEFT_IDENTITY_A_ID",        "WEFT_IDENTITY_A_FAMILY",
    "WEFT_IDENTITY_A_PREFIX", "WEFT_IDENTITY_A_PREFIXLEN",
};
static_assert(std::size(identity_names) == WEFT_IDENTITY_A_MAX + 1);

constexpr const char* policy_names[] = {
    "WEFT_POLICY_A_UNSPEC",
    "WEFT_POLICY_A_SUBJECT",
    "WEFT_POLICY_A_DIRECTION",
    "WEFT_POLICY_A_RULE",
};
static_assert(std::size(policy_names) == WEFT_POLICY_A_MAX + 1);

constexpr const char* rule_names[] = {
    "WEFT_RULE_A_UNSPEC", "WEFT_RULE_A_ID",       "WEFT_RULE_A_PEER",
    "WEFT_RULE_A_PROTO",  "WEFT_RULE_A_PORT_MIN", "WEFT_RULE_A_PORT_MAX",
};
static_assert(std::size(rule_names) == WEFT_RULE_A_MAX + 1);

constexpr const char* ct_names[] = {
    "WEFT_CT_A_UNSPEC", "WEFT_CT_A_FAMILY", "WEFT_CT_A_SRC",   "WEFT_CT_A_DST",
    "WEFT_CT_A_PROTO",  "WEFT_CT_A_SPORT",  "WEFT_CT_A_DPORT", "WEFT_CT_A_RULE",
};
static_assert(std::size(ct_names) == WEFT_CT_A_MAX + 1);

constexpr const char* drop_names[] = {
    "WEFT_DROP_A_UNSPEC", "WEFT_DROP_A_REASON", "WEFT_DROP_A_POLICY",
    "WEFT_DROP_A_RULE",   "WEFT_DROP_A_PACKET",
};
static_assert(std::size(drop_names) == WEFT_DROP_A_MAX + 1);

Space space_of(AttrSpace space) {
    switch (space) {
    case AttrSpace::Top:
        return {"WEFT_A", top_names};
    case AttrSpace::Dev:
        return {"WEFT_DEV_A", dev_names};
    case AttrSpace::Stats:
        return {"WEFT_STATS_A", stats_names};
    case AttrSpace::Drops:
        return {"WEFT_STATS_A_DROPS", drops_names};
    case AttrSpace::Node:
        return {"WEFT_NODE_A", node_names};
    case AttrSpace::Route:
        return {"WEFT_ROUTE_A", route_names};
    case AttrSpace::Endpoint:
        return {"WEFT_ENDPOINT_A", endpoint_names};
    case AttrSpace::Identity:
        return {"WEFT_IDENTITY_A", identity_names};
    case AttrSpace::Policy:
        return {"WEFT_POLICY_A", policy_names};
    case AttrSpace::Rule:
        return {"WEFT_RULE_A", rule_names};
    case AttrSpace::Ct:
        return {"WEFT_CT_A", ct_names};
    case AttrSpace::Drop:
        return {"WEFT_DROP_A", drop_names};
    }
    return {"attribute", {}};
}

constexpr const char* cmd_names[] = {
    "WEFT_CMD_UNSPEC",       "WEFT_CMD_DEV_GET",      "WEFT_CMD_DEV_SET",
    "WEFT_CMD_NODE_ADD",     "WEFT_CMD_NODE_DEL",     "WEFT_CMD_NODE_GET",
    "WEFT_CMD_ROUTE_ADD",    "WEFT_CMD_ROUTE_DEL",    "WEFT_CMD_ROUTE_GET",
    "WEFT_CMD_ENDPOINT_ADD", "WEFT_CMD_ENDPOINT_DEL", "WEFT_CMD_ENDPOINT_GET",
    "WEFT_CMD_IDENTITY_SET", "WEFT_CMD_IDENTITY_DEL", "WEFT_CMD_IDENTITY_GET",
    "WEFT_CMD_POLICY_SET",   "WEFT_CMD_POLICY_DEL",   "WEFT_CMD_POLICY_GET",
    "WEFT_CMD_CT_GET",       "WEFT_CMD_DROP_EVENT",
};
static_assert(std::size(cmd_names) == WEFT_CMD_MAX + 1);

constexpr const char* drop_reason_names[] = {
    "no-route", "no-node",   "bad-header", "bad-vni",     "unknown-peer", "policy",
    "too-big",  "no-memory", "proto",      "no-underlay", "encap",
};
static_assert(std::size(drop_reason_names) == WEFT_DROP_MAX + 1);

constexpr const char* encap_names[] = {"vxlan", "ipip", "none"};
static_assert(std::size(encap_names) == WEFT_ENCAP_MAX + 1);

const char* name_of(std::span<const char* const> names, unsigned value) {
    return value < names.size() ? names[value] : nullptr;
}

std::optional<unsigned> value_of(std::span<const char* const> names, std::string_view name) {
    for (unsigned i = 0; i < names.size(); ++i) {
        if (name == names[i]) {
            return i;
        }
    }
    return std::nullopt;
}

} // namespace

std::string attr_name(AttrSpace space, std::uint16_t type) {
    Space s = space_of(space);
    if (type < s.names.size()) {
        return s.names[type];
    }
    return std::string(s.prefix) + " type " + std::to_string(type);
}

std::optional<AttrSpace> nested_space(AttrSpace space, std::uint16_t type) {
    switch (space) {
    case AttrSpace::Top:
        switch (type) {
        case WEFT_A_DEV:
            return AttrSpace::Dev;
        case WEFT_A_STATS:
            return AttrSpace::Stats;
        case WEFT_A_NODE:
            return AttrSpace::Node;
        case WEFT_A_ROUTE:
            return AttrSpace::Route;
        case WEFT_A_ENDPOINT:
            return AttrSpace::Endpoint;
        case WEFT_A_IDENTITY:
            return AttrSpace::Identity;
        case WEFT_A_POLICY:
            return AttrSpace::Policy;
        case WEFT_A_CT:
            return AttrSpace::Ct;
        case WEFT_A_DROP:
            return AttrSpace::Drop;
        }
        break;
    case AttrSpace::Stats:
        if (type == WEFT_STATS_A_DROPS) {
            return AttrSpace::Drops;
        }
        break;
    case AttrSpace::Node:
        if (type == WEFT_NODE_A_STATS) {
            return AttrSpace::Stats;
        }
        break;
    case AttrSpace::Policy:
        if (type == WEFT_POLICY_A_RULE) {
            return AttrSpace::Rule;
        }
        break;
    default:
        break;
    }
    return std::nullopt;
}

std::string cmd_name(std::uint8_t cmd) {
    if (cmd < std::size(cmd_names)) {
        return cmd_names[cmd];
    }
    return "command " + std::to_string(cmd);
}

const char* drop_reason_name(unsigned reason) {
    return name_of(drop_reason_names, reason);
}

std::optional<unsigned> drop_reason_from_name(std::string_view name) {
    return value_of(drop_reason_names, name);
}

const char* encap_name(unsigned encap) {
    return name_of(encap_names, encap);
}

std::optional<unsigned> encap_from_name(std::string_view name) {
    return value_of(encap_names, name);
}

} // namespace weft
