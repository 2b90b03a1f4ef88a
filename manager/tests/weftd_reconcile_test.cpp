// The reconciler against an in-memory weft device: what it writes, in which
// order, and what it reports.
#include <algorithm>
#include <array>
#include <cerrno>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <weft/error.hpp>

#include <gtest/gtest.h>

#include "kernel.hpp"
#include "reconcile.hpp"

namespace weft {
namespace {

IpAddr ip(std::string_view text) {
    return parse_ip(text).value();
}

Prefix pfx(std::string_view text) {
    return parse_prefix(text).value();
}

Error kernel_error(int errnum, std::string message) {
    return Error(errnum, std::move(message), std::string(), std::string());
}

template <typename Map>
std::vector<typename Map::mapped_type> values(const Map& map) {
    std::vector<typename Map::mapped_type> out;
    for (const auto& [key, value] : map) {
        out.push_back(value);
    }
    return out;
}

// A weft device's tables in memory, with the kernel's rules for them (EEXIST
// without replace, ENOENT for what is missing, routes that need their node,
// a node's routes going with it, EADDRINUSE for an address of another
// endpoint). Every write is logged as "<op> <object>", e.g.
// "route_replace 10.244.2.0/24 via 192.0.2.3"; a write can be made to fail
// once by naming that line in fail_once() ("node_dump" and the like for the
// dumps).
class FakeKernel final : public KernelTables {
public:
    struct Calls {
        int node_add = 0;
        int node_del = 0;
        int route_change = 0;
        int endpoint_add = 0;
        int endpoint_del = 0;

        int total() const {
            return node_add + node_del + route_change + endpoint_add + endpoint_del;
        }
    };

    const DevRef& dev() const override { return dev_; }

    std::vector<NodeInfo> node_dump() override {
        check("node_dump");
        return values(nodes);
    }

    void node_add(const NodeAddRequest& request) override {
        ++calls.node_add;
        const std::string addr = to_string(request.addr);
        write((request.replace ? "node_replace " : "node_add ") + addr);
        if (nodes.contains(addr) && !request.replace) {
            throw kernel_error(EEXIST, "node exists");
        }
        NodeInfo info;
        info.ifindex = dev_.ifindex;
        info.addr = request.addr;
        info.encap = request.encap.value_or(WEFT_ENCAP_VXLAN);
        info.vtep_mac = request.vtep_mac;
        nodes[addr] = info;
    }

    void node_del(const IpAddr& addr) override {
        ++calls.node_del;
        write("node_del " + to_string(addr));
        if (nodes.erase(to_string(addr)) == 0) {
            throw kernel_error(ENOENT, "no such node");
        }
        std::erase_if(routes, [&](const auto& entry) { return entry.second.node == addr; });
    }

    std::vector<Route> route_dump() override {
        check("route_dump");
        return values(routes);
    }

    void route_change(bool add, std::span<const Route> batch, bool replace) override {
        ++calls.route_change;
        for (std::size_t i = 0; i < batch.size(); ++i) {
            const Route& route = batch[i];
            const std::string prefix = to_string(route.prefix);
            try {
                if (!add) {
                    write("route_del " + prefix);
                    if (routes.erase(prefix) == 0) {
                        throw kernel_error(ENOENT, "no such route");
                    }
                    continue;
                }
                write((replace ? "route_replace " : "route_add ") + prefix + " via " +
                      to_string(route.node.value()));
                if (!nodes.contains(to_string(*route.node))) {
                    throw kernel_error(ENOENT, "no such node");
                }
                if (routes.contains(prefix) && !replace) {
                    throw kernel_error(EEXIST, "route exists");
                }
                routes[prefix] = route;
            } catch (const Error& e) {
                throw BulkError(e, i);
            }
        }
    }

    std::vector<EndpointInfo> endpoint_dump() override {
        check("endpoint_dump");
        return values(endpoints);
    }

    void endpoint_add(const EndpointAddRequest& request) override {
        ++calls.endpoint_add;
        write((request.replace ? "endpoint_replace " : "endpoint_add ") +
              std::to_string(request.host_ifindex));
        if (endpoints.contains(request.host_ifindex) && !request.replace) {
            throw kernel_error(EEXIST, "endpoint exists");
        }
        for (const auto& [ifindex, info] : endpoints) {
            for (const IpAddr& addr : request.addrs) {
                if (ifindex != request.host_ifindex &&
                    std::find(info.addrs.begin(), info.addrs.end(), addr) != info.addrs.end()) {
                    throw kernel_error(EADDRINUSE, "address of another endpoint");
                }
            }
        }
        endpoints[request.host_ifindex] = EndpointInfo{dev_.ifindex, request.host_ifindex,
                                                       request.addrs, request.identity.value_or(0)};
    }

    void endpoint_del(std::uint32_t host_ifindex) override {
        ++calls.endpoint_del;
        write("endpoint_del " + std::to_string(host_ifindex));
        if (endpoints.erase(host_ifindex) == 0) {
            throw kernel_error(ENOENT, "no such endpoint");
        }
    }

    void fail_once(const std::string& line, int errnum) {
        failures_.insert_or_assign(line, errnum);
    }

    // Forgets the calls and the log, keeping the tables.
    void reset_log() {
        calls = {};
        log.clear();
    }

    // Where `line` is in the log, or -1.
    long position(const std::string& line) const {
        auto it = std::find(log.begin(), log.end(), line);
        return it == log.end() ? -1 : it - log.begin();
    }

    std::map<std::string, NodeInfo> nodes; // by address text
    std::map<std::string, Route> routes;   // by prefix text
    std::map<std::uint32_t, EndpointInfo> endpoints;
    Calls calls;
    std::vector<std::string> log;

private:
    void check(const std::string& line) {
        auto failure = failures_.find(line);
        if (failure != failures_.end()) {
            int errnum = failure->second;
            failures_.erase(failure);
            throw kernel_error(errnum, "injected failure");
        }
    }
    void write(const std::string& line) {
        log.push_back(line);
        check(line);
    }

    DevRef dev_ = DevRef::by_index(5);
    std::map<std::string, int> failures_;
};

NodeSpec node(std::string name, std::string_view addr, std::optional<std::string_view> block4,
              std::optional<std::string_view> block6 = std::nullopt) {
    NodeSpec spec;
    spec.name = std::move(name);
    spec.addr = ip(addr);
    spec.vtep_mac = Mac{0x02, 0, 0, 0, 0, static_cast<std::uint8_t>(addr_bytes(spec.addr).back())};
    if (block4) {
        spec.block4 = pfx(*block4);
    }
    if (block6) {
        spec.block6 = pfx(*block6);
    }
    return spec;
}

EndpointSpec endpoint(std::uint32_t ifindex, std::vector<std::string_view> addrs,
                      std::optional<std::uint32_t> identity = std::nullopt) {
    EndpointSpec spec{ifindex, {}, identity};
    for (auto addr : addrs) {
        spec.addrs.push_back(ip(addr));
    }
    return spec;
}

std::string via(const FakeKernel& kernel, const std::string& prefix) {
    auto it = kernel.routes.find(prefix);
    return it == kernel.routes.end() ? "" : to_string(it->second.node.value());
}

// The changes of a pass, table by table: nodes, routes, endpoints.
using Changes = std::array<TableChanges, 3>;
Changes changes(const ReconcileResult& result) {
    return {result.nodes, result.routes, result.endpoints};
}

// The message of the error about `object` with `errnum`, or "" if none.
std::string error_message(const ReconcileResult& result, const std::string& object, int errnum) {
    auto it =
        std::find_if(result.errors.begin(), result.errors.end(), [&](const ReconcileError& e) {
            return e.object == object && e.errnum == errnum;
        });
    return it == result.errors.end() ? "" : it->message;
}

// What a pass reported, as (object, errno) pairs.
using ErrorKeys = std::multiset<std::pair<std::string, int>>;
ErrorKeys error_keys(const ReconcileResult& result) {
    ErrorKeys out;
    for (const ReconcileError& error : result.errors) {
        out.emplace(error.object, error.errnum);
    }
    return out;
}

class Reconcile : public ::testing::Test {
protected:
    Reconcile() {
        desired.nodes = {
            node("local", "192.0.2.1", "10.244.1.0/24", "fd00:244:1::/64"),
            node("b", "192.0.2.2", "10.244.2.0/24", "fd00:244:2::/64"),
            node("c", "192.0.2.3", "10.244.3.0/24"),
        };
        desired.endpoints = {
            endpoint(11, {"10.244.1.5", "fd00:244:1::5"}, 7),
            endpoint(12, {"10.244.1.6"}),
        };
    }

    ReconcileResult pass() { return reconcile(kernel, desired, "local"); }

    // Programs `desired` and forgets the writes that took.
    void program() {
        ASSERT_TRUE(pass().ok());
        kernel.reset_log();
    }

    FakeKernel kernel;
    Desired desired;
};

TEST_F(Reconcile, EmptyKernelGetsEverything) {
    ReconcileResult result = pass();
    EXPECT_TRUE(result.ok());
    EXPECT_EQ(changes(result), (Changes{{{2, 0, 0}, {3, 0, 0}, {2, 0, 0}}}));

    ASSERT_EQ(kernel.nodes.size(), 2u);
    EXPECT_EQ(kernel.nodes.at("192.0.2.2").encap, WEFT_ENCAP_VXLAN);
    EXPECT_EQ(kernel.nodes.at("192.0.2.2").vtep_mac, (Mac{2, 0, 0, 0, 0, 2}));
    EXPECT_EQ(via(kernel, "10.244.2.0/24"), "192.0.2.2");
    EXPECT_EQ(via(kernel, "fd00:244:2::/64"), "192.0.2.2");
    EXPECT_EQ(via(kernel, "10.244.3.0/24"), "192.0.2.3");
    EXPECT_EQ(kernel.routes.size(), 3u);
    // The routes go in one bulk request, after the nodes they name.
    EXPECT_EQ(kernel.calls.route_change, 1);
    EXPECT_LT(kernel.position("node_add 192.0.2.3"),
              kernel.position("route_add 10.244.3.0/24 via 192.0.2.3"));

    ASSERT_EQ(kernel.endpoints.size(), 2u);
    EXPECT_EQ(kernel.endpoints.at(11).identity, 7u);
    EXPECT_EQ(kernel.endpoints.at(12).identity, 0u);
    EXPECT_EQ(kernel.endpoints.at(12).addrs, std::vector<IpAddr>{ip("10.244.1.6")});
}

TEST_F(Reconcile, ReportsWhatTheTablesHold) {
    NodeInfo stale; // on the device, not in the cluster: removed
    stale.addr = ip("192.0.2.9");
    stale.encap = WEFT_ENCAP_VXLAN;
    kernel.nodes["192.0.2.9"] = stale;
    ReconcileResult first = pass();
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(first.dumped_nodes, 1u);
    EXPECT_EQ(ReconcileResult::held(first.dumped_nodes, first.nodes), 2u);
    EXPECT_EQ(ReconcileResult::held(first.dumped_routes, first.routes), 3u);
    EXPECT_EQ(ReconcileResult::held(first.dumped_endpoints, first.endpoints), 2u);
    EXPECT_EQ(kernel.nodes.size(), 2u);

    kernel.fail_once("node_dump", EIO);
    ReconcileResult failed = pass();
    EXPECT_FALSE(failed.dumped_nodes);
    EXPECT_FALSE(ReconcileResult::held(failed.dumped_nodes, failed.nodes));
    EXPECT_EQ(failed.dumped_endpoints, 2u);
}

TEST_F(Reconcile, IdenticalStateMakesNoWrite) {
    program();
    ReconcileResult result = pass();
    EXPECT_TRUE(result.ok());
    EXPECT_EQ(result.writes(), 0u);
    EXPECT_EQ(kernel.calls.total(), 0);
}

TEST_F(Reconcile, RestartWithKernelStateInAnotherOrderMakesNoWrite) {
    // What the kernel reports after weftd restarts: the same objects,
    // addresses of an endpoint in another order, identity 0 spelled out.
    program();
    std::reverse(desired.nodes.begin(), desired.nodes.end());
    std::reverse(desired.endpoints.begin(), desired.endpoints.end());
    std::reverse(desired.endpoints.back().addrs.begin(), desired.endpoints.back().addrs.end());
    desired.endpoints.front().identity = 0;
    desired.nodes.front().vtep_mac.reset();
    kernel.nodes.at("192.0.2.3").vtep_mac = Mac{};
    ReconcileResult result = pass();
    EXPECT_TRUE(result.ok());
    EXPECT_EQ(kernel.calls.total(), 0) << ::testing::PrintToString(kernel.log);
}

TEST_F(Reconcile, NodeSettingsChangeReplacesTheNodeOnly) {
    for (auto& n : desired.nodes) {
        n.encap = Encap::ipip;
    }
    program();
    desired.nodes[1].encap = Encap::vxlan;
    desired.nodes[1].vtep_mac = Mac{2, 0, 0, 0, 0, 0x22};
    ReconcileResult result = pass();
    EXPECT_TRUE(result.ok());
    EXPECT_EQ(result.nodes, (TableChanges{0, 1, 0}));
    EXPECT_EQ(result.routes.total(), 0u);
    EXPECT_EQ(kernel.log, std::vector<std::string>{"node_replace 192.0.2.2"});
    EXPECT_EQ(kernel.nodes.at("192.0.2.2").encap, WEFT_ENCAP_VXLAN);
    EXPECT_EQ(kernel.nodes.at("192.0.2.2").vtep_mac, (Mac{2, 0, 0, 0, 0, 0x22}));
    EXPECT_EQ(via(kernel, "10.244.2.0/24"), "192.0.2.2");
}

// Two nodes that publish different encapsulations use one both ways (the
// kernel accepts IP-in-IP only from nodes it sends IP-in-IP to).
TEST_F(Reconcile, MixedEncapsulationsAgreePerPair) {
    auto encap_of = [&](const char* addr) {
        return kernel.nodes.at(addr).encap;
    };
    desired.nodes[0].encap = Encap::ipip; // local
    desired.nodes[1].encap = Encap::none;
    desired.nodes[2].encap = Encap::vxlan;
    ASSERT_TRUE(pass().ok());
    EXPECT_EQ(encap_of("192.0.2.2"), WEFT_ENCAP_IPIP);
    EXPECT_EQ(encap_of("192.0.2.3"), WEFT_ENCAP_VXLAN);

    desired.nodes[0].encap = Encap::none;
    ASSERT_TRUE(pass().ok());
    EXPECT_EQ(encap_of("192.0.2.2"), WEFT_ENCAP_NONE);
    EXPECT_EQ(encap_of("192.0.2.3"), WEFT_ENCAP_VXLAN);

    // Without the local node's record, each node's own.
    desired.nodes.erase(desired.nodes.begin());
    desired.nodes[1].encap = Encap::ipip;
    desired.nodes[0].encap = Encap::vxlan;
    ASSERT_TRUE(pass().ok());
    EXPECT_EQ(encap_of("192.0.2.2"), WEFT_ENCAP_VXLAN);
    EXPECT_EQ(encap_of("192.0.2.3"), WEFT_ENCAP_IPIP);
}

TEST(PairEncap, IsSymmetricAndTheStrongerWins) {
    const Encap all[] = {Encap::none, Encap::ipip, Encap::vxlan};
    for (Encap a : all) {
        EXPECT_EQ(pair_encap(a, a), a);
        for (Encap b : all) {
            EXPECT_EQ(pair_encap(a, b), pair_encap(b, a));
        }
    }
    EXPECT_EQ(pair_encap(Encap::none, Encap::ipip), Encap::ipip);
    EXPECT_EQ(pair_encap(Encap::ipip, Encap::vxlan), Encap::vxlan);
    EXPECT_EQ(pair_encap(Encap::none, Encap::vxlan), Encap::vxlan);
}

TEST_F(Reconcile, BlockMovingToAnotherNodeIsReplacedInPlace) {
    program();
    desired.nodes[1].block4 = pfx("10.244.4.0/24");
    desired.nodes[2].block4 = pfx("10.244.2.0/24");
    ReconcileResult result = pass();
    EXPECT_TRUE(result.ok());
    EXPECT_EQ(result.nodes.total(), 0u);
    EXPECT_EQ(result.routes, (TableChanges{1, 1, 1}));
    EXPECT_EQ(via(kernel, "10.244.2.0/24"), "192.0.2.3");
    EXPECT_EQ(via(kernel, "10.244.4.0/24"), "192.0.2.2");
    EXPECT_FALSE(kernel.routes.contains("10.244.3.0/24"));
    EXPECT_EQ(kernel.log, (std::vector<std::string>{
                              "route_del 10.244.3.0/24",
                              "route_replace 10.244.2.0/24 via 192.0.2.3",
                              "route_add 10.244.4.0/24 via 192.0.2.2",
                          }));
}

TEST_F(Reconcile, NodeGoneLosesItsRoutesThenItself) {
    program();
    desired.nodes.erase(desired.nodes.begin() + 1);
    ReconcileResult result = pass();
    EXPECT_TRUE(result.ok());
    EXPECT_EQ(result.nodes, (TableChanges{0, 0, 1}));
    EXPECT_EQ(result.routes, (TableChanges{0, 0, 2}));
    EXPECT_FALSE(kernel.nodes.contains("192.0.2.2"));
    EXPECT_EQ(kernel.routes.size(), 1u);
    long node_del = kernel.position("node_del 192.0.2.2");
    ASSERT_GE(node_del, 0);
    EXPECT_LT(kernel.position("route_del 10.244.2.0/24"), node_del);
    EXPECT_LT(kernel.position("route_del fd00:244:2::/64"), node_del);
    EXPECT_GE(kernel.position("route_del 10.244.2.0/24"), 0);
}

TEST_F(Reconcile, LocalNodeIsSkippedAndItsStaleObjectsRemoved) {
    // Left behind by something else: the local node and a route to its
    // own block through weft0.
    kernel.nodes["192.0.2.1"] = NodeInfo{5, ip("192.0.2.1"), WEFT_ENCAP_VXLAN, {}, {}};
    kernel.routes["10.244.1.0/24"] = Route{pfx("10.244.1.0/24"), ip("192.0.2.1")};
    ReconcileResult result = pass();
    EXPECT_TRUE(result.ok());
    EXPECT_FALSE(kernel.nodes.contains("192.0.2.1"));
    EXPECT_FALSE(kernel.routes.contains("10.244.1.0/24"));
    EXPECT_FALSE(kernel.routes.contains("fd00:244:1::/64"));
    EXPECT_EQ(kernel.position("node_add 192.0.2.1"), -1);
    EXPECT_EQ(kernel.nodes.size(), 2u);

    // Under another name it is a remote node like any other.
    kernel.reset_log();
    ReconcileResult other = reconcile(kernel, desired, "b");
    EXPECT_TRUE(other.ok());
    EXPECT_TRUE(kernel.nodes.contains("192.0.2.1"));
    EXPECT_FALSE(kernel.nodes.contains("192.0.2.2"));
    EXPECT_EQ(via(kernel, "10.244.1.0/24"), "192.0.2.1");
}

TEST_F(Reconcile, EndpointsAddedChangedRemoved) {
    program();
    desired.endpoints = {
        endpoint(11, {"10.244.1.5"}, 7), // lost its IPv6 address
        endpoint(13, {"10.244.1.6"}, 9), // the address endpoint 12 had
        endpoint(14, {"fd00:244:1::5"}), // the address endpoint 11 had
    };
    ReconcileResult result = pass();
    EXPECT_TRUE(result.ok()) << result.errors.front().message;
    EXPECT_EQ(result.endpoints, (TableChanges{2, 1, 1}));
    EXPECT_EQ(result.nodes.total() + result.routes.total(), 0u);
    EXPECT_EQ(kernel.endpoints.at(11).addrs, std::vector<IpAddr>{ip("10.244.1.5")});
    EXPECT_EQ(kernel.endpoints.at(13).identity, 9u);
    EXPECT_FALSE(kernel.endpoints.contains(12));
    EXPECT_EQ(kernel.log, (std::vector<std::string>{"endpoint_del 12", "endpoint_replace 11",
                                                    "endpoint_add 13", "endpoint_add 14"}));

    desired.endpoints[0].identity = 8;
    kernel.reset_log();
    EXPECT_TRUE(pass().ok());
    EXPECT_EQ(kernel.log, std::vector<std::string>{"endpoint_replace 11"});
    EXPECT_EQ(kernel.endpoints.at(11).identity, 8u);
}

TEST_F(Reconcile, FailedWritesAreReportedAndRetried) {
    kernel.fail_once("node_add 192.0.2.2", EIO);
    kernel.fail_once("route_add 10.244.3.0/24 via 192.0.2.3", ENOMEM);
    kernel.fail_once("endpoint_add 11", EBUSY);
    ReconcileResult result = pass();
    // The routes of the node that is missing are not sent at all.
    EXPECT_EQ(error_keys(result), (ErrorKeys{
                                      {"node 192.0.2.2 (b)", EIO},
                                      {"route 10.244.2.0/24", ENOENT},
                                      {"route fd00:244:2::/64", ENOENT},
                                      {"route 10.244.3.0/24", ENOMEM},
                                      {"endpoint 11", EBUSY},
                                  }));
    EXPECT_EQ(kernel.position("route_add 10.244.2.0/24 via 192.0.2.2"), -1);
    // The others went in.
    EXPECT_TRUE(kernel.nodes.contains("192.0.2.3"));
    EXPECT_TRUE(kernel.endpoints.contains(12));
    EXPECT_EQ(result.nodes.added, 1u);
    EXPECT_EQ(result.endpoints.added, 1u);

    kernel.reset_log();
    ReconcileResult retry = pass();
    EXPECT_TRUE(retry.ok());
    EXPECT_EQ(changes(retry), (Changes{{{1, 0, 0}, {3, 0, 0}, {1, 0, 0}}}));
    EXPECT_EQ(kernel.routes.size(), 3u);

    kernel.reset_log();
    EXPECT_EQ(pass().writes(), 0u);
    EXPECT_EQ(kernel.calls.total(), 0);
}

TEST_F(Reconcile, RejectedRouteInTheMiddleOfABatch) {
    desired.nodes.push_back(node("d", "192.0.2.4", "10.244.4.0/24"));
    kernel.fail_once("route_add 10.244.3.0/24 via 192.0.2.3", EINVAL);
    ReconcileResult result = pass();
    ASSERT_EQ(result.errors.size(), 1u);
    EXPECT_EQ(result.errors[0].object, "route 10.244.3.0/24");
    EXPECT_EQ(result.routes.added, 3u);
    // One request up to the rejected route, one for those after it.
    EXPECT_EQ(kernel.calls.route_change, 2);
    EXPECT_EQ(via(kernel, "10.244.4.0/24"), "192.0.2.4");
    EXPECT_FALSE(kernel.routes.contains("10.244.3.0/24"));
}

TEST_F(Reconcile, RemovalOfWhatIsAlreadyGoneIsNoError) {
    program();
    desired.nodes.pop_back();
    desired.endpoints.pop_back();
    kernel.fail_once("route_del 10.244.3.0/24", ENOENT);
    kernel.fail_once("node_del 192.0.2.3", ENOENT);
    kernel.fail_once("endpoint_del 12", ENOENT);
    EXPECT_TRUE(pass().ok());
}

TEST_F(Reconcile, FailedDumpLeavesItsTablesAlone) {
    program();
    desired.nodes.pop_back();
    desired.endpoints.pop_back();
    kernel.fail_once("route_dump", EINTR);
    ReconcileResult result = pass();
    ASSERT_EQ(result.errors.size(), 1u);
    EXPECT_EQ(result.errors[0].object, "route table");
    EXPECT_EQ(result.errors[0].errnum, EINTR);
    EXPECT_EQ(kernel.calls.node_add + kernel.calls.node_del + kernel.calls.route_change, 0);
    // The endpoint table is independent of it.
    EXPECT_EQ(kernel.log, std::vector<std::string>{"endpoint_del 12"});
}

TEST_F(Reconcile, BlockClaimedByTwoNodesIsAConflict) {
    program();
    desired.nodes.push_back(node("d", "192.0.2.4", "10.244.3.0/24", "fd00:244:4::/64"));
    desired.nodes.push_back(node("e", "192.0.2.5", "10.244.1.0/24"));
    ReconcileResult result = pass();
    ASSERT_EQ(result.errors.size(), 2u);
    EXPECT_EQ(error_message(result, "route 10.244.3.0/24", EEXIST),
              "nodes c and d claim the same block");
    EXPECT_EQ(error_message(result, "route 10.244.1.0/24", EEXIST),
              "nodes local and e claim the same block");
    // The contested routes stay as they were; the rest goes in.
    EXPECT_EQ(via(kernel, "10.244.3.0/24"), "192.0.2.3");
    EXPECT_FALSE(kernel.routes.contains("10.244.1.0/24"));
    EXPECT_EQ(via(kernel, "fd00:244:4::/64"), "192.0.2.4");
    EXPECT_TRUE(kernel.nodes.contains("192.0.2.5"));
    EXPECT_EQ(kernel.calls.route_change, 1);
}

TEST_F(Reconcile, AddressClaimedByTwoNodesIsAConflict) {
    desired.nodes.push_back(node("d", "192.0.2.3", "10.244.4.0/24"));
    ReconcileResult result = pass();
    EXPECT_EQ(error_keys(result), (ErrorKeys{{"node 192.0.2.3", EEXIST}}));
    EXPECT_FALSE(kernel.nodes.contains("192.0.2.3"));
    EXPECT_FALSE(kernel.routes.contains("10.244.3.0/24"));
    EXPECT_FALSE(kernel.routes.contains("10.244.4.0/24"));
    EXPECT_TRUE(kernel.nodes.contains("192.0.2.2"));
}

TEST_F(Reconcile, InvalidDesiredObjectsAreReported) {
    desired.nodes[1].block4 = pfx("10.244.2.1/24");
    desired.nodes[2].block6 = pfx("10.244.9.0/24");
    desired.nodes.push_back(node("d", "0.0.0.0", "10.244.4.0/24"));
    desired.endpoints.push_back(endpoint(0, {"10.244.1.9"}));
    desired.endpoints.push_back(endpoint(15, {}));
    desired.endpoints.push_back(endpoint(16, {"10.244.1.7", "10.244.1.7"}));
    desired.endpoints.push_back(endpoint(17, {"10.244.1.6"}));
    desired.endpoints.push_back(endpoint(11, {"10.244.1.8"}));
    ReconcileResult result = pass();
    EXPECT_EQ(error_keys(result), (ErrorKeys{
                                      {"route 10.244.2.1/24", EINVAL},
                                      {"route 10.244.9.0/24", EINVAL},
                                      {"node 0.0.0.0 (d)", EINVAL},
                                      {"endpoint 0", EINVAL},
                                      {"endpoint 15", EINVAL},
                                      {"endpoint 16", EINVAL},
                                      {"endpoint 11", EEXIST},
                                      {"endpoint 12", EEXIST},
                                  }));
    EXPECT_EQ(kernel.routes.size(), 2u); // fd00:244:2::/64 and 10.244.3.0/24
    EXPECT_EQ(kernel.nodes.size(), 2u);
    EXPECT_TRUE(kernel.endpoints.empty());
}

TEST(ReconcileScale, TwoThousandNodes) {
    FakeKernel kernel;
    Desired desired;
    for (int i = 0; i < 2000; ++i) {
        std::string n = std::to_string(i / 250) + "." + std::to_string(i % 250);
        desired.nodes.push_back(node("node-" + std::to_string(i), "198.18." + n,
                                     "10." + n + ".0/24", "fd00:" + std::to_string(i) + "::/64"));
    }
    ReconcileResult first = reconcile(kernel, desired, "node-0");
    EXPECT_TRUE(first.ok());
    EXPECT_EQ(first.nodes.added, 1999u);
    EXPECT_EQ(first.routes.added, 3998u);
    EXPECT_EQ(kernel.calls.node_add, 1999);
    EXPECT_EQ(kernel.calls.route_change, 1);

    kernel.reset_log();
    EXPECT_EQ(reconcile(kernel, desired, "node-0").writes(), 0u);
    EXPECT_EQ(kernel.calls.total(), 0);

    desired.nodes[1000].vtep_mac = Mac{2, 0, 0, 0, 0x10, 0};
    std::swap(desired.nodes[10].block4, desired.nodes[20].block4);
    desired.nodes.pop_back();
    ReconcileResult change = reconcile(kernel, desired, "node-0");
    EXPECT_TRUE(change.ok());
    EXPECT_EQ(change.nodes, (TableChanges{0, 1, 1}));
    EXPECT_EQ(change.routes, (TableChanges{0, 2, 2}));
    // Removals, replacements, then the node removal.
    EXPECT_EQ(kernel.calls.total(), 4);
}

} // namespace
} // namespace weft
