// The weft tool against a fake kernel: what the CLI tests share. The fake
// keeps nodes, routes and endpoints per device name and takes route changes
// as the bytes libweft encodes, so that batch coalescing, request sizes and
// the extended ACK offset of a failing route are exercised as with weft.ko.
#pragma once

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/weft.h>

#include <weft/client.hpp>
#include <weft/error.hpp>

#include <gtest/gtest.h>

#include "cli.hpp"

namespace weft::cli::test {

// One ROUTE_ADD or ROUTE_DEL request the fake received.
struct RouteRequest {
    bool add = true;
    std::string dev;
    bool replace = false;
    std::vector<Route> routes;
    std::size_t bytes = 0;
};

// What the fake kernel holds and saw.
struct KernelState {
    std::vector<DeviceInfo> devices;
    std::vector<DevSetRequest> sets;
    std::vector<std::string> gets;
    int dumps = 0;
    std::optional<Error> fail; // thrown by every call when set

    std::map<std::string, std::vector<NodeInfo>> nodes;
    std::map<std::string, std::vector<Route>> routes;
    std::map<std::string, std::vector<EndpointInfo>> endpoints;
    std::vector<NodeAddRequest> node_adds;
    std::vector<std::pair<std::string, IpAddr>> node_dels;
    std::vector<RouteRequest> route_requests;
    std::vector<EndpointAddRequest> endpoint_adds;
    std::vector<std::pair<std::string, EndpointKey>> endpoint_dels;
    std::vector<std::string> events; // "node add", "route add 3", ...
};

// The address in a 4- or 16-byte attribute payload.
inline IpAddr decode_addr(std::span<const std::uint8_t> p) {
    if (p.size() == 4) {
        Ipv4 a{};
        std::copy(p.begin(), p.end(), a.begin());
        return a;
    }
    Ipv6 a{};
    std::copy(p.begin(), p.end(), a.begin());
    return a;
}

class FakeKernel : public Kernel {
public:
    explicit FakeKernel(std::shared_ptr<KernelState> s) : s_(std::move(s)) {}
    DeviceInfo dev_get(const DevRef& dev) override {
        s_->gets.push_back(dev.ifname);
        maybe_fail();
        for (const auto& d : s_->devices) {
            if (d.ifname == dev.ifname) {
                return d;
            }
        }
        throw Error(ENODEV, "", "", "");
    }
    std::vector<DeviceInfo> dev_dump() override {
        ++s_->dumps;
        maybe_fail();
        return s_->devices;
    }
    void dev_set(const DevSetRequest& request) override {
        maybe_fail();
        s_->sets.push_back(request);
    }

    std::vector<NodeInfo> node_dump(const DevRef& dev) override {
        maybe_fail();
        check_dev(dev);
        return s_->nodes[dev.ifname];
    }
    void node_add(const NodeAddRequest& request) override {
        maybe_fail();
        check_dev(request.dev);
        s_->node_adds.push_back(request);
        s_->events.push_back("node add");
        NodeInfo n;
        n.ifindex = index_of(request.dev);
        n.addr = request.addr;
        n.encap = request.encap.value_or(WEFT_ENCAP_VXLAN);
        n.vtep_mac = request.vtep_mac;
        s_->nodes[request.dev.ifname].push_back(n);
    }
    void node_del(const DevRef& dev, const IpAddr& addr) override {
        maybe_fail();
        check_dev(dev);
        s_->node_dels.emplace_back(dev.ifname, addr);
        s_->events.push_back("node del");
    }

    std::vector<Route> route_dump(const DevRef& dev) override {
        maybe_fail();
        check_dev(dev);
        return s_->routes[dev.ifname];
    }
    void route_change(bool add, const DevRef& dev, std::span<const Route> routes,
                      bool replace) override {
        maybe_fail();
        send_routes(0x1234, add, dev, routes, replace,
                    [&](Bytes& message) { receive_routes(add, dev, replace, message); });
    }

    std::vector<EndpointInfo> endpoint_dump(const DevRef& dev) override {
        maybe_fail();
        check_dev(dev);
        return s_->endpoints[dev.ifname];
    }
    void endpoint_add(const EndpointAddRequest& request) override {
        maybe_fail();
        check_dev(request.dev);
        s_->endpoint_adds.push_back(request);
    }
    void endpoint_del(const DevRef& dev, const EndpointKey& key) override {
        maybe_fail();
        check_dev(dev);
        s_->endpoint_dels.emplace_back(dev.ifname, key);
    }

private:
    void maybe_fail() {
        if (s_->fail) {
            throw *s_->fail;
        }
    }
    std::uint32_t index_of(const DevRef& dev) {
        for (const auto& d : s_->devices) {
            if (d.ifname == dev.ifname) {
                return d.ifindex;
            }
        }
        return 0;
    }
    void check_dev(const DevRef& dev) {
        if (index_of(dev) == 0) {
            throw Error(ENODEV, "no such device in this network namespace", "WEFT_A_IFNAME", "");
        }
    }

    // What weft.ko does with a ROUTE_ADD or ROUTE_DEL: apply the nests in
    // order, stop at the first that fails with the offset of its nest (or
    // of the node attribute, for a missing node).
    void receive_routes(bool add, const DevRef& dev, bool replace, const Bytes& message) {
        check_dev(dev);
        RouteRequest req{add, dev.ifname, replace, {}, message.size()};
        EXPECT_LT(message.size(), 64u * 1024) << "a request of 64 KiB or more";
        auto& table = s_->routes[dev.ifname];
        std::set<std::string> keys;
        for (const auto& r : table) {
            keys.insert(to_string(r.prefix));
        }
        auto body = std::span(message).subspan(NLMSG_HDRLEN + GENL_HDRLEN);
        std::optional<Error> error;
        for (const auto& a : walk_attrs(body, NLMSG_HDRLEN + GENL_HDRLEN)) {
            if (a.type != WEFT_A_ROUTE) {
                continue;
            }
            Route r;
            std::uint32_t node_offset = 0;
            for (const auto& n : walk_attrs(a.payload, a.offset + NLA_HDRLEN)) {
                if (n.type == WEFT_ROUTE_A_PREFIX) {
                    r.prefix.addr = decode_addr(n.payload);
                } else if (n.type == WEFT_ROUTE_A_PREFIXLEN) {
                    r.prefix.len = n.payload[0];
                } else if (n.type == WEFT_ROUTE_A_NODE4 || n.type == WEFT_ROUTE_A_NODE6) {
                    r.node = decode_addr(n.payload);
                    node_offset = static_cast<std::uint32_t>(n.offset);
                }
            }
            req.routes.push_back(r);
            bool exists = keys.count(to_string(r.prefix)) != 0;
            auto nest = static_cast<std::uint32_t>(a.offset);
            if (add && r.node && !has_node(dev.ifname, *r.node)) {
                error = Error(ENOENT, "no such node", "WEFT_ROUTE_A_NODE4", "", node_offset);
            } else if (add && exists && !replace) {
                error = Error(EEXIST, "route exists", "WEFT_A_ROUTE", "", nest);
            } else if (!add && !exists) {
                error = Error(ENOENT, "no such route", "WEFT_A_ROUTE", "", nest);
            } else if (add && !exists) {
                table.push_back(r);
                keys.insert(to_string(r.prefix));
            } else {
                auto at = std::find_if(table.begin(), table.end(),
                                       [&](const Route& x) { return x.prefix == r.prefix; });
                if (add) {
                    *at = r;
                } else {
                    table.erase(at);
                    keys.erase(to_string(r.prefix));
                }
            }
            if (error) {
                break;
            }
        }
        s_->events.push_back(std::string("route ") + (add ? "add " : "del ") +
                             std::to_string(req.routes.size()));
        s_->route_requests.push_back(std::move(req));
        if (error) {
            throw *error;
        }
    }
    bool has_node(const std::string& dev, const IpAddr& addr) {
        for (const auto& n : s_->nodes[dev]) {
            if (n.addr == addr) {
                return true;
            }
        }
        return false;
    }

    std::shared_ptr<KernelState> s_;
};

inline DeviceInfo weft0() {
    DeviceInfo d;
    d.ifindex = 4;
    d.ifname = "weft0";
    d.settings.vni = 1;
    d.settings.port = 4789;
    d.settings.mtu = 1450;
    d.settings.local4 = Ipv4{192, 0, 2, 11};
    d.settings.underlay = 2;
    d.settings.vtep_mac = Mac{0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};
    d.settings.generation = 3;
    return d;
}

inline DeviceInfo weft1() {
    DeviceInfo d = weft0();
    d.ifindex = 5;
    d.ifname = "weft1";
    return d;
}

inline DeviceStats some_stats() {
    DeviceStats st;
    st.rx_bytes = 123456;
    st.rx_packets = 100;
    st.rx_drops = 2;
    st.tx_bytes = 654321;
    st.tx_packets = 200;
    st.tx_drops = 1;
    st.drops[WEFT_DROP_NO_ROUTE] = 1;
    st.drops[WEFT_DROP_BAD_VNI] = 2;
    return st;
}

inline const std::map<std::string, std::uint32_t> interfaces = {
    {"lo", 1}, {"eth0", 2}, {"weft0", 4}, {"weft1", 5}, {"vethA", 7}, {"vethB", 8}};

inline NameToIndex fake_names() {
    return [](const std::string& name) -> std::optional<std::uint32_t> {
        auto it = interfaces.find(name);
        return it == interfaces.end() ? std::nullopt : std::optional(it->second);
    };
}

class Cli : public testing::Test {
protected:
    Cli() {
        env.out = &out;
        env.err = &err;
        env.in = &in;
        env.connect = [this] {
            ++connects;
            events.push_back("connect");
            if (connect_error) {
                throw *connect_error;
            }
            return std::make_unique<FakeKernel>(state);
        };
        env.name_to_index = fake_names();
        env.index_to_name = [](std::uint32_t index) -> std::optional<std::string> {
            for (const auto& [name, i] : interfaces) {
                if (i == index) {
                    return name;
                }
            }
            return std::nullopt;
        };
        env.enter_netns = [this](const std::string& name) {
            events.push_back("netns " + name);
        };
        state->devices.push_back(weft0());
    }

    int run(std::vector<std::string> argv) {
        out.str("");
        err.str("");
        return weft::cli::run(argv, env);
    }

    std::ostringstream out;
    std::ostringstream err;
    std::istringstream in;
    Env env;
    std::shared_ptr<KernelState> state = std::make_shared<KernelState>();
    std::optional<Error> connect_error;
    int connects = 0;
    std::vector<std::string> events;
};

// Batch files in /tmp, removed at the end of the test.
class Batch : public Cli {
protected:
    std::string write(const std::string& content) {
        char name[] = "/tmp/weft-batch-XXXXXX";
        int fd = mkstemp(name);
        EXPECT_GE(fd, 0);
        close(fd);
        std::ofstream(name) << content;
        files.push_back(name);
        return name;
    }
    ~Batch() override {
        for (const auto& f : files) {
            std::remove(f.c_str());
        }
    }
    std::vector<std::string> files;
};

} // namespace weft::cli::test
