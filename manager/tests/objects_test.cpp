// weft node, route and endpoint without a kernel: grammar, requests, the
// device a command acts on, output and errors.
#include "cli_fixture.hpp"

namespace weft::cli {
namespace {

using namespace test;

IpAddr ip(const char* text) {
    return *parse_ip(text);
}

Prefix prefix(const char* text) {
    return *parse_prefix(text);
}

template <typename F>
std::string usage_error(F&& f) {
    try {
        f();
    } catch (const UsageError& e) {
        return e.what();
    }
    return "(accepted)";
}

using Words = std::vector<std::string>;

// ---- node -------------------------------------------------------------------

class NodeCli : public Cli {
protected:
    NodeCli() {
        NodeInfo a;
        a.ifindex = 4;
        a.addr = ip("10.0.0.2");
        a.encap = WEFT_ENCAP_VXLAN;
        a.vtep_mac = Mac{0x02, 0, 0, 0, 0, 0x02};
        a.stats = some_stats();
        NodeInfo b;
        b.ifindex = 4;
        b.addr = ip("2001:db8::3");
        b.encap = WEFT_ENCAP_NONE;
        b.stats = DeviceStats{};
        state->nodes["weft0"] = {a, b};
    }
};

TEST_F(NodeCli, AddSendsEveryAttribute) {
    EXPECT_EQ(run({"node", "add", "10.0.0.9", "dev", "weft0", "encap", "ipip", "vtep-mac",
                   "02:00:00:00:00:09"}),
              0)
        << err.str();
    EXPECT_EQ(out.str() + err.str(), "");
    ASSERT_EQ(state->node_adds.size(), 1u);
    NodeAddRequest expected{DevRef::by_name("weft0"), ip("10.0.0.9"), WEFT_ENCAP_IPIP,
                            Mac{2, 0, 0, 0, 0, 9}, false};
    EXPECT_EQ(state->node_adds[0], expected);
}

TEST_F(NodeCli, AddDefaultsAndReplace) {
    EXPECT_EQ(run({"node", "add", "2001:db8::9", "dev", "weft0"}), 0);
    EXPECT_EQ(run({"node", "replace", "2001:db8::9", "dev", "weft0", "encap", "none"}), 0);
    EXPECT_EQ(run({"node", "add", "dev", "weft0", "2001:db8::9", "replace"}), 0);
    ASSERT_EQ(state->node_adds.size(), 3u);
    EXPECT_EQ(state->node_adds[0].addr, ip("2001:db8::9"));
    EXPECT_FALSE(state->node_adds[0].encap);
    EXPECT_FALSE(state->node_adds[0].vtep_mac);
    EXPECT_FALSE(state->node_adds[0].replace);
    EXPECT_TRUE(state->node_adds[1].replace);
    EXPECT_EQ(state->node_adds[1].encap, WEFT_ENCAP_NONE);
    EXPECT_TRUE(state->node_adds[2].replace);
}

TEST_F(NodeCli, Del) {
    EXPECT_EQ(run({"node", "del", "10.0.0.2", "dev", "weft0"}), 0);
    ASSERT_EQ(state->node_dels.size(), 1u);
    EXPECT_EQ(state->node_dels[0].first, "weft0");
    EXPECT_EQ(state->node_dels[0].second, ip("10.0.0.2"));
}

TEST_F(NodeCli, DevMayBeLeftOutWithOneDevice) {
    EXPECT_EQ(run({"node", "add", "10.0.0.9"}), 0) << err.str();
    ASSERT_EQ(state->node_adds.size(), 1u);
    EXPECT_EQ(state->node_adds[0].dev.ifname, "weft0");

    state->devices.push_back(weft1());
    EXPECT_EQ(run({"node", "add", "10.0.0.9"}), 1);
    EXPECT_EQ(err.str(),
              "Error: several weft devices (weft0, weft1), name one with \"dev DEV\".\n");
    state->devices.clear();
    EXPECT_EQ(run({"node", "del", "10.0.0.9"}), 1);
    EXPECT_EQ(err.str(), "Error: no weft device in this network namespace (create one with \"ip "
                         "link add weft0 type weft\").\n");
    EXPECT_EQ(state->node_adds.size(), 1u);
    EXPECT_TRUE(state->node_dels.empty());
}

TEST_F(NodeCli, ShowText) {
    EXPECT_EQ(run({"node", "show"}), 0) << err.str();
    EXPECT_EQ(out.str(), "10.0.0.2 dev weft0 encap vxlan vtep-mac 02:00:00:00:00:02\n"
                         "2001:db8::3 dev weft0 encap none\n");
    EXPECT_EQ(run({"node"}), 0);
    EXPECT_EQ(run({"node", "show", "2001:db8::3"}), 0);
    EXPECT_EQ(out.str(), "2001:db8::3 dev weft0 encap none\n");
    EXPECT_EQ(run({"node", "show", "dev", "weft0", "10.0.0.7"}), 0);
    EXPECT_EQ(out.str(), "");
}

TEST_F(NodeCli, ShowEveryDeviceWithoutDev) {
    state->devices.push_back(weft1());
    NodeInfo c;
    c.ifindex = 5;
    c.addr = ip("10.1.0.1");
    c.encap = 7; // newer than this tool
    state->nodes["weft1"] = {c};
    EXPECT_EQ(run({"node", "show"}), 0);
    EXPECT_NE(out.str().find("10.1.0.1 dev weft1 encap 7\n"), std::string::npos) << out.str();
    EXPECT_EQ(run({"node", "show", "dev", "weft1"}), 0);
    EXPECT_EQ(out.str(), "10.1.0.1 dev weft1 encap 7\n");
}

TEST_F(NodeCli, ShowStats) {
    EXPECT_EQ(run({"-s", "node", "show", "10.0.0.2"}), 0);
    EXPECT_EQ(out.str(), "10.0.0.2 dev weft0 encap vxlan vtep-mac 02:00:00:00:00:02\n"
                         "    RX:  bytes packets drops\n"
                         "        123456     100     2\n"
                         "    TX:  bytes packets drops\n"
                         "        654321     200     1\n");
}

TEST_F(NodeCli, ShowJson) {
    EXPECT_EQ(run({"-j", "node", "show"}), 0);
    auto j = nlohmann::json::parse(out.str());
    ASSERT_TRUE(j.is_array());
    ASSERT_EQ(j.size(), 2u);
    EXPECT_EQ(j[0], nlohmann::json::parse(R"({"addr": "10.0.0.2", "dev": "weft0", "encap": "vxlan",
                                               "vtep_mac": "02:00:00:00:00:02"})"));
    EXPECT_TRUE(j[1]["vtep_mac"].is_null());
    EXPECT_FALSE(j[0].contains("stats"));

    EXPECT_EQ(run({"-j", "-s", "node", "show"}), 0);
    j = nlohmann::json::parse(out.str());
    EXPECT_EQ(j[0]["stats"]["rx"]["bytes"], 123456);
    EXPECT_EQ(j[0]["stats"]["tx"]["packets"], 200);
    EXPECT_EQ(j[0]["stats"]["tx"]["drops"], 1);

    state->nodes.clear();
    EXPECT_EQ(run({"-j", "node", "show"}), 0);
    EXPECT_EQ(out.str(), "[]\n");
}

TEST(NodeGrammar, Errors) {
    const std::pair<Words, std::string> cases[] = {
        {{"10.0.0", "dev", "weft0"},
         "Error: argument \"10.0.0\" is wrong: node address must be an IPv4 or IPv6 address"},
        {{"bogus", "dev", "weft0"},
         "Error: argument \"bogus\" is wrong: node address must be an IPv4 or IPv6 address"},
        {{"10.0.0.2", "encap", "gre"},
         "Error: argument \"gre\" is wrong: encap must be vxlan, ipip or none"},
        {{"10.0.0.2", "vtep-mac", "02:00:00:00:00"},
         "Error: argument \"02:00:00:00:00\" is wrong: vtep-mac must be a MAC address like "
         "02:00:00:00:00:01"},
        {{"10.0.0.2", "vtep-mac"}, "Command line is not complete. Try option \"help\""},
        {{"dev", "weft0"}, "Not enough information: the node address is required."},
        {{"10.0.0.2", "10.0.0.3"},
         "Error: either \"ADDR\" is duplicate, or \"10.0.0.3\" is a garbage."},
        {{"10.0.0.2", "dev", "weft0", "dev", "weft1"},
         "Error: duplicate \"dev\": \"weft1\" is the second value."},
        {{"10.0.0.2", "encap", "ipip", "encap", "none"},
         "Error: duplicate \"encap\": \"none\" is the second value."},
        {{"10.0.0.2", "dev", "a-name-that-is-far-too-long"},
         "Error: argument \"a-name-that-is-far-too-long\" is wrong: \"dev\" not a valid ifname"},
    };
    for (const auto& [args, message] : cases) {
        EXPECT_EQ(usage_error([&] { parse_node_args(args, Verb::Add); }), message)
            << testing::PrintToString(args);
    }
    // del takes the address only.
    EXPECT_EQ(usage_error([] {
                  parse_node_args(Words{"10.0.0.2", "encap", "ipip"}, Verb::Del);
              }),
              "Error: either \"ADDR\" is duplicate, or \"encap\" is a garbage.");
    EXPECT_EQ(usage_error([] {
                  parse_node_args(Words{"replace", "10.0.0.2"}, Verb::Del);
              }),
              "Error: argument \"replace\" is wrong: node address must be an IPv4 or IPv6 "
              "address");
    EXPECT_EQ(usage_error([] { parse_node_args(Words{}, Verb::Show); }), "(accepted)");
}

TEST_F(NodeCli, UsageErrorsSendNothing) {
    EXPECT_EQ(run({"node", "add", "10.0.0.2", "dev", "weft0", "vtep-mac", "zz"}), 1);
    EXPECT_EQ(run({"node", "add", "10.0.0.2", "dev", "nosuch"}), 1);
    EXPECT_EQ(err.str(), "Cannot find device \"nosuch\"\n");
    EXPECT_EQ(run({"node", "bogus"}), 1);
    EXPECT_EQ(err.str(), "Command \"bogus\" is unknown, try \"weft node help\".\n");
    EXPECT_EQ(connects, 0);
}

TEST_F(NodeCli, KernelErrors) {
    state->fail = Error(EEXIST, "node exists (WEFT_A_REPLACE updates it)", "WEFT_A_NODE", "");
    EXPECT_EQ(run({"node", "add", "10.0.0.2", "dev", "weft0"}), 2);
    EXPECT_EQ(err.str(), "Error: File exists: node exists (WEFT_A_REPLACE updates it) (attribute "
                         "WEFT_A_NODE)\n");
    state->fail = Error(ENODEV, "", "", "");
    EXPECT_EQ(run({"node", "del", "10.0.0.2", "dev", "weft0"}), 1);
    EXPECT_EQ(err.str(), "Cannot find device \"weft0\"\n");
}

TEST_F(NodeCli, Help) {
    for (Words argv :
         {Words{"node", "help"}, Words{"node", "add", "help"}, Words{"node", "show", "help"}}) {
        EXPECT_EQ(run(argv), 0);
        EXPECT_NE(out.str().find("Usage: weft node { add | replace } ADDR"), std::string::npos);
    }
    EXPECT_EQ(connects, 0);
}

// ---- route ------------------------------------------------------------------

class RouteCli : public Cli {
protected:
    RouteCli() {
        NodeInfo n;
        n.ifindex = 4;
        n.addr = ip("10.0.0.2");
        state->nodes["weft0"] = {n};
        state->routes["weft0"] = {Route{prefix("10.244.1.0/24"), ip("10.0.0.2")},
                                  Route{prefix("fd00:1::/64"), ip("10.0.0.2")}};
    }
};

TEST_F(RouteCli, Add) {
    EXPECT_EQ(run({"route", "add", "10.244.2.0/24", "via", "10.0.0.2", "dev", "weft0"}), 0)
        << err.str();
    ASSERT_EQ(state->route_requests.size(), 1u);
    const auto& r = state->route_requests[0];
    EXPECT_TRUE(r.add);
    EXPECT_FALSE(r.replace);
    EXPECT_EQ(r.dev, "weft0");
    EXPECT_EQ(r.routes, std::vector<Route>{(Route{prefix("10.244.2.0/24"), ip("10.0.0.2")})});
}

TEST_F(RouteCli, BareAddressIsAHostRoute) {
    EXPECT_EQ(run({"route", "add", "10.244.9.9", "via", "10.0.0.2"}), 0) << err.str();
    EXPECT_EQ(run({"route", "add", "fd00::9", "via", "10.0.0.2"}), 0) << err.str();
    ASSERT_EQ(state->route_requests.size(), 2u);
    EXPECT_EQ(state->route_requests[0].routes[0].prefix.len, 32);
    EXPECT_EQ(state->route_requests[1].routes[0].prefix.len, 128);
    EXPECT_EQ(state->route_requests[0].dev, "weft0") << "the only weft device";
}

TEST_F(RouteCli, ReplaceAndDel) {
    EXPECT_EQ(run({"route", "replace", "10.244.1.0/24", "via", "10.0.0.2"}), 0) << err.str();
    EXPECT_EQ(run({"route", "add", "10.244.1.0/24", "via", "10.0.0.2", "replace"}), 0);
    EXPECT_EQ(run({"route", "del", "10.244.1.0/24", "dev", "weft0"}), 0) << err.str();
    ASSERT_EQ(state->route_requests.size(), 3u);
    EXPECT_TRUE(state->route_requests[0].replace);
    EXPECT_TRUE(state->route_requests[1].replace);
    EXPECT_FALSE(state->route_requests[2].add);
    EXPECT_FALSE(state->route_requests[2].routes[0].node) << "ROUTE_DEL carries no node";
    EXPECT_EQ(state->routes["weft0"].size(), 1u);
}

TEST_F(RouteCli, KernelErrorNamesTheAttribute) {
    EXPECT_EQ(run({"route", "add", "10.244.3.0/24", "via", "10.0.0.3"}), 2);
    EXPECT_EQ(err.str(),
              "Error: No such file or directory: no such node (attribute WEFT_ROUTE_A_NODE4)\n");
    EXPECT_EQ(run({"route", "add", "10.244.1.0/24", "via", "10.0.0.2"}), 2);
    EXPECT_EQ(err.str(), "Error: File exists: route exists (attribute WEFT_A_ROUTE)\n");
}

TEST_F(RouteCli, ShowText) {
    EXPECT_EQ(run({"route", "show"}), 0);
    EXPECT_EQ(out.str(), "10.244.1.0/24 via 10.0.0.2 dev weft0\n"
                         "fd00:1::/64 via 10.0.0.2 dev weft0\n");
    EXPECT_EQ(run({"route", "show", "fd00:1::/64"}), 0);
    EXPECT_EQ(out.str(), "fd00:1::/64 via 10.0.0.2 dev weft0\n");
    EXPECT_EQ(run({"route", "show", "10.244.1.0/25"}), 0);
    EXPECT_EQ(out.str(), "") << "exact prefixes only";
}

TEST_F(RouteCli, ShowJson) {
    EXPECT_EQ(run({"-j", "route", "show", "dev", "weft0"}), 0);
    EXPECT_EQ(nlohmann::json::parse(out.str()), nlohmann::json::parse(R"([
        {"prefix": "10.244.1.0/24", "via": "10.0.0.2", "dev": "weft0"},
        {"prefix": "fd00:1::/64", "via": "10.0.0.2", "dev": "weft0"}])"));
    EXPECT_EQ(run({"-j", "-p", "route"}), 0);
    EXPECT_NE(out.str().find("\n    {\n        \"prefix\": "), std::string::npos) << out.str();
}

TEST(RouteGrammar, Values) {
    auto a =
        parse_route_args(Words{"10.244.1.0/24", "via", "2001:db8::2", "dev", "weft0"}, Verb::Add);
    EXPECT_EQ(a.prefix, prefix("10.244.1.0/24"));
    EXPECT_EQ(a.via, ip("2001:db8::2"));
    EXPECT_EQ(a.dev, "weft0");
    EXPECT_FALSE(a.replace);
    a = parse_route_args(Words{"0.0.0.0/0", "via", "10.0.0.2", "replace"}, Verb::Add);
    EXPECT_EQ(a.prefix->len, 0);
    EXPECT_TRUE(a.replace);
    a = parse_route_args(Words{"::/0"}, Verb::Del);
    EXPECT_FALSE(a.via);
    a = parse_route_args(Words{}, Verb::Show);
    EXPECT_FALSE(a.prefix);
}

TEST(RouteGrammar, Errors) {
    const std::pair<Words, std::string> cases[] = {
        {{"10.244.1.1/24", "via", "10.0.0.2"},
         "Error: argument \"10.244.1.1/24\" is wrong: prefix has bits set beyond its length /24"},
        {{"fd00::1/64", "via", "10.0.0.2"},
         "Error: argument \"fd00::1/64\" is wrong: prefix has bits set beyond its length /64"},
        {{"10.244.1.0/33", "via", "10.0.0.2"},
         "Error: argument \"10.244.1.0/33\" is wrong: prefix must be ADDR/LEN or ADDR, IPv4 or "
         "IPv6"},
        {{"10.244.1.0/", "via", "10.0.0.2"},
         "Error: argument \"10.244.1.0/\" is wrong: prefix must be ADDR/LEN or ADDR, IPv4 or "
         "IPv6"},
        {{"10.244.1.0/+8", "via", "10.0.0.2"},
         "Error: argument \"10.244.1.0/+8\" is wrong: prefix must be ADDR/LEN or ADDR, IPv4 or "
         "IPv6"},
        {{"fd00::/129", "via", "10.0.0.2"},
         "Error: argument \"fd00::/129\" is wrong: prefix must be ADDR/LEN or ADDR, IPv4 or IPv6"},
        {{"bogus", "via", "10.0.0.2"},
         "Error: argument \"bogus\" is wrong: prefix must be ADDR/LEN or ADDR, IPv4 or IPv6"},
        {{"10.244.1.0/24", "via", "node2"},
         "Error: argument \"node2\" is wrong: via must be the IPv4 or IPv6 address of a node"},
        {{"10.244.1.0/24"}, "Not enough information: \"via\" argument is required."},
        {{"via", "10.0.0.2"}, "Not enough information: the prefix is required."},
        {{"10.244.1.0/24", "via"}, "Command line is not complete. Try option \"help\""},
        {{"10.244.1.0/24", "via", "10.0.0.2", "via", "10.0.0.3"},
         "Error: duplicate \"via\": \"10.0.0.3\" is the second value."},
        {{"10.244.1.0/24", "via", "10.0.0.2", "metric", "5"},
         "Error: either \"PREFIX\" is duplicate, or \"metric\" is a garbage."},
    };
    for (const auto& [args, message] : cases) {
        EXPECT_EQ(usage_error([&] { parse_route_args(args, Verb::Add); }), message)
            << testing::PrintToString(args);
    }
    EXPECT_EQ(usage_error([] {
                  parse_route_args(Words{"10.244.1.0/24", "via", "10.0.0.2"}, Verb::Del);
              }),
              "Error: either \"PREFIX\" is duplicate, or \"via\" is a garbage.");
}

TEST_F(RouteCli, UsageErrorsSendNothing) {
    EXPECT_EQ(run({"route", "add", "10.244.1.1/24", "via", "10.0.0.2"}), 1);
    EXPECT_EQ(run({"route", "del", "10.244.1.0/24", "dev", "nosuch"}), 1);
    EXPECT_EQ(err.str(), "Cannot find device \"nosuch\"\n");
    EXPECT_EQ(connects, 0);
}

TEST(RouteChangeWords, WhatBatchModeMerges) {
    auto c = parse_route_change(Words{"ro", "a", "10.1.0.0/16", "via", "10.0.0.2", "dev", "weft0"});
    ASSERT_TRUE(c);
    EXPECT_EQ(c->group, (RouteGroup{true, false, "weft0"}));
    EXPECT_EQ(c->route, (Route{prefix("10.1.0.0/16"), ip("10.0.0.2")}));
    c = parse_route_change(Words{"route", "replace", "10.1.0.0/16", "via", "10.0.0.2"});
    ASSERT_TRUE(c);
    EXPECT_EQ(c->group, (RouteGroup{true, true, std::nullopt}));
    c = parse_route_change(Words{"route", "del", "10.1.0.0/16"});
    ASSERT_TRUE(c);
    EXPECT_EQ(c->group, (RouteGroup{false, false, std::nullopt}));

    EXPECT_FALSE(parse_route_change(Words{"route", "show"}));
    EXPECT_FALSE(parse_route_change(Words{"route", "add", "help"}));
    EXPECT_FALSE(parse_route_change(Words{"route"}));
    EXPECT_FALSE(parse_route_change(Words{"node", "add", "10.0.0.2"}));
    EXPECT_FALSE(parse_route_change(Words{"bogus", "add"}));
    EXPECT_FALSE(parse_route_change(Words{"route", "bogus"}));
    EXPECT_THROW(parse_route_change(Words{"route", "add", "10.1.0.1/16", "via", "10.0.0.2"}),
                 UsageError);
}

// ---- endpoint ---------------------------------------------------------------

class EndpointCli : public Cli {
protected:
    EndpointCli() {
        EndpointInfo e;
        e.ifindex = 4;
        e.host_ifindex = 7;
        e.addrs = {ip("10.244.0.5"), ip("fd00::5")};
        e.identity = 42;
        EndpointInfo gone;
        gone.ifindex = 4;
        gone.host_ifindex = 99;
        gone.addrs = {ip("10.244.0.6")};
        state->endpoints["weft0"] = {e, gone};
    }
};

TEST_F(EndpointCli, Add) {
    EXPECT_EQ(run({"endpoint", "add", "10.244.0.7", "fd00::7", "dev", "vethB", "weft", "weft0",
                   "identity", "9"}),
              0)
        << err.str();
    ASSERT_EQ(state->endpoint_adds.size(), 1u);
    EndpointAddRequest expected{
        DevRef::by_name("weft0"), 8, {ip("10.244.0.7"), ip("fd00::7")}, 9u, false};
    EXPECT_EQ(state->endpoint_adds[0], expected);
    EXPECT_EQ(run({"endpoint", "add", "10.244.0.7", "dev", "vethB", "replace"}), 0);
    EXPECT_EQ(run({"endpoint", "replace", "10.244.0.7", "dev", "vethB"}), 0);
    ASSERT_EQ(state->endpoint_adds.size(), 3u);
    EXPECT_EQ(state->endpoint_adds[1].dev.ifname, "weft0") << "the only weft device";
    EXPECT_FALSE(state->endpoint_adds[1].identity);
    EXPECT_TRUE(state->endpoint_adds[1].replace);
    EXPECT_TRUE(state->endpoint_adds[2].replace);
}

TEST_F(EndpointCli, DelByAddressOrInterface) {
    EXPECT_EQ(run({"endpoint", "del", "fd00::5"}), 0) << err.str();
    EXPECT_EQ(run({"endpoint", "del", "dev", "vethA", "weft", "weft0"}), 0) << err.str();
    ASSERT_EQ(state->endpoint_dels.size(), 2u);
    EXPECT_EQ(state->endpoint_dels[0].second, (EndpointKey{0, ip("fd00::5")}));
    EXPECT_EQ(state->endpoint_dels[1].second, (EndpointKey{7, std::nullopt}));
}

TEST_F(EndpointCli, WeftKeywordPicksTheDevice) {
    state->devices.push_back(weft1());
    EXPECT_EQ(run({"endpoint", "del", "fd00::5"}), 1);
    EXPECT_EQ(err.str(),
              "Error: several weft devices (weft0, weft1), name one with \"weft DEV\".\n");
    EXPECT_EQ(run({"endpoint", "del", "fd00::5", "weft", "weft1"}), 0);
    EXPECT_EQ(state->endpoint_dels.at(0).first, "weft1");
}

TEST_F(EndpointCli, ShowText) {
    EXPECT_EQ(run({"endpoint", "show"}), 0) << err.str();
    EXPECT_EQ(out.str(), "10.244.0.5 fd00::5 dev vethA weft weft0 identity 42\n"
                         "10.244.0.6 dev if99 weft weft0 identity 0\n");
    EXPECT_EQ(run({"endpoint", "show", "dev", "vethA"}), 0);
    EXPECT_EQ(out.str(), "10.244.0.5 fd00::5 dev vethA weft weft0 identity 42\n");
    EXPECT_EQ(run({"endpoint", "show", "10.244.0.6"}), 0);
    EXPECT_EQ(out.str(), "10.244.0.6 dev if99 weft weft0 identity 0\n");
}

TEST_F(EndpointCli, ShowJson) {
    EXPECT_EQ(run({"-j", "endpoint", "show", "weft", "weft0"}), 0);
    EXPECT_EQ(nlohmann::json::parse(out.str()), nlohmann::json::parse(R"([
        {"addrs": ["10.244.0.5", "fd00::5"], "dev": "vethA", "ifindex": 7, "weft": "weft0",
         "identity": 42},
        {"addrs": ["10.244.0.6"], "dev": null, "ifindex": 99, "weft": "weft0", "identity": 0}])"));
}

// The issue's grammar: the weft device may follow "dev HOSTIF" bare.
TEST(EndpointGrammar, BareWeftDeviceAfterHostInterface) {
    EndpointArgs a = parse_endpoint_args(Words{"10.244.0.5", "dev", "vethA", "weft0"}, Verb::Add);
    ASSERT_TRUE(a.hostif && a.weft);
    EXPECT_EQ(*a.hostif, "vethA");
    EXPECT_EQ(*a.weft, "weft0");
    EXPECT_EQ(a.addrs.size(), 1u);
    // An address there is still an address, and a second device is refused.
    a = parse_endpoint_args(Words{"dev", "vethA", "10.244.0.5"}, Verb::Add);
    EXPECT_FALSE(a.weft);
    EXPECT_EQ(a.addrs.size(), 1u);
    EXPECT_EQ(usage_error([] {
                  parse_endpoint_args(Words{"10.244.0.5", "dev", "vethA", "weft0", "weft", "weft1"},
                                      Verb::Add);
              }),
              "Error: duplicate \"weft\": \"weft1\" is the second value.");
}

TEST(EndpointGrammar, Errors) {
    Words many;
    for (int i = 0; i <= WEFT_ENDPOINT_MAX_ADDRS; ++i) {
        many.push_back("10.244.0." + std::to_string(i + 1));
    }
    many.insert(many.end(), {"dev", "vethA"});
    const std::pair<Words, std::string> cases[] = {
        {many, "Error: an endpoint has at most 16 addresses."},
        {{"10.244.0.5"}, "Not enough information: \"dev\" argument is required."},
        {{"dev", "vethA"}, "Not enough information: an address is required."},
        {{"10.244.0.5", "10.244.0.5", "dev", "vethA"}, "Error: duplicate address \"10.244.0.5\"."},
        {{"10.244.0.5", "dev", "vethA", "identity", "4294967296"},
         "Error: argument \"4294967296\" is wrong: identity must be 0..4294967295"},
        {{"10.244.0.5", "dev", "vethA", "weft", "weft0", "weft", "weft1"},
         "Error: duplicate \"weft\": \"weft1\" is the second value."},
        {{"10.244.0.500", "dev", "vethA"},
         "Error: argument \"10.244.0.500\" is wrong: endpoint address must be an IPv4 or IPv6 "
         "address"},
        {{"10.244.0.5", "dev", "veth/A"},
         "Error: argument \"veth/A\" is wrong: \"dev\" not a valid ifname"},
        {{"10.244.0.5", "dev", "vethA", "weft", "we ft"},
         "Error: argument \"we ft\" is wrong: \"weft\" not a valid ifname"},
    };
    for (const auto& [args, message] : cases) {
        EXPECT_EQ(usage_error([&] { parse_endpoint_args(args, Verb::Add); }), message)
            << testing::PrintToString(args);
    }
    EXPECT_EQ(usage_error([] { parse_endpoint_args(Words{}, Verb::Del); }),
              "Not enough information: an address or \"dev\" is required.");
    EXPECT_EQ(usage_error([] {
                  parse_endpoint_args(Words{"10.244.0.5", "dev", "vethA"}, Verb::Del);
              }),
              "Error: give an address or \"dev\", not both.");
    EXPECT_EQ(usage_error([] {
                  parse_endpoint_args(Words{"10.244.0.5", "10.244.0.6"}, Verb::Del);
              }),
              "Error: either \"ADDR\" is duplicate, or \"10.244.0.6\" is a garbage.");
    EXPECT_EQ(usage_error([] {
                  parse_endpoint_args(Words{"10.244.0.5", "identity", "1"}, Verb::Del);
              }),
              "Error: either \"ADDR\" is duplicate, or \"identity\" is a garbage.");
}

TEST_F(EndpointCli, UnknownHostInterface) {
    EXPECT_EQ(run({"endpoint", "add", "10.244.0.9", "dev", "vethZ"}), 1);
    EXPECT_EQ(err.str(), "Cannot find device \"vethZ\"\n");
    EXPECT_EQ(connects, 0);
}

TEST_F(EndpointCli, KernelErrors) {
    state->fail =
        Error(EADDRINUSE, "address belongs to another endpoint", "WEFT_ENDPOINT_A_ADDR4", "");
    EXPECT_EQ(run({"endpoint", "add", "10.244.0.6", "dev", "vethB"}), 2);
    EXPECT_EQ(err.str(), "Error: Address already in use: address belongs to another endpoint "
                         "(attribute WEFT_ENDPOINT_A_ADDR4)\n");
    state->fail = Error(EOPNOTSUPP, "", "", "");
    EXPECT_EQ(run({"endpoint", "show", "weft", "weft0"}), 2);
    EXPECT_EQ(err.str(), "Error: Operation not supported\n");
}

TEST_F(Cli, ObjectsAreListed) {
    EXPECT_EQ(run({"help"}), 0);
    EXPECT_NE(out.str().find("OBJECT := { link | node | route | endpoint }"), std::string::npos);
    EXPECT_EQ(run({"r", "help"}), 0);
    EXPECT_NE(out.str().find("Usage: weft route"), std::string::npos);
    EXPECT_EQ(run({"e", "help"}), 0);
    EXPECT_NE(out.str().find("Usage: weft endpoint"), std::string::npos);
}

} // namespace
} // namespace weft::cli
