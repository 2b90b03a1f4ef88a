// The reconciler: plan from the desired state, diff against the kernel's
// dumps, apply in a safe order (see reconcile.hpp).
#include "reconcile.hpp"

#include <algorithm>
#include <cerrno>
#include <map>
#include <set>
#include <tuple>
#include <utility>

#include <weft/error.hpp>

namespace weft {

namespace {

struct PrefixLess {
    bool operator()(const Prefix& a, const Prefix& b) const {
        return std::tie(a.addr, a.len) < std::tie(b.addr, b.len);
    }
};
using PrefixSet = std::set<Prefix, PrefixLess>;
template <typename T>
using PrefixMap = std::map<Prefix, T, PrefixLess>;

// A weft node's settings, as NODE_ADD sets them and a node dump reports them.
struct NodeSettings {
    std::uint8_t encap = 0;
    std::optional<Mac> vtep_mac; // empty for none (the kernel's all-zero)

    bool operator==(const NodeSettings&) const = default;
};

std::optional<Mac> mac_or_none(const std::optional<Mac>& mac) {
    if (mac && is_zero(*mac)) {
        return std::nullopt;
    }
    return mac;
}

bool is_unspecified(const IpAddr& addr) {
    auto bytes = addr_bytes(addr);
    return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b == 0; });
}

std::string node_object(const IpAddr& addr, std::string_view name) {
    std::string out = "node " + to_string(addr);
    if (!name.empty()) {
        out += " (" + std::string(name) + ")";
    }
    return out;
}

std::string route_object(const Prefix& prefix) {
    return "route " + to_string(prefix);
}

std::string endpoint_object(std::uint32_t host_ifindex) {
    return "endpoint " + std::to_string(host_ifindex);
}

// "a", "a and b", "a, b and c".
std::string join(const std::vector<std::string>& names) {
    std::string out;
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i > 0) {
            out += i + 1 == names.size() ? " and " : ", ";
        }
        out += names[i];
    }
    return out;
}

// What the nodes of the cluster ask of the node and route tables.
struct NodePlan {
    struct Node {
        NodeSettings settings;
        std::string name;
    };
    std::map<IpAddr, Node> nodes;
    PrefixMap<IpAddr> routes; // prefix -> node address
    // Invalid or contested: whatever the kernel holds for these stays.
    std::set<IpAddr> held_nodes;
    PrefixSet held_routes;
};

// What the local pods ask of the endpoint table.
struct EndpointPlan {
    struct Endpoint {
        std::vector<IpAddr> addrs; // sorted
        std::uint32_t identity = 0;
    };
    std::map<std::uint32_t, Endpoint> endpoints;
    std::set<std::uint32_t> held;
};

class Pass {
public:
    Pass(KernelTables& kernel, ReconcileResult& result) : kernel_(kernel), result_(result) {}

    void nodes_and_routes(const std::vector<NodeSpec>& specs, std::string_view local_node_name);
    void endpoints(const std::vector<EndpointSpec>& specs);

private:
    NodePlan plan_nodes(const std::vector<NodeSpec>& specs, std::string_view local_node_name);
    EndpointPlan plan_endpoints(const std::vector<EndpointSpec>& specs);

    // Runs one dump; on failure reports it against `table` and returns
    // nothing.
    template <typename Dump>
    auto dump(const char* table, Dump&& run) -> std::optional<decltype(run())>;
    // Runs one write; on failure reports it against `object`.
    template <typename Write>
    bool write(const std::string& object, Write&& run) {
        return attempt(false, object, run);
    }
    // The same for a removal, where an object already gone (ENOENT) is no
    // failure.
    template <typename Write>
    bool remove(const std::string& object, Write&& run) {
        return attempt(true, object, run);
    }
    template <typename Write>
    bool attempt(bool removal, const std::string& object, Write& run);
    // Applies a route batch, carrying on past each rejected route.
    void change_routes(bool add, const std::vector<Route>& routes, bool replace, std::size_t& done);

    void fail(std::string object, int errnum, std::string message) {
        result_.errors.push_back({std::move(object), errnum, std::move(message)});
    }
    void fail(std::string object, const Error& error) {
        fail(std::move(object), error.errnum(), error.what());
    }

    KernelTables& kernel_;
    ReconcileResult& result_;
};

template <typename Dump>
auto Pass::dump(const char* table, Dump&& run) -> std::optional<decltype(run())> {
    try {
        return run();
    } catch (const Error& e) {
        fail(std::string(table) + " table", e);
        return std::nullopt;
    }
}

template <typename Write>
bool Pass::attempt(bool removal, const std::string& object, Write& run) {
    try {
        run();
        return true;
    } catch (const Error& e) {
        if (!(removal && e.errnum() == ENOENT)) {
            fail(object, e);
        }
        return false;
    }
}

void Pass::change_routes(bool add, const std::vector<Route>& routes, bool replace,
                         std::size_t& done) {
    std::span<const Route> rest(routes);
    while (!rest.empty()) {
        try {
            kernel_.route_change(add, rest, replace);
            done += rest.size();
            return;
        } catch (const BulkError& e) {
            // The routes before the rejected one were applied; carry on after it.
            std::size_t bad = std::min(e.index(), rest.size() - 1);
            done += bad;
            if (!(!add && e.errnum() == ENOENT)) {
                fail(route_object(rest[bad].prefix), e);
            }
            rest = rest.subspan(bad + 1);
        } catch (const Error& e) {
            // Not pinned on a route: none of the rest is known to be applied.
            std::string object = route_object(rest.front().prefix);
            if (rest.size() > 1) {
                object += " and " + std::to_string(rest.size() - 1) + " more";
            }
            fail(std::move(object), e);
            return;
        }
    }
}

void hold_blocks(NodePlan& plan, const NodeSpec& spec) {
    for (const auto& block : {spec.block4, spec.block6}) {
        if (block) {
            plan.held_routes.insert(*block);
        }
    }
}

NodePlan Pass::plan_nodes(const std::vector<NodeSpec>& specs, std::string_view local_node_name) {
    NodePlan plan;
    std::map<IpAddr, std::vector<const NodeSpec*>> addr_claims;
    PrefixMap<std::vector<const NodeSpec*>> block_claims;
    // Each pair of nodes agrees on one encapsulation (pair_encap); without
    // the local node's record, the others' own are used.
    std::optional<Encap> local_encap;
    for (const NodeSpec& spec : specs) {
        if (spec.name == local_node_name) {
            local_encap = spec.encap;
        }
    }

    for (const NodeSpec& spec : specs) {
        bool local = spec.name == local_node_name;
        if (!local && is_unspecified(spec.addr)) {
            fail(node_object(spec.addr, spec.name), EINVAL, "no underlay address");
            // A node that cannot be programmed keeps the routes it had.
            hold_blocks(plan, spec);
        } else if (!local) {
            addr_claims[spec.addr].push_back(&spec);
        }
        for (const auto* block : {&spec.block4, &spec.block6}) {
            if (!*block) {
                continue;
            }
            bool want_v4 = block == &spec.block4;
            if (is_ipv4((*block)->addr) != want_v4 || host_bits_set(**block)) {
                fail(route_object(**block), EINVAL,
                     "node " + spec.name + "'s " + (want_v4 ? "IPv4" : "IPv6") +
                         " block is not a valid " + (want_v4 ? "IPv4" : "IPv6") + " prefix");
                plan.held_routes.insert(**block);
                continue;
            }
            block_claims[**block].push_back(&spec);
        }
    }

    auto names = [](const std::vector<const NodeSpec*>& claimants) {
        std::vector<std::string> out;
        for (const NodeSpec* spec : claimants) {
            out.push_back(spec->name);
        }
        return join(out);
    };
    for (const auto& [addr, claimants] : addr_claims) {
        if (claimants.size() < 2) {
            continue;
        }
        fail(node_object(addr, {}), EEXIST,
             "nodes " + names(claimants) + " claim the same underlay address");
        plan.held_nodes.insert(addr);
        for (const NodeSpec* spec : claimants) {
            hold_blocks(plan, *spec);
        }
    }
    for (const auto& [prefix, claimants] : block_claims) {
        if (claimants.size() < 2) {
            continue;
        }
        fail(route_object(prefix), EEXIST, "nodes " + names(claimants) + " claim the same block");
        plan.held_routes.insert(prefix);
    }

    for (const auto& [addr, claimants] : addr_claims) {
        if (plan.held_nodes.contains(addr)) {
            continue;
        }
        const NodeSpec& spec = *claimants.front();
        Encap encap = local_encap ? pair_encap(*local_encap, spec.encap) : spec.encap;
        plan.nodes.emplace(
            addr, NodePlan::Node{{static_cast<std::uint8_t>(encap), mac_or_none(spec.vtep_mac)},
                                 spec.name});
        for (const auto& block : {spec.block4, spec.block6}) {
            if (block && !plan.held_routes.contains(*block)) {
                plan.routes.emplace(*block, addr);
            }
        }
    }
    return plan;
}

void Pass::nodes_and_routes(const std::vector<NodeSpec>& specs, std::string_view local_node_name) {
    NodePlan plan = plan_nodes(specs, local_node_name);
    auto node_dump = dump("node", [&] { return kernel_.node_dump(); });
    if (!node_dump) {
        return;
    }
    auto route_dump = dump("route", [&] { return kernel_.route_dump(); });
    if (!route_dump) {
        return;
    }
    result_.dumped_nodes = node_dump->size();
    result_.dumped_routes = route_dump->size();
    std::map<IpAddr, NodeSettings> kernel_nodes;
    for (const NodeInfo& info : *node_dump) {
        kernel_nodes.emplace(info.addr, NodeSettings{info.encap, mac_or_none(info.vtep_mac)});
    }
    PrefixMap<std::optional<IpAddr>> kernel_routes;
    for (const Route& route : *route_dump) {
        kernel_routes.emplace(route.prefix, route.node);
    }

    // 1. Nodes first, so that the routes below find theirs.
    std::set<IpAddr> present;
    for (const auto& [addr, settings] : kernel_nodes) {
        present.insert(addr);
    }
    for (const auto& [addr, want] : plan.nodes) {
        auto have = kernel_nodes.find(addr);
        if (have != kernel_nodes.end() && have->second == want.settings) {
            continue;
        }
        bool replace = have != kernel_nodes.end();
        NodeAddRequest request{kernel_.dev(), addr, want.settings.encap, want.settings.vtep_mac,
                               replace};
        if (write(node_object(addr, want.name), [&] { kernel_.node_add(request); })) {
            ++(replace ? result_.nodes.changed : result_.nodes.added);
            present.insert(addr);
        }
    }

    // 2, 3. Routes: removals, then in-place replacements, then additions.
    std::vector<Route> removals;
    std::vector<Route> replacements;
    std::vector<Route> additions;
    for (const auto& [prefix, node] : kernel_routes) {
        if (!plan.routes.contains(prefix) && !plan.held_routes.contains(prefix)) {
            removals.push_back(Route{prefix, std::nullopt});
        }
    }
    for (const auto& [prefix, addr] : plan.routes) {
        auto have = kernel_routes.find(prefix);
        if (have != kernel_routes.end() && have->second == addr) {
            continue;
        }
        if (!present.contains(addr)) {
            fail(route_object(prefix), ENOENT,
                 "its node " + to_string(addr) + " is not programmed");
            continue;
        }
        (have == kernel_routes.end() ? additions : replacements).push_back(Route{prefix, addr});
    }
    change_routes(false, removals, false, result_.routes.removed);
    change_routes(true, replacements, true, result_.routes.changed);
    change_routes(true, additions, false, result_.routes.added);

    // 4. Nodes no longer wanted, now that no wanted route names them.
    for (const auto& [addr, settings] : kernel_nodes) {
        if (plan.nodes.contains(addr) || plan.held_nodes.contains(addr)) {
            continue;
        }
        if (remove(node_object(addr, {}), [&] { kernel_.node_del(addr); })) {
            ++result_.nodes.removed;
        }
    }
}

EndpointPlan Pass::plan_endpoints(const std::vector<EndpointSpec>& specs) {
    EndpointPlan plan;
    std::map<IpAddr, std::vector<std::uint32_t>> owners;
    for (const EndpointSpec& spec : specs) {
        std::string object = endpoint_object(spec.host_ifindex);
        if (spec.host_ifindex == 0) {
            fail(std::move(object), EINVAL, "no host interface");
            continue;
        }
        if (plan.held.contains(spec.host_ifindex)) {
            continue;
        }
        if (plan.endpoints.contains(spec.host_ifindex)) {
            fail(std::move(object), EEXIST, "two pods claim the same host interface");
            plan.endpoints.erase(spec.host_ifindex);
            plan.held.insert(spec.host_ifindex);
            continue;
        }
        std::vector<IpAddr> addrs = spec.addrs;
        std::sort(addrs.begin(), addrs.end());
        auto twice = std::adjacent_find(addrs.begin(), addrs.end());
        if (addrs.empty() || twice != addrs.end()) {
            fail(std::move(object), EINVAL,
                 addrs.empty() ? "no address" : "address " + to_string(*twice) + " given twice");
            plan.held.insert(spec.host_ifindex);
            continue;
        }
        for (const IpAddr& addr : addrs) {
            owners[addr].push_back(spec.host_ifindex);
        }
        plan.endpoints.emplace(spec.host_ifindex,
                               EndpointPlan::Endpoint{std::move(addrs), spec.identity.value_or(0)});
    }
    for (const auto& [addr, ifindexes] : owners) {
        std::set<std::uint32_t> distinct(ifindexes.begin(), ifindexes.end());
        if (distinct.size() < 2) {
            continue;
        }
        std::vector<std::string> names;
        for (std::uint32_t ifindex : distinct) {
            names.push_back(std::to_string(ifindex));
            plan.endpoints.erase(ifindex);
            plan.held.insert(ifindex);
        }
        fail(endpoint_object(*distinct.begin()), EEXIST,
             "endpoints " + join(names) + " claim the same address " + to_string(addr));
    }
    return plan;
}

void Pass::endpoints(const std::vector<EndpointSpec>& specs) {
    EndpointPlan plan = plan_endpoints(specs);
    auto endpoint_dump = dump("endpoint", [&] { return kernel_.endpoint_dump(); });
    if (!endpoint_dump) {
        return;
    }
    result_.dumped_endpoints = endpoint_dump->size();
    std::map<std::uint32_t, EndpointPlan::Endpoint> kernel_endpoints;
    for (EndpointInfo& info : *endpoint_dump) {
        std::sort(info.addrs.begin(), info.addrs.end());
        kernel_endpoints.emplace(info.host_ifindex,
                                 EndpointPlan::Endpoint{std::move(info.addrs), info.identity});
    }

    // Removals first, so that the addresses they free can be reused below.
    for (const auto& [ifindex, have] : kernel_endpoints) {
        if (plan.endpoints.contains(ifindex) || plan.held.contains(ifindex)) {
            continue;
        }
        if (remove(endpoint_object(ifindex), [&] { kernel_.endpoint_del(ifindex); })) {
            ++result_.endpoints.removed;
        }
    }
    for (bool replace : {true, false}) {
        for (const auto& [ifindex, want] : plan.endpoints) {
            auto have = kernel_endpoints.find(ifindex);
            if ((have != kernel_endpoints.end()) != replace) {
                continue;
            }
            if (replace && have->second.addrs == want.addrs &&
                have->second.identity == want.identity) {
                continue;
            }
            EndpointAddRequest request{kernel_.dev(), ifindex, want.addrs, want.identity, replace};
            if (write(endpoint_object(ifindex), [&] { kernel_.endpoint_add(request); })) {
                ++(replace ? result_.endpoints.changed : result_.endpoints.added);
            }
        }
    }
}

} // namespace

ReconcileResult reconcile(KernelTables& kernel, const Desired& desired,
                          std::string_view local_node_name) {
    ReconcileResult result;
    Pass pass(kernel, result);
    pass.nodes_and_routes(desired.nodes, local_node_name);
    pass.endpoints(desired.endpoints);
    return result;
}

} // namespace weft
