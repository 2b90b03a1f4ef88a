#include "config.hpp"

#include <charconv>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include <boost/program_options.hpp>

namespace po = boost::program_options;

namespace weft {

namespace {

po::options_description describe() {
    po::options_description d("weftd options (also \"name = value\" lines in --config)");
    // clang-format off
    d.add_options()
        ("help,h", "print this help and exit")
        ("version,V", "print the version and exit")
        ("config,c", po::value<std::string>(), "read settings from this file; flags win")
        ("node-name", po::value<std::string>(), "this node's name in the cluster (default: the host name)")
        ("device", po::value<std::string>()->default_value("weft0"), "the weft device weftd manages")
        ("underlay-dev", po::value<std::string>(), "the device tunnels leave by (default: the default route's)")
        ("node-addr", po::value<std::string>(), "this node's underlay address (default: underlay-dev's first)")
        ("encap", po::value<std::string>()->default_value("vxlan"), "how other nodes reach this one: vxlan, ipip or none (a pair that differs uses the stronger)")
        ("crosssubnet", po::value<bool>()->default_value(false), "encapsulate only towards nodes on another subnet")
        ("vni", po::value<std::string>()->default_value("1"), "VXLAN network identifier, 1-16777215")
        ("port", po::value<std::string>()->default_value("4789"), "VXLAN UDP port")
        ("datastore", po::value<std::string>()->default_value("embedded"), "embedded (one node, SQLite) or etcd")
        ("etcd-endpoints", po::value<std::string>(), "etcd members, host:port[,host:port...] (with --datastore etcd)")
        ("etcd-prefix", po::value<std::string>()->default_value("/weft/v1/"), "the key prefix of weft's data in etcd")
        ("lease-ttl", po::value<std::string>()->default_value("15"), "seconds a silent node stays registered")
        ("cluster-cidr", po::value<std::string>()->default_value("10.244.0.0/16"), "the cluster's IPv4 pod network")
        ("cluster-cidr6", po::value<std::string>(), "the cluster's IPv6 pod network (dual stack)")
        ("block-len", po::value<std::string>()->default_value("24"), "prefix length of a node's IPv4 pod block")
        ("block-len6", po::value<std::string>()->default_value("64"), "prefix length of a node's IPv6 pod block")
        ("state-dir", po::value<std::string>()->default_value("/var/lib/weft"), "where weftd keeps its state")
        ("socket", po::value<std::string>()->default_value("/run/weft/weftd.sock"), "the local API socket (weft-cni)")
        ("http-listen", po::value<std::string>()->default_value("127.0.0.1:9603"), "address:port of /healthz, /readyz and /metrics")
        ("nat", po::value<bool>()->default_value(true), "masquerade pod traffic that leaves the cluster")
        ("ipam-cooldown", po::value<std::string>()->default_value("30"), "seconds before a released pod address is reused")
        ("resync-interval", po::value<std::string>()->default_value("60"), "seconds between full kernel reconciles")
        ("log-level", po::value<std::string>()->default_value("info"), "trace, debug, info, warn, error");
    // clang-format on
    return d;
}

[[noreturn]] void bad(const std::string& option, const std::string& why) {
    throw ConfigError("--" + option + ": " + why);
}

std::uint64_t number(const po::variables_map& vm, const std::string& option, std::uint64_t min,
                     std::uint64_t max) {
    const auto& text = vm[option].as<std::string>();
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) {
        bad(option, "'" + text + "' is not a number");
    }
    if (value < min || value > max) {
        bad(option, text + " is out of range " + std::to_string(min) + "-" + std::to_string(max));
    }
    return value;
}

Prefix network(const std::string& option, const std::string& text, bool v4) {
    auto prefix = parse_prefix(text);
    if (!prefix) {
        bad(option, "'" + text + "' is not a prefix (address/length)");
    }
    if (is_ipv4(prefix->addr) != v4) {
        bad(option, text + " is not an IPv" + std::string(v4 ? "4" : "6") + " prefix");
    }
    if (host_bits_set(*prefix)) {
        bad(option, text + " has host bits set");
    }
    return *prefix;
}

std::string host_name() {
    char name[256] = {};
    if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') {
        throw ConfigError("--node-name: not given and the host name is unknown");
    }
    return name;
}

// A node name is a key in the datastore and a label value: DNS-1123 style.
void check_node_name(const std::string& name) {
    if (name.empty() || name.size() > 253) {
        bad("node-name", "must be 1-253 characters");
    }
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
        if (!ok) {
            bad("node-name",
                "'" + name + "' may hold only lower-case letters, digits, '-' and '.'");
        }
    }
}

// "host:port" or "[v6]:port"; with `ip_only` the host must be an address.
HostPort host_port(const char* option, const std::string& item, bool ip_only) {
    const char* form = ip_only ? "IP-address:port" : "host:port";
    auto colon = item.rfind(':');
    if (colon == std::string::npos || colon == 0) {
        bad(option, "'" + item + "' is not " + form);
    }
    HostPort hp;
    hp.host = item.substr(0, colon);
    if (hp.host.size() > 2 && hp.host.front() == '[' && hp.host.back() == ']') {
        hp.host = hp.host.substr(1, hp.host.size() - 2);
    }
    auto port = std::string_view(item).substr(colon + 1);
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), hp.port);
    if (ec != std::errc() || end != port.data() + port.size() || hp.port == 0) {
        bad(option, "'" + item + "' is not " + form + " (port 1-65535)");
    }
    if (ip_only && !parse_ip(hp.host)) {
        bad(option, "'" + item + "' is not " + form);
    }
    return hp;
}

std::vector<HostPort> endpoints(const std::string& text) {
    std::vector<HostPort> out;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        out.push_back(host_port("etcd-endpoints", item, false));
    }
    if (out.empty()) {
        bad("etcd-endpoints", "no endpoint given");
    }
    return out;
}

Config build(const po::variables_map& vm) {
    Config c;
    auto str = [&](const char* option) {
        return vm[option].as<std::string>();
    };

    if (vm.count("config")) {
        c.config_file = str("config");
    }
    c.node_name = vm.count("node-name") ? str("node-name") : host_name();
    check_node_name(c.node_name);
    c.device = str("device");
    if (c.device.empty() || c.device.size() > 15) {
        bad("device", "an interface name has 1-15 characters");
    }
    if (vm.count("underlay-dev")) {
        c.underlay_dev = str("underlay-dev");
    }
    if (vm.count("node-addr")) {
        c.node_addr = parse_ip(str("node-addr"));
        if (!c.node_addr) {
            bad("node-addr", "'" + str("node-addr") + "' is not an IP address");
        }
    }
    auto encap = parse_encap(str("encap"));
    if (!encap) {
        bad("encap", "'" + str("encap") + "' is not one of vxlan, ipip, none");
    }
    c.encap = *encap;
    if (c.encap == Encap::ipip && c.node_addr && !is_ipv4(*c.node_addr)) {
        bad("encap", "ipip needs an IPv4 --node-addr");
    }
    c.crosssubnet = vm["crosssubnet"].as<bool>();
    c.vni = static_cast<std::uint32_t>(number(vm, "vni", 1, (1u << 24) - 1));
    c.port = static_cast<std::uint16_t>(number(vm, "port", 1, 65535));

    const auto& store = str("datastore");
    if (store == "embedded") {
        c.datastore = DatastoreKind::embedded;
    } else if (store == "etcd") {
        c.datastore = DatastoreKind::etcd;
    } else {
        bad("datastore", "'" + store + "' is not one of embedded, etcd");
    }
    if (vm.count("etcd-endpoints")) {
        c.etcd_endpoints = endpoints(str("etcd-endpoints"));
    }
    if (c.datastore == DatastoreKind::etcd && c.etcd_endpoints.empty()) {
        bad("etcd-endpoints", "required with --datastore etcd");
    }
    c.etcd_prefix = str("etcd-prefix");
    if (c.etcd_prefix.empty() || c.etcd_prefix.back() != '/') {
        bad("etcd-prefix", "must end with '/'");
    }
    c.lease_ttl = std::chrono::seconds(number(vm, "lease-ttl", 2, 3600));

    c.cluster_cidr4 = network("cluster-cidr", str("cluster-cidr"), true);
    c.block_len4 = static_cast<unsigned>(number(vm, "block-len", 1, 30));
    if (c.block_len4 < c.cluster_cidr4.len) {
        bad("block-len", "/" + std::to_string(c.block_len4) + " is shorter than the cluster's " +
                             to_string(c.cluster_cidr4));
    }
    if (vm.count("cluster-cidr6")) {
        c.cluster_cidr6 = network("cluster-cidr6", str("cluster-cidr6"), false);
    }
    c.block_len6 = static_cast<unsigned>(number(vm, "block-len6", 64, 126));
    if (c.cluster_cidr6 && c.block_len6 < c.cluster_cidr6->len) {
        bad("block-len6", "/" + std::to_string(c.block_len6) + " is shorter than the cluster's " +
                              to_string(*c.cluster_cidr6));
    }

    c.state_dir = str("state-dir");
    c.socket_path = str("socket");
    for (const char* option : {"state-dir", "socket"}) {
        if (str(option).empty() || str(option)[0] != '/') {
            bad(option, "must be an absolute path");
        }
    }
    c.http_listen = host_port("http-listen", str("http-listen"), true);
    c.nat = vm["nat"].as<bool>();
    c.ipam_cooldown = std::chrono::seconds(number(vm, "ipam-cooldown", 0, 86400));
    c.resync_interval = std::chrono::seconds(number(vm, "resync-interval", 1, 86400));
    c.log_level = str("log-level");
    for (const char* level : {"trace", "debug", "info", "warn", "error"}) {
        if (c.log_level == level) {
            return c;
        }
    }
    bad("log-level", "'" + c.log_level + "' is not one of trace, debug, info, warn, error");
}

} // namespace

std::string usage() {
    std::ostringstream out;
    out << "Usage: weftd [OPTIONS]\n\n" << describe();
    return out.str();
}

Invocation parse_args(int argc, const char* const argv[]) {
    auto desc = describe();
    po::variables_map vm;
    try {
        po::store(po::parse_command_line(argc, argv, desc), vm);
        if (vm.count("config")) {
            const auto& path = vm["config"].as<std::string>();
            std::ifstream file(path);
            if (!file) {
                bad("config", "cannot read " + path);
            }
            // Values already set by flags are kept: flags win.
            po::store(po::parse_config_file(file, desc), vm);
        }
        po::notify(vm);
    } catch (const po::error& e) {
        throw ConfigError(e.what());
    }
    Invocation inv;
    inv.help = vm.count("help") > 0;
    inv.version = vm.count("version") > 0;
    if (!inv.help && !inv.version) {
        inv.config = build(vm);
    }
    return inv;
}

} // namespace weft
