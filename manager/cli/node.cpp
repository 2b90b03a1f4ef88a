// "weft node": the peer nodes of a weft device, keyed by underlay address.
#include <ostream>

#include <weft/names.hpp>

#include "cli.hpp"

namespace weft::cli {

namespace {

int node_add(Context& ctx, Args args);
int node_replace(Context& ctx, Args args);
int node_del(Context& ctx, Args args);
int node_show(Context& ctx, Args args);
int node_help(Context& ctx, Args args);

constexpr Command node_commands[] = {
    {"add", node_add},   {"replace", node_replace}, {"del", node_del},
    {"show", node_show}, {"list", node_show},       {"help", node_help},
};

int node_change(Context& ctx, Args args, Verb verb, bool replace) {
    if (wants_help(args)) {
        return node_help(ctx, {});
    }
    NodeArgs a = parse_node_args(args, verb);
    DevRef dev = target_device(ctx, a.dev, "dev");
    on_device(dev.ifname, [&] {
        if (verb == Verb::Add) {
            ctx.kernel().node_add(
                NodeAddRequest{dev, *a.addr, a.encap, a.vtep_mac, a.replace || replace});
        } else {
            ctx.kernel().node_del(dev, *a.addr);
        }
    });
    return exit_ok;
}

int node_add(Context& ctx, Args args) {
    return node_change(ctx, args, Verb::Add, false);
}

int node_replace(Context& ctx, Args args) {
    return node_change(ctx, args, Verb::Add, true);
}

int node_del(Context& ctx, Args args) {
    return node_change(ctx, args, Verb::Del, false);
}

std::string encap_text(std::uint8_t encap) {
    const char* name = encap_name(encap);
    return name ? name : std::to_string(encap);
}

int node_show(Context& ctx, Args args) {
    if (wants_help(args)) {
        return node_help(ctx, {});
    }
    NodeArgs a = parse_node_args(args, Verb::Show);
    int stats = ctx.options().stats;
    return show_objects<NodeInfo>(
        ctx, a.dev, [&](const DevRef& dev) { return ctx.kernel().node_dump(dev); },
        [&](const NodeInfo& n) { return !a.addr || n.addr == *a.addr; },
        [&](std::ostream& out, const NodeInfo& n, const std::string& dev) {
            out << to_string(n.addr) << " dev " << dev << " encap " << encap_text(n.encap);
            if (n.vtep_mac) {
                out << " vtep-mac " << mac_to_string(*n.vtep_mac);
            }
            out << "\n";
            if (stats > 0 && n.stats) {
                print_counters(out, *n.stats);
            }
        },
        [&](const NodeInfo& n, const std::string& dev) {
            nlohmann::ordered_json j;
            j["addr"] = to_string(n.addr);
            j["dev"] = dev;
            j["encap"] = encap_text(n.encap);
            j["vtep_mac"] =
                n.vtep_mac ? nlohmann::ordered_json(mac_to_string(*n.vtep_mac)) : nullptr;
            if (stats > 0 && n.stats) {
                j["stats"] = counters_json(*n.stats);
            }
            return j;
        });
}

int node_help(Context& ctx, Args /*args*/) {
    print_node_usage(ctx.out());
    return exit_ok;
}

} // namespace

int node_main(Context& ctx, Args args) {
    return run_object(ctx, args, node_commands, node_show, "node");
}

void print_node_usage(std::ostream& out) {
    out << "Usage: weft node { add | replace } ADDR [ dev DEV ] [ encap ENCAP ]\n"
           "                 [ vtep-mac LLADDR ] [ replace ]\n"
           "       weft node del ADDR [ dev DEV ]\n"
           "       weft node show [ dev DEV ] [ ADDR ]\n"
           "       weft node help\n"
           "where  ADDR := the node's underlay IPv4 or IPv6 address\n"
           "       ENCAP := { vxlan | ipip | none }\n"
           "       DEV := a weft device; may be left out when there is only one\n";
}

NodeArgs parse_node_args(Args args, Verb verb) {
    bool add = verb == Verb::Add;
    NodeArgs a;
    ArgWalker w(args);
    while (w.more()) {
        const std::string& key = w.word();
        if (key == "dev") {
            w.ifname(key, a.dev);
        } else if (add && key == "encap") {
            const std::string& v = w.value();
            auto encap = encap_from_name(v);
            if (!encap) {
                throw invalid_argument(v, "encap must be vxlan, ipip or none");
            }
            set_once(a.encap, key, v, static_cast<std::uint8_t>(*encap));
        } else if (add && key == "vtep-mac") {
            const std::string& v = w.value();
            auto mac = parse_mac(v);
            if (!mac) {
                throw invalid_argument(v, "vtep-mac must be a MAC address like 02:00:00:00:00:01");
            }
            set_once(a.vtep_mac, key, v, *mac);
        } else if (add && key == "replace") {
            a.replace = true;
        } else if (!a.addr) {
            a.addr = ip_arg(key, "node address must be an IPv4 or IPv6 address");
        } else {
            throw garbage("ADDR", key);
        }
    }
    if (!a.addr && verb != Verb::Show) {
        throw UsageError("Not enough information: the node address is required.");
    }
    return a;
}

} // namespace weft::cli
