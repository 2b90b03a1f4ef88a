// weftd's settings: command-line flags and a config file of the same names
// ("name = value" lines; flags win), read with Boost.Program_options.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <weft/addr.hpp>

#include "host_port.hpp"
#include "model.hpp"

namespace weft {

enum class DatastoreKind { embedded, etcd };

struct Config {
    std::string config_file;         // --config, empty for none
    std::string node_name;           // --node-name, default: the host name
    std::string device = "weft0";    // --device
    std::string underlay_dev;        // --underlay-dev, default: the default route's device
    std::optional<IpAddr> node_addr; // --node-addr, default: underlay-dev's first address
    Encap encap = Encap::vxlan;      // --encap
    bool crosssubnet = false;        // --crosssubnet
    std::uint32_t vni = 1;           // --vni
    std::uint16_t port = 4789;       // --port

    DatastoreKind datastore = DatastoreKind::embedded; // --datastore
    std::vector<HostPort> etcd_endpoints;              // --etcd-endpoints host:port,...
    std::string etcd_prefix = "/weft/v1/";             // --etcd-prefix
    std::chrono::seconds lease_ttl{15};                // --lease-ttl

    Prefix cluster_cidr4;                // --cluster-cidr (10.244.0.0/16)
    std::optional<Prefix> cluster_cidr6; // --cluster-cidr6
    unsigned block_len4 = 24;            // --block-len
    unsigned block_len6 = 64;            // --block-len6

    std::string state_dir = "/var/lib/weft";          // --state-dir
    std::string socket_path = "/run/weft/weftd.sock"; // --socket
    HostPort http_listen{"127.0.0.1", 9603};          // --http-listen
    bool nat = true;                                  // --nat
    std::chrono::seconds ipam_cooldown{30};           // --ipam-cooldown
    std::chrono::seconds resync_interval{60};         // --resync-interval
    std::string log_level = "info";                   // --log-level
};

// A bad setting: what() names the option and says why, for example
//   "--cluster-cidr: 10.244.0.1/16 has host bits set".
class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// What parse_args() found on the command line besides settings.
struct Invocation {
    Config config;
    bool help = false;
    bool version = false;
};

// Parses argv (and the --config file it names), checks every setting.
// Throws ConfigError.
Invocation parse_args(int argc, const char* const argv[]);

// The --help text: every option with its default and meaning.
std::string usage();

} // namespace weft
