// What the objects of the weft tool share: argument words, error texts, the
// device a command acts on, counters and JSON output.
#include <algorithm>
#include <ostream>

#include <net/if.h>

#include "cli.hpp"

namespace weft::cli {

UsageError incomplete() {
    return UsageError("Command line is not complete. Try option \"help\"");
}

UsageError duplicate(const std::string& key, const std::string& value) {
    return UsageError("Error: duplicate \"" + key + "\": \"" + value + "\" is the second value.");
}

UsageError garbage(const std::string& key, const std::string& value) {
    return UsageError("Error: either \"" + key + "\" is duplicate, or \"" + value +
                      "\" is a garbage.");
}

void check_ifname(const std::string& name, const std::string& keyword) {
    if (name.empty() || name.size() >= IFNAMSIZ || name.find('/') != std::string::npos ||
        name.find_first_of(" \t\n:") != std::string::npos) {
        throw invalid_argument(name, "\"" + keyword + "\" not a valid ifname");
    }
}

bool wants_help(Args args) {
    return std::find(args.begin(), args.end(), "help") != args.end();
}

IpAddr ip_arg(const std::string& text, const std::string& what) {
    auto addr = parse_ip(text);
    if (!addr) {
        throw invalid_argument(text, what);
    }
    return *addr;
}

int run_object(Context& ctx, Args args, std::span<const Command> table, Handler show,
               const std::string& object) {
    if (args.empty()) {
        return show(ctx, args);
    }
    const Command& cmd = find_command(table, args[0], "Command", "weft " + object + " help");
    return cmd.handler(ctx, args.subspan(1));
}

DevRef target_device(Context& ctx, const std::optional<std::string>& name,
                     const std::string& keyword) {
    if (name) {
        if (!ctx.env().name_to_index(*name)) {
            throw no_such_device(*name);
        }
        return DevRef::by_name(*name);
    }
    auto devices = ctx.kernel().dev_dump();
    if (devices.size() == 1) {
        return DevRef::by_name(devices[0].ifname);
    }
    if (devices.empty()) {
        throw UsageError("Error: no weft device in this network namespace (create one with \"ip "
                         "link add weft0 type weft\").");
    }
    std::string names;
    for (const auto& d : devices) {
        names += (names.empty() ? "" : ", ") + d.ifname;
    }
    throw UsageError("Error: several weft devices (" + names + "), name one with \"" + keyword +
                     " DEV\".");
}

std::vector<DevRef> shown_devices(Context& ctx, const std::optional<std::string>& name) {
    if (name) {
        if (!ctx.env().name_to_index(*name)) {
            throw no_such_device(*name);
        }
        return {DevRef::by_name(*name)};
    }
    std::vector<DevRef> out;
    for (const auto& d : ctx.kernel().dev_dump()) {
        out.push_back(DevRef::by_name(d.ifname));
    }
    return out;
}

// Columns of the -s block, each as wide as its widest cell.
void print_counters(std::ostream& out, const DeviceStats& st) {
    const char* labels[] = {"bytes", "packets", "drops"};
    const std::uint64_t rx[] = {st.rx_bytes, st.rx_packets, st.rx_drops};
    const std::uint64_t tx[] = {st.tx_bytes, st.tx_packets, st.tx_drops};
    std::size_t width[3];
    for (int c = 0; c < 3; ++c) {
        width[c] = std::max({std::string_view(labels[c]).size(), std::to_string(rx[c]).size(),
                             std::to_string(tx[c]).size()});
    }
    auto row = [&](const char* lead, auto cell) {
        out << lead;
        for (int c = 0; c < 3; ++c) {
            std::string text = cell(c);
            out << ' ' << std::string(width[c] - text.size(), ' ') << text;
        }
        out << '\n';
    };
    row("    RX:", [&](int c) { return std::string(labels[c]); });
    row("       ", [&](int c) { return std::to_string(rx[c]); });
    row("    TX:", [&](int c) { return std::string(labels[c]); });
    row("       ", [&](int c) { return std::to_string(tx[c]); });
}

nlohmann::ordered_json counters_json(const DeviceStats& st) {
    nlohmann::ordered_json stats;
    stats["rx"] = {{"bytes", st.rx_bytes}, {"packets", st.rx_packets}, {"drops", st.rx_drops}};
    stats["tx"] = {{"bytes", st.tx_bytes}, {"packets", st.tx_packets}, {"drops", st.tx_drops}};
    return stats;
}

void print_json(Context& ctx, const nlohmann::ordered_json& value) {
    ctx.out() << value.dump(ctx.options().pretty ? 4 : -1) << "\n";
}

} // namespace weft::cli
