// weftd's settings: defaults, flags, the config file, and the errors that
// name the option at fault.
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <gtest/gtest.h>

#include "config.hpp"

namespace weft {
namespace {

Invocation parse(std::vector<std::string> args) {
    args.insert(args.begin(), "weftd");
    std::vector<const char*> argv;
    for (const auto& a : args) {
        argv.push_back(a.c_str());
    }
    return parse_args(static_cast<int>(argv.size()), argv.data());
}

// The message parse() throws for `args`, or "" when it accepts them.
std::string error_of(std::vector<std::string> args) {
    try {
        parse(std::move(args));
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

TEST(WeftdConfig, Defaults) {
    auto c = parse({"--node-name", "node-1"}).config;
    EXPECT_EQ(c.node_name, "node-1");
    EXPECT_EQ(c.device, "weft0");
    EXPECT_EQ(c.encap, Encap::vxlan);
    EXPECT_EQ(c.vni, 1u);
    EXPECT_EQ(c.port, 4789);
    EXPECT_EQ(c.datastore, DatastoreKind::embedded);
    EXPECT_EQ(to_string(c.cluster_cidr4), "10.244.0.0/16");
    EXPECT_EQ(c.block_len4, 24u);
    EXPECT_FALSE(c.cluster_cidr6);
    EXPECT_EQ(c.socket_path, "/run/weft/weftd.sock");
    EXPECT_EQ(c.state_dir, "/var/lib/weft");
    EXPECT_TRUE(c.nat);
    EXPECT_EQ(c.lease_ttl.count(), 15);
}

TEST(WeftdConfig, NodeNameDefaultsToHostName) {
    char host[256] = {};
    ASSERT_EQ(gethostname(host, sizeof(host) - 1), 0);
    std::string expected = host;
    bool valid =
        expected.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-.") == std::string::npos;
    if (valid) {
        EXPECT_EQ(parse({}).config.node_name, expected);
    } else {
        EXPECT_NE(error_of({}).find("--node-name"), std::string::npos);
    }
}

TEST(WeftdConfig, EtcdSettings) {
    auto c =
        parse({"--node-name=n2", "--datastore=etcd", "--etcd-endpoints=127.0.0.1:2379,[::1]:2379",
               "--lease-ttl=5", "--cluster-cidr6=fd00:244::/48", "--block-len6=64", "--encap=ipip"})
            .config;
    EXPECT_EQ(c.datastore, DatastoreKind::etcd);
    EXPECT_EQ(c.etcd_endpoints, (std::vector<HostPort>{{"127.0.0.1", 2379}, {"::1", 2379}}));
    EXPECT_EQ(c.etcd_endpoints[1].to_string(), "[::1]:2379");
    EXPECT_EQ(c.lease_ttl.count(), 5);
    ASSERT_TRUE(c.cluster_cidr6);
    EXPECT_EQ(to_string(*c.cluster_cidr6), "fd00:244::/48");
    EXPECT_EQ(c.encap, Encap::ipip);
    EXPECT_EQ(parse({"--node-name=n", "--http-listen=[::1]:9603"}).config.http_listen,
              (HostPort{"::1", 9603}));
}

TEST(WeftdConfig, FileAndFlagsFlagsWin) {
    char dir[] = "/tmp/weftd-config-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    std::string path = std::string(dir) + "/weftd.conf";
    {
        std::ofstream f(path);
        f << "# a comment\nnode-name = from-file\nencap = none\nvni = 4096\nnat = false\n";
    }
    auto c = parse({"--config", path, "--vni", "7"}).config;
    EXPECT_EQ(c.node_name, "from-file");
    EXPECT_EQ(c.encap, Encap::none);
    EXPECT_EQ(c.vni, 7u); // the flag wins over the file
    EXPECT_FALSE(c.nat);
    EXPECT_EQ(c.config_file, path);

    {
        std::ofstream f(path);
        f << "node-name = n1\nno-such-option = 1\n";
    }
    EXPECT_NE(error_of({"--config", path}).find("no-such-option"), std::string::npos);
    std::remove(path.c_str());
    rmdir(dir);
    EXPECT_EQ(error_of({"--config", path}), "--config: cannot read " + path);
}

TEST(WeftdConfig, ErrorsNameTheOption) {
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"--node-name=Node_1"},
         "--node-name: 'Node_1' may hold only lower-case letters, digits, '-' and '.'"},
        {{"--node-name=n", "--encap=gre"}, "--encap: 'gre' is not one of vxlan, ipip, none"},
        {{"--node-name=n", "--vni=0"}, "--vni: 0 is out of range 1-16777215"},
        {{"--node-name=n", "--vni=16777216"}, "--vni: 16777216 is out of range 1-16777215"},
        {{"--node-name=n", "--port=http"}, "--port: 'http' is not a number"},
        {{"--node-name=n", "--datastore=consul"},
         "--datastore: 'consul' is not one of embedded, etcd"},
        {{"--node-name=n", "--datastore=etcd"}, "--etcd-endpoints: required with --datastore etcd"},
        {{"--node-name=n", "--etcd-endpoints=localhost"},
         "--etcd-endpoints: 'localhost' is not host:port"},
        {{"--node-name=n", "--cluster-cidr=10.244.0.1/16"},
         "--cluster-cidr: 10.244.0.1/16 has host bits set"},
        {{"--node-name=n", "--cluster-cidr=fd00::/48"},
         "--cluster-cidr: fd00::/48 is not an IPv4 prefix"},
        {{"--node-name=n", "--cluster-cidr=10.244.0.0/16", "--block-len=8"},
         "--block-len: /8 is shorter than the cluster's 10.244.0.0/16"},
        {{"--node-name=n", "--node-addr=fd00::1", "--encap=ipip"},
         "--encap: ipip needs an IPv4 --node-addr"},
        {{"--node-name=n", "--node-addr=10.1.1"}, "--node-addr: '10.1.1' is not an IP address"},
        {{"--node-name=n", "--socket=weftd.sock"}, "--socket: must be an absolute path"},
        {{"--node-name=n", "--http-listen=localhost:9603"},
         "--http-listen: 'localhost:9603' is not IP-address:port"},
        {{"--node-name=n", "--http-listen=127.0.0.1:http"},
         "--http-listen: '127.0.0.1:http' is not IP-address:port (port 1-65535)"},
        {{"--node-name=n", "--etcd-endpoints=10.0.0.1:2379,10.0.0.2:99999"},
         "--etcd-endpoints: '10.0.0.2:99999' is not host:port (port 1-65535)"},
        {{"--node-name=n", "--etcd-endpoints=etcd1:client"},
         "--etcd-endpoints: 'etcd1:client' is not host:port (port 1-65535)"},
        {{"--node-name=n", "--log-level=loud"},
         "--log-level: 'loud' is not one of trace, debug, info, warn, error"},
        {{"--node-name=n", "--device=averyveryverylongname"},
         "--device: an interface name has 1-15 characters"},
    };
    for (const auto& [args, message] : cases) {
        EXPECT_EQ(error_of(args), message) << args.back();
    }
    EXPECT_NE(error_of({"--bogus"}).find("bogus"), std::string::npos);
}

TEST(WeftdConfig, HelpListsEveryOption) {
    EXPECT_TRUE(parse({"--help"}).help);
    auto text = usage();
    for (const char* option :
         {"--node-name",     "--device",          "--underlay-dev", "--node-addr",
          "--encap",         "--crosssubnet",     "--vni",          "--port",
          "--datastore",     "--etcd-endpoints",  "--etcd-prefix",  "--lease-ttl",
          "--cluster-cidr",  "--cluster-cidr6",   "--block-len",    "--block-len6",
          "--state-dir",     "--socket",          "--http-listen",  "--nat",
          "--ipam-cooldown", "--resync-interval", "--log-level",    "--config"}) {
        EXPECT_NE(text.find(option), std::string::npos) << option;
    }
}

} // namespace
} // namespace weft
