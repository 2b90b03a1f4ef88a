#include "plugin.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <vector>

#include <sys/socket.h>

#include "cni.hpp"
#include "conntrack.hpp"
#include "netlink.hpp"
#include "weftd_client.hpp"

namespace weft::cni {

using nlohmann::json;

namespace {

// The device whose MTU pods get unless the configuration sets "mtu".
const std::string weft_device = "weft0";

Prefix host_prefix(const IpAddr& addr) {
    return {addr, static_cast<std::uint8_t>(is_ipv4(addr) ? 32 : 128)};
}

std::vector<IpAddr> parse_addr_list(const json& answer, const char* what) {
    std::vector<IpAddr> out;
    auto list = answer.find("addrs");
    if (list == answer.end() || !list->is_array()) {
        throw CniError(code::internal,
                       std::string("weftd's answer to ") + what + " has no \"addrs\" list",
                       answer.dump());
    }
    for (const auto& item : *list) {
        auto addr = item.is_string() ? parse_ip(item.get<std::string>()) : std::nullopt;
        if (!addr) {
            throw CniError(code::internal,
                           std::string("weftd's answer to ") + what + " holds a bad address",
                           item.dump());
        }
        out.push_back(*addr);
    }
    return out;
}

json key_request(const char* op, const Env& env) {
    return {{"op", op}, {"container_id", env.container_id}, {"ifname", env.ifname}};
}

json addr_texts(const std::vector<IpAddr>& addrs) {
    json out = json::array();
    for (const auto& a : addrs) {
        out.push_back(to_string(a));
    }
    return out;
}

unsigned pod_mtu(const NetConf& conf, Rtnl& rtnl) {
    if (conf.mtu) {
        return *conf.mtu;
    }
    auto dev = rtnl.link(weft_device);
    if (!dev) {
        throw CniError(code::try_again,
                       weft_device + " does not exist yet (weftd creates it when it starts), so " +
                           "the pod MTU is unknown; start weftd or set \"mtu\" in the network " +
                           "configuration");
    }
    return dev->mtu;
}

// Best effort cleanup on an error path: the error being reported matters
// more than a second one, which is only logged.
template <typename F>
void quietly(std::ostream& err, const std::string& what, F&& f) {
    try {
        f();
    } catch (const std::exception& e) {
        err << "weft-cni: while undoing a failed ADD, " << what << ": " << e.what() << "\n";
    }
}

void flush_quietly(const std::vector<IpAddr>& addrs, std::ostream& err) {
    try {
        flush_conntrack(addrs);
    } catch (const CniError& e) {
        err << "weft-cni: conntrack entries of released addresses were not flushed: " << e.what()
            << (e.details().empty() ? "" : " (" + e.details() + ")") << "\n";
    }
}

// ADD: address from weftd, veth pair, the pod side configured inside the
// pod's namespace, the host side answering ARP/ND for the gateway and routing
// the pod's addresses, then the endpoint registered with weftd. A failure at
// any step undoes the earlier ones and releases the address.
json cmd_add(const Env& env, const NetConf& conf, std::ostream& err) {
    UniqueFd netns = open_netns(env.netns);
    Rtnl rtnl;
    const std::string host = host_ifname(env.container_id, env.ifname);
    if (rtnl.link(host)) {
        // An ADD repeated after a crash (of the runtime, weft-cni or weftd)
        // finds the veth of the earlier attempt: it is made again from the
        // start (its pod side goes with it), and weftd hands back the same
        // addresses, since they are keyed by container ID and ifname.
        err << "weft-cni: " << env.container_id << "/" << env.ifname << ": " << host
            << " exists from an earlier ADD; setting the pod up again\n";
        rtnl.del_link(host);
    }
    const unsigned mtu = pod_mtu(conf, rtnl);
    WeftdClient weftd(conf.socket);
    auto addrs = parse_addr_list(weftd.call(key_request("allocate", env)), "allocate");
    if (addrs.empty()) {
        throw CniError(code::internal, "weftd allocated no address to " + env.container_id);
    }
    Added added;
    added.host_ifname = host;
    added.pod_ifname = env.ifname;
    added.sandbox = env.netns;
    added.mtu = mtu;
    added.addrs = addrs;
    const bool v4 = std::any_of(addrs.begin(), addrs.end(), is_ipv4);
    const bool v6 = !std::all_of(addrs.begin(), addrs.end(), is_ipv4);
    bool created = false;
    try {
        rtnl.add_veth(host, env.ifname, netns.get(), mtu);
        created = true;
        in_netns(netns.get(), [&] {
            Rtnl pod;
            auto link = pod.link(env.ifname);
            if (!link) {
                throw CniError(code::setup_failed,
                               env.ifname + " vanished from the pod's namespace after creation");
            }
            pod.set_up(*link);
            for (const auto& a : addrs) {
                pod.add_address(link->ifindex, host_prefix(a));
            }
            if (v4) {
                pod.add_route({Ipv4{}, 0}, link->ifindex, parse_ip(gateway4), true);
            }
            if (v6) {
                pod.add_route({Ipv6{}, 0}, link->ifindex, parse_ip(gateway6), false);
            }
            added.pod_mac = link->mac;
        });
        const NetSysctl sysctl;
        sysctl.write("ipv4/conf/" + host + "/proxy_arp", "1");
        sysctl.write("ipv4/neigh/" + host + "/proxy_delay", "0");
        if (!v6 && sysctl.exists("ipv6/conf/" + host)) {
            // The host side of an IPv4-only pod needs no IPv6. Left on, it
            // gets a link-local address, an fe80::/64 and an ff00::/8 route
            // and sends DAD and MLD packets when it comes up; the kernel
            // keeps one such route per device under the same prefix, so
            // every lookup among them costs O(pods) on a busy node.
            sysctl.write("ipv6/conf/" + host + "/disable_ipv6", "1");
        }
        auto link = rtnl.link(host);
        if (!link) {
            throw CniError(code::setup_failed, host + " vanished after creation");
        }
        rtnl.set_up(*link);
        added.host_mac = link->mac;
        if (v6) {
            // The pod's IPv6 gateway lives on the host side itself.
            rtnl.add_address(link->ifindex, {*parse_ip(gateway6), 64});
        }
        for (const auto& a : addrs) {
            rtnl.add_route(host_prefix(a), link->ifindex, std::nullopt, false);
        }
        json attach = key_request("attach", env);
        attach["host_ifname"] = host;
        attach["addrs"] = addr_texts(addrs);
        weftd.call(attach);
    } catch (...) {
        if (created) {
            quietly(err, "deleting " + host, [&] { rtnl.del_link(host); });
        }
        quietly(err, "releasing the address", [&] {
            WeftdClient again(conf.socket);
            again.call(key_request("release", env));
        });
        throw;
    }
    return result_json(added, conf.cni_version, conf.prev_result);
}

// DEL: release in weftd (which forgets the endpoint), delete the host veth
// (its peer goes with it, wherever it is) and flush the released addresses'
// connections. Each step is a no-op when already done, so DEL repeats.
void cmd_del(const Env& env, const NetConf& conf, std::ostream& err) {
    WeftdClient weftd(conf.socket);
    auto released = parse_addr_list(weftd.call(key_request("release", env)), "release");
    Rtnl rtnl;
    rtnl.del_link(host_ifname(env.container_id, env.ifname));
    if (!released.empty()) {
        flush_quietly(released, err);
    }
}

[[noreturn]] void check_failed(const std::string& msg) {
    throw CniError(code::check_failed, msg);
}

// CHECK: what prevResult says weft set up is still there.
void cmd_check(const Env& env, const NetConf& conf) {
    const json& prev = *conf.prev_result;
    // The pod interface weft created, and the addresses given to it.
    std::optional<std::size_t> pod_index;
    const json interfaces = prev.value("interfaces", json::array());
    for (std::size_t i = 0; i < interfaces.size(); ++i) {
        if (interfaces[i].value("name", "") == env.ifname && interfaces[i].contains("sandbox")) {
            pod_index = i;
        }
    }
    if (!pod_index) {
        check_failed("prevResult lists no interface " + env.ifname + " in a sandbox");
    }
    std::vector<Prefix> want_addrs;
    for (const auto& ip : prev.value("ips", json::array())) {
        if (ip.value("interface", *pod_index) != *pod_index) {
            continue;
        }
        auto prefix = parse_prefix(ip.value("address", ""));
        if (!prefix) {
            throw CniError(code::invalid_config,
                           "prevResult holds an ips entry without a valid address: " + ip.dump());
        }
        want_addrs.push_back(*prefix);
    }
    struct WantRoute {
        Prefix dst;
        std::optional<IpAddr> gw;
    };
    std::vector<WantRoute> want_routes;
    for (const auto& route : prev.value("routes", json::array())) {
        auto dst = parse_prefix(route.value("dst", ""));
        if (!dst) {
            throw CniError(code::invalid_config,
                           "prevResult holds a route without a valid dst: " + route.dump());
        }
        std::optional<IpAddr> gw;
        if (route.contains("gw")) {
            gw = parse_ip(route.value("gw", ""));
        }
        want_routes.push_back({*dst, gw});
    }

    const std::string host = host_ifname(env.container_id, env.ifname);
    Rtnl rtnl;
    auto host_link = rtnl.link(host);
    if (!host_link) {
        check_failed("the host side " + host + " of " + env.ifname + " does not exist");
    }
    if (!host_link->up) {
        check_failed("the host side " + host + " of " + env.ifname + " is down");
    }
    if (!want_addrs.empty() && std::any_of(want_addrs.begin(), want_addrs.end(),
                                           [](auto& p) { return is_ipv4(p.addr); })) {
        auto value = NetSysctl().read("ipv4/conf/" + host + "/proxy_arp");
        if (value != "1") {
            check_failed("the host side " + host + " does not answer ARP for the gateway " +
                         "(proxy_arp is " + value.value_or("unreadable") + ")");
        }
    }
    for (const auto& want : want_addrs) {
        auto routes = rtnl.routes(is_ipv4(want.addr) ? AF_INET : AF_INET6);
        Prefix dst = host_prefix(want.addr);
        if (std::none_of(routes.begin(), routes.end(), [&](const RouteInfo& r) {
                return r.dst == dst && r.ifindex == host_link->ifindex && !r.gateway;
            })) {
            check_failed("the host has no route " + to_string(dst) + " dev " + host);
        }
    }

    UniqueFd netns = open_netns(env.netns);
    in_netns(netns.get(), [&] {
        Rtnl pod;
        auto link = pod.link(env.ifname);
        if (!link) {
            check_failed(env.ifname + " does not exist in " + env.netns);
        }
        if (!link->up) {
            check_failed(env.ifname + " is down");
        }
        if (auto mtu = interfaces[*pod_index].find("mtu"); mtu != interfaces[*pod_index].end() &&
                                                           mtu->is_number_unsigned() &&
                                                           mtu->get<unsigned>() != link->mtu) {
            check_failed(env.ifname + " has MTU " + std::to_string(link->mtu) + ", not " +
                         mtu->dump());
        }
        auto have = pod.addresses(link->ifindex);
        for (const auto& want : want_addrs) {
            if (std::find(have.begin(), have.end(), want) == have.end()) {
                check_failed(env.ifname + " lacks its address " + to_string(want));
            }
        }
        for (const auto& want : want_routes) {
            auto routes = pod.routes(is_ipv4(want.dst.addr) ? AF_INET : AF_INET6);
            bool found = std::any_of(routes.begin(), routes.end(), [&](const RouteInfo& r) {
                return r.dst == want.dst && r.ifindex == link->ifindex && r.gateway == want.gw;
            });
            if (!found) {
                check_failed(env.ifname + " lacks its route " + to_string(want.dst) +
                             (want.gw ? " via " + to_string(*want.gw) : std::string()));
            }
        }
    });

    // weftd's record of the attachment, and weft.ko's endpoint as weftd
    // reads it back from the kernel.
    const std::string who = env.container_id + "/" + env.ifname;
    json ep;
    try {
        WeftdClient weftd(conf.socket);
        ep = weftd.call(key_request("endpoint", env));
    } catch (const CniError& e) {
        if (e.code() == code::unknown_container) {
            check_failed("weftd knows no attachment " + who);
        }
        throw;
    }
    auto allocated = parse_addr_list(ep, "endpoint");
    for (const auto& want : want_addrs) {
        if (std::find(allocated.begin(), allocated.end(), want.addr) == allocated.end()) {
            check_failed("weftd has not allocated " + to_string(want.addr) + " to " + who);
        }
    }
    if (ep.value("host_ifname", "") != host) {
        check_failed("weftd has no endpoint on " + host + " for " + who);
    }
    const json& kernel = ep.contains("kernel") ? ep["kernel"] : json();
    if (!kernel.is_object()) {
        check_failed("weft.ko has no endpoint for " + host + " (" + who + ")");
    }
    auto in_kernel = parse_addr_list(kernel, "endpoint");
    for (const auto& want : want_addrs) {
        if (std::find(in_kernel.begin(), in_kernel.end(), want.addr) == in_kernel.end()) {
            check_failed("weft.ko's endpoint for " + host + " lacks " + to_string(want.addr));
        }
    }
}

// Whether `name` is a host veth weft-cni made: the prefix and 11 hex digits.
bool weft_host_ifname(const std::string& name) {
    const auto n = host_ifname_prefix.size();
    return name.size() == n + 11 && name.compare(0, n, host_ifname_prefix) == 0 &&
           std::all_of(name.begin() + static_cast<std::ptrdiff_t>(n), name.end(),
                       [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

// GC: weftd releases every attachment not in the valid list, and host veths
// no valid attachment owns are deleted.
void cmd_gc(const NetConf& conf, std::ostream& err) {
    json valid = json::array();
    std::set<std::string> keep;
    for (const auto& a : conf.valid_attachments) {
        valid.push_back({{"container_id", a.container_id}, {"ifname", a.ifname}});
        keep.insert(host_ifname(a.container_id, a.ifname));
    }
    WeftdClient weftd(conf.socket);
    auto answer = weftd.call({{"op", "gc"}, {"valid", valid}});
    std::vector<IpAddr> released;
    for (const auto& item : answer.value("released", json::array())) {
        auto addrs = parse_addr_list(item, "gc");
        released.insert(released.end(), addrs.begin(), addrs.end());
    }
    Rtnl rtnl;
    for (const auto& link : rtnl.links()) {
        if (weft_host_ifname(link.name) && !keep.count(link.name)) {
            rtnl.del_link(link.name);
        }
    }
    if (!released.empty()) {
        flush_quietly(released, err);
    }
}

// STATUS: 50 when an ADD cannot succeed now (weftd unreachable, not joined
// to the cluster, or its weft device missing, which is what happens without
// weft.ko); 51 when ADDs work but existing pods may be degraded (the
// datastore is unreachable, so routes to other nodes may be stale, or
// weft.ko is not fully programmed); else 0.
void cmd_status(const NetConf& conf) {
    json status;
    try {
        WeftdClient weftd(conf.socket);
        status = weftd.call({{"op", "status"}});
    } catch (const CniError& e) {
        throw CniError(code::status_cannot_add, e.what(), e.details());
    }
    if (!status.value("can_add", false)) {
        throw CniError(code::status_cannot_add,
                       "weftd cannot set up pods: " +
                           status.value("can_add_reason", std::string("no reason given")));
    }
    if (status.value("degraded", false)) {
        throw CniError(code::status_degraded,
                       "pods may be degraded: " +
                           status.value("degraded_reason", std::string("no reason given")));
    }
}

void print_error(const CniError& e, std::string_view stdin_text, std::ostream& out,
                 std::ostream& err) {
    out << error_json(e, error_version(stdin_text)).dump() << "\n";
    err << "weft-cni: " << e.what() << (e.details().empty() ? "" : " (" + e.details() + ")")
        << "\n";
}

} // namespace

int run(const std::map<std::string, std::string>& vars, std::string_view stdin_text,
        std::ostream& out, std::ostream& err) {
    try {
        Env env = parse_env(vars);
        if (env.command == Command::version) {
            json request = json::parse(stdin_text, nullptr, false);
            std::string requested;
            if (request.is_object() && request.contains("cniVersion") &&
                request["cniVersion"].is_string()) {
                requested = request["cniVersion"].get<std::string>();
            }
            out << version_info(requested).dump() << "\n";
            return 0;
        }
        NetConf conf = parse_netconf(stdin_text, env.command);
        switch (env.command) {
        case Command::add:
            out << cmd_add(env, conf, err).dump() << "\n";
            break;
        case Command::del:
            cmd_del(env, conf, err);
            break;
        case Command::check:
            cmd_check(env, conf);
            break;
        case Command::status:
            cmd_status(conf);
            break;
        case Command::gc:
            cmd_gc(conf, err);
            break;
        case Command::version:
            break;
        }
        return 0;
    } catch (const CniError& e) {
        print_error(e, stdin_text, out, err);
    } catch (const std::exception& e) {
        print_error(CniError(code::internal, std::string("internal error: ") + e.what()),
                    stdin_text, out, err);
    }
    return 1;
}

} // namespace weft::cni
