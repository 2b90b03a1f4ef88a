// "weft endpoint": the local pods of a weft device, keyed by the host side of
// their interface.
#include <algorithm>
#include <ostream>
#include <utility>
#include <vector>

#include <linux/weft.h>

#include "cli.hpp"

namespace weft::cli {

namespace {

int endpoint_add(Context& ctx, Args args);
int endpoint_replace(Context& ctx, Args args);
int endpoint_del(Context& ctx, Args args);
int endpoint_show(Context& ctx, Args args);
int endpoint_help(Context& ctx, Args args);

constexpr Command endpoint_commands[] = {
    {"add", endpoint_add},   {"replace", endpoint_replace}, {"del", endpoint_del},
    {"show", endpoint_show}, {"list", endpoint_show},       {"help", endpoint_help},
};

std::uint32_t host_ifindex(Context& ctx, const std::string& name) {
    auto index = ctx.env().name_to_index(name);
    if (!index) {
        throw no_such_device(name);
    }
    return *index;
}

int endpoint_change(Context& ctx, Args args, Verb verb, bool replace) {
    if (wants_help(args)) {
        return endpoint_help(ctx, {});
    }
    EndpointArgs a = parse_endpoint_args(args, verb);
    std::uint32_t host = a.hostif ? host_ifindex(ctx, *a.hostif) : 0;
    DevRef dev = target_device(ctx, a.weft, "weft");
    on_device(dev.ifname, [&] {
        if (verb == Verb::Add) {
            ctx.kernel().endpoint_add(
                EndpointAddRequest{dev, host, a.addrs, a.identity, a.replace || replace});
        } else {
            EndpointKey key;
            key.host_ifindex = host;
            if (!a.addrs.empty()) {
                key.addr = a.addrs[0];
            }
            ctx.kernel().endpoint_del(dev, key);
        }
    });
    return exit_ok;
}

int endpoint_add(Context& ctx, Args args) {
    return endpoint_change(ctx, args, Verb::Add, false);
}

int endpoint_replace(Context& ctx, Args args) {
    return endpoint_change(ctx, args, Verb::Add, true);
}

int endpoint_del(Context& ctx, Args args) {
    return endpoint_change(ctx, args, Verb::Del, false);
}

int endpoint_show(Context& ctx, Args args) {
    if (wants_help(args)) {
        return endpoint_help(ctx, {});
    }
    EndpointArgs a = parse_endpoint_args(args, Verb::Show);
    std::optional<std::uint32_t> host;
    if (a.hostif) {
        host = host_ifindex(ctx, *a.hostif);
    }
    const IndexToName& index_to_name = ctx.env().index_to_name;
    auto host_name = [&](const EndpointInfo& e) {
        return index_to_name(e.host_ifindex);
    };
    return show_objects<EndpointInfo>(
        ctx, a.weft, [&](const DevRef& dev) { return ctx.kernel().endpoint_dump(dev); },
        [&](const EndpointInfo& e) {
            return (!host || e.host_ifindex == *host) &&
                   (a.addrs.empty() ||
                    std::find(e.addrs.begin(), e.addrs.end(), a.addrs[0]) != e.addrs.end());
        },
        [&](std::ostream& out, const EndpointInfo& e, const std::string& dev) {
            for (const auto& addr : e.addrs) {
                out << to_string(addr) << ' ';
            }
            out << "dev " << host_name(e).value_or("if" + std::to_string(e.host_ifindex))
                << " weft " << dev << " identity " << e.identity << "\n";
        },
        [&](const EndpointInfo& e, const std::string& dev) {
            nlohmann::ordered_json j;
            auto addrs = nlohmann::ordered_json::array();
            for (const auto& addr : e.addrs) {
                addrs.push_back(to_string(addr));
            }
            j["addrs"] = addrs;
            auto name = host_name(e);
            j["dev"] = name ? nlohmann::ordered_json(*name) : nullptr;
            j["ifindex"] = e.host_ifindex;
            j["weft"] = dev;
            j["identity"] = e.identity;
            return j;
        });
}

int endpoint_help(Context& ctx, Args /*args*/) {
    print_endpoint_usage(ctx.out());
    return exit_ok;
}

} // namespace

int endpoint_main(Context& ctx, Args args) {
    return run_object(ctx, args, endpoint_commands, endpoint_show, "endpoint");
}

void print_endpoint_usage(std::ostream& out) {
    out << "Usage: weft endpoint { add | replace } ADDR [ ADDR... ] dev HOSTIF [ [ weft ] DEV ]\n"
           "                     [ identity ID ] [ replace ]\n"
           "       weft endpoint del { ADDR | dev HOSTIF } [ weft DEV ]\n"
           "       weft endpoint show [ weft DEV ] [ dev HOSTIF ] [ ADDR ]\n"
           "       weft endpoint help\n"
           "where  ADDR := a pod's IPv4 or IPv6 address (at most "
        << WEFT_ENDPOINT_MAX_ADDRS
        << " per endpoint)\n"
           "       HOSTIF := the host side of the pod's interface\n"
           "       ID := 0..4294967295, the security identity (default 0)\n"
           "       DEV := a weft device; may be left out when there is only one\n";
}

EndpointArgs parse_endpoint_args(Args args, Verb verb) {
    bool add = verb == Verb::Add;
    EndpointArgs a;
    ArgWalker w(args);
    bool after_hostif = false;
    while (w.more()) {
        const std::string& key = w.word();
        bool was_after_hostif = std::exchange(after_hostif, false);
        if (key == "dev") {
            w.ifname(key, a.hostif);
            after_hostif = true;
        } else if (key == "weft") {
            w.ifname(key, a.weft);
        } else if (add && key == "identity") {
            const std::string& v = w.value();
            auto id = parse_uint(v, UINT32_MAX);
            if (!id) {
                throw invalid_argument(v, "identity must be 0..4294967295");
            }
            set_once(a.identity, key, v, static_cast<std::uint32_t>(*id));
        } else if (add && key == "replace") {
            a.replace = true;
        } else if (was_after_hostif && !a.weft && !parse_ip(key)) {
            // "dev HOSTIF weft0": the weft device may follow the host
            // interface without its keyword, as in "ip"-like grammars.
            std::vector<std::string> name{key};
            ArgWalker(name).ifname("weft", a.weft);
        } else if (add || a.addrs.empty()) {
            IpAddr addr = ip_arg(key, "endpoint address must be an IPv4 or IPv6 address");
            if (std::find(a.addrs.begin(), a.addrs.end(), addr) != a.addrs.end()) {
                throw UsageError("Error: duplicate address \"" + key + "\".");
            }
            a.addrs.push_back(addr);
        } else {
            throw garbage("ADDR", key);
        }
    }
    if (add) {
        if (a.addrs.empty()) {
            throw UsageError("Not enough information: an address is required.");
        }
        if (a.addrs.size() > WEFT_ENDPOINT_MAX_ADDRS) {
            throw UsageError("Error: an endpoint has at most " +
                             std::to_string(WEFT_ENDPOINT_MAX_ADDRS) + " addresses.");
        }
        if (!a.hostif) {
            throw UsageError("Not enough information: \"dev\" argument is required.");
        }
    } else if (verb == Verb::Del) {
        if (a.addrs.empty() == !a.hostif) {
            throw UsageError(a.hostif ? "Error: give an address or \"dev\", not both."
                                      : "Not enough information: an address or \"dev\" is "
                                        "required.");
        }
    }
    return a;
}

} // namespace weft::cli
