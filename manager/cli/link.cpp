// "weft link": show and change the settings of weft devices.
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <ostream>
#include <sstream>

#include <net/if.h>

#include <linux/weft.h>

#include <weft/error.hpp>

#include "cli.hpp"

namespace weft::cli {

namespace {

int link_show(Context& ctx, Args args);
int link_set(Context& ctx, Args args);
int link_help(Context& ctx, Args args);

constexpr Command link_commands[] = {
    {"show", link_show},
    {"list", link_show},
    {"set", link_set},
    {"help", link_help},
};

// Reads `[dev] NAME` at args[i]; returns false if args[i] is not for it.
bool take_dev(Args args, std::size_t& i, std::optional<std::string>& dev) {
    const std::string& word = args[i];
    std::string name;
    if (word == "dev") {
        if (i + 1 >= args.size()) {
            throw incomplete();
        }
        name = args[++i];
    } else if (!dev) {
        name = word;
    } else {
        return false;
    }
    if (dev) {
        throw duplicate("dev", name);
    }
    check_ifname(name);
    dev = name;
    return true;
}

int link_show(Context& ctx, Args args) {
    std::optional<std::string> dev;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "help") {
            return link_help(ctx, {});
        }
        if (!take_dev(args, i, dev)) {
            throw garbage("dev", args[i]);
        }
    }
    std::vector<DeviceInfo> devices;
    if (dev) {
        if (!ctx.env().name_to_index(*dev)) {
            throw no_such_device(*dev);
        }
        devices.push_back(
            on_device(*dev, [&] { return ctx.kernel().dev_get(DevRef::by_name(*dev)); }));
    } else {
        devices = ctx.kernel().dev_dump();
    }

    const Options& opts = ctx.options();
    if (opts.json) {
        auto array = nlohmann::ordered_json::array();
        for (const auto& d : devices) {
            array.push_back(device_json(d, opts.stats > 0, ctx.env().index_to_name));
        }
        print_json(ctx, array);
    } else {
        for (const auto& d : devices) {
            ctx.out() << format_device(d, opts.stats, ctx.env().index_to_name);
        }
    }
    return exit_ok;
}

int link_set(Context& ctx, Args args) {
    if (!args.empty() && args[0] == "help") {
        return link_help(ctx, {});
    }
    DevSetRequest request = parse_link_set(args, ctx.env().name_to_index);
    const std::string& name = request.dev.ifname;
    if (!ctx.env().name_to_index(name)) {
        throw no_such_device(name);
    }
    on_device(name, [&] { ctx.kernel().dev_set(request); });
    return exit_ok;
}

int link_help(Context& ctx, Args /*args*/) {
    print_link_usage(ctx.out());
    return exit_ok;
}

std::string underlay_name(std::uint32_t ifindex, const IndexToName& index_to_name) {
    if (ifindex == 0) {
        return "none";
    }
    if (auto name = index_to_name(ifindex)) {
        return *name;
    }
    return "if" + std::to_string(ifindex);
}

} // namespace

int link_main(Context& ctx, Args args) {
    return run_object(ctx, args, link_commands, link_show, "link");
}

void print_link_usage(std::ostream& out) {
    out << "Usage: weft link show [ [ dev ] NAME ]\n"
           "       weft link set [ dev ] NAME [ vni VNI ] [ port PORT ]\n"
           "                     [ local { ADDR | any } ] [ underlay { DEV | none } ]\n"
           "                     [ vtep-mac LLADDR ] [ crosssubnet { on | off } ]\n"
           "       weft link help\n"
           "where  VNI := 0..16777215\n"
           "       PORT := 1..65535\n"
           "       ADDR := an IPv4 or IPv6 address; \"any\" clears both\n";
}

std::optional<std::uint64_t> parse_uint(std::string_view text, std::uint64_t max) {
    int base = 10;
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        text.remove_prefix(2);
        base = 16;
    }
    if (text.empty()) {
        return std::nullopt;
    }
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
    if (ec != std::errc() || end != text.data() + text.size() || value > max) {
        return std::nullopt;
    }
    return value;
}

DevSetRequest parse_link_set(Args args, const NameToIndex& name_to_index) {
    DevSetRequest req;
    std::optional<std::string> dev;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& key = args[i];
        auto value = [&]() -> const std::string& {
            if (i + 1 >= args.size()) {
                throw incomplete();
            }
            return args[++i];
        };
        if (key == "vni") {
            const std::string& v = value();
            if (req.vni) {
                throw duplicate(key, v);
            }
            auto n = parse_uint(v, WEFT_VNI_MAX);
            if (!n) {
                throw invalid_argument(v, "vni must be 0.." + std::to_string(WEFT_VNI_MAX));
            }
            req.vni = static_cast<std::uint32_t>(*n);
        } else if (key == "port") {
            const std::string& v = value();
            if (req.port) {
                throw duplicate(key, v);
            }
            auto n = parse_uint(v, 65535);
            if (!n || *n == 0) {
                throw invalid_argument(v, "port must be 1..65535");
            }
            req.port = static_cast<std::uint16_t>(*n);
        } else if (key == "local") {
            const std::string& v = value();
            if (v == "any") {
                if (req.local4 || req.local6) {
                    throw duplicate(key, v);
                }
                req.local4 = Ipv4{};
                req.local6 = Ipv6{};
            } else if (auto a4 = parse_ipv4(v)) {
                if (req.local4) {
                    throw duplicate(key, v);
                }
                req.local4 = *a4;
            } else if (auto a6 = parse_ipv6(v)) {
                if (req.local6) {
                    throw duplicate(key, v);
                }
                req.local6 = *a6;
            } else {
                throw invalid_argument(v, "local must be an IPv4 or IPv6 address, or \"any\"");
            }
        } else if (key == "underlay") {
            const std::string& v = value();
            if (req.underlay) {
                throw duplicate(key, v);
            }
            if (v == "none") {
                req.underlay = 0;
            } else {
                auto index = name_to_index(v);
                if (!index) {
                    throw no_such_device(v);
                }
                req.underlay = *index;
            }
        } else if (key == "vtep-mac") {
            const std::string& v = value();
            if (req.vtep_mac) {
                throw duplicate(key, v);
            }
            auto mac = parse_mac(v);
            if (!mac) {
                throw invalid_argument(v, "vtep-mac must be a MAC address like 02:00:00:00:00:01");
            }
            req.vtep_mac = *mac;
        } else if (key == "crosssubnet") {
            const std::string& v = value();
            if (req.crosssubnet) {
                throw duplicate(key, v);
            }
            if (v == "on") {
                req.crosssubnet = true;
            } else if (v == "off") {
                req.crosssubnet = false;
            } else {
                throw invalid_argument(v, "crosssubnet must be \"on\" or \"off\"");
            }
        } else if (!take_dev(args, i, dev)) {
            throw garbage("dev", key);
        }
    }
    if (!dev) {
        throw UsageError("Not enough information: \"dev\" argument is required.");
    }
    req.dev = DevRef::by_name(*dev);
    if (!req.has_settings()) {
        throw UsageError("Error: nothing to change on \"" + *dev + "\", see \"weft link help\".");
    }
    return req;
}

std::string format_device(const DeviceInfo& dev, int stats_level,
                          const IndexToName& index_to_name) {
    const DeviceSettings& s = dev.settings;
    std::ostringstream out;
    out << dev.ifindex << ": " << dev.ifname << ": vni " << s.vni << " port " << s.port << " mtu "
        << s.mtu << "\n    ";
    if (s.local4) {
        out << "local " << to_string(*s.local4) << ' ';
    }
    if (s.local6) {
        out << "local " << to_string(*s.local6) << ' ';
    }
    if (!s.local4 && !s.local6) {
        out << "local any ";
    }
    out << "underlay " << underlay_name(s.underlay, index_to_name);
    if (s.vtep_mac) {
        out << " vtep-mac " << mac_to_string(*s.vtep_mac);
    }
    out << " crosssubnet " << (s.crosssubnet ? "on" : "off") << " generation " << s.generation
        << "\n";
    if (stats_level > 0 && dev.stats) {
        print_counters(out, *dev.stats);
        std::string reasons;
        for (unsigned r = 0; r < drop_reason_count; ++r) {
            if (dev.stats->drops[r] != 0 || stats_level > 1) {
                reasons += std::string(" ") + drop_reason_name(r) + " " +
                           std::to_string(dev.stats->drops[r]);
            }
        }
        if (!reasons.empty()) {
            out << "    drops:" << reasons << "\n";
        }
    }
    return out.str();
}

nlohmann::ordered_json device_json(const DeviceInfo& dev, bool with_stats,
                                   const IndexToName& index_to_name) {
    const DeviceSettings& s = dev.settings;
    nlohmann::ordered_json j;
    j["ifindex"] = dev.ifindex;
    j["ifname"] = dev.ifname;
    j["vni"] = s.vni;
    j["port"] = s.port;
    j["mtu"] = s.mtu;
    j["local4"] = s.local4 ? nlohmann::ordered_json(to_string(*s.local4)) : nullptr;
    j["local6"] = s.local6 ? nlohmann::ordered_json(to_string(*s.local6)) : nullptr;
    std::optional<std::string> underlay;
    if (s.underlay != 0) {
        underlay = index_to_name(s.underlay);
    }
    j["underlay"] = underlay ? nlohmann::ordered_json(*underlay) : nullptr;
    j["underlay_ifindex"] = s.underlay;
    j["vtep_mac"] = s.vtep_mac ? nlohmann::ordered_json(mac_to_string(*s.vtep_mac)) : nullptr;
    j["crosssubnet"] = s.crosssubnet;
    j["generation"] = s.generation;
    if (with_stats && dev.stats) {
        const DeviceStats& st = *dev.stats;
        nlohmann::ordered_json stats = counters_json(st);
        nlohmann::ordered_json drops = nlohmann::ordered_json::object();
        for (unsigned r = 0; r < drop_reason_count; ++r) {
            drops[drop_reason_name(r)] = st.drops[r];
        }
        stats["drops"] = drops;
        j["stats"] = stats;
    }
    return j;
}

} // namespace weft::cli
