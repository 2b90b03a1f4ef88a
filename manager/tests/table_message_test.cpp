// Nodes, routes and endpoints on the wire: requests as the kernel's policies
// expect them, replies as the kernel builds them, bulk route requests.
#include <bit>
#include <cerrno>

#include <sys/socket.h>

#include <linux/weft.h>

#include <weft/client.hpp>
#include <weft/message.hpp>

#include <gtest/gtest.h>

#include "helpers.hpp"

namespace weft {
namespace {

constexpr std::uint16_t family = 0x1234;

IpAddr ip(const char* text) {
    return *parse_ip(text);
}

Prefix prefix(const char* text) {
    return *parse_prefix(text);
}

const nlmsghdr* header(const Bytes& b) {
    return reinterpret_cast<const nlmsghdr*>(b.data());
}

const genlmsghdr* genl(const Bytes& b) {
    return reinterpret_cast<const genlmsghdr*>(b.data() + NLMSG_HDRLEN);
}

std::vector<Attr> top(const Bytes& b) {
    return walk_attrs(std::span(b).subspan(NLMSG_HDRLEN + GENL_HDRLEN), NLMSG_HDRLEN + GENL_HDRLEN);
}

std::vector<Attr> nested(const Attr& a) {
    EXPECT_TRUE(a.nested_flag);
    return walk_attrs(a.payload, a.offset + NLA_HDRLEN);
}

// (type, payload length) of each attribute.
using Shape = std::vector<std::pair<std::uint16_t, std::size_t>>;

Shape shape(const std::vector<Attr>& attrs) {
    Shape s;
    for (const auto& a : attrs) {
        s.emplace_back(a.type, a.payload.size());
    }
    return s;
}

Bytes bytes(std::initializer_list<std::uint8_t> b) {
    return Bytes(b);
}

Bytes payload(const Attr& a) {
    return Bytes(a.payload.begin(), a.payload.end());
}

// ---- node requests ----------------------------------------------------------

TEST(NodeRequest, AddCarriesEverySetting) {
    NodeAddRequest r{DevRef::by_name("weft0"), ip("10.0.0.2"), WEFT_ENCAP_IPIP,
                     Mac{2, 0, 0, 0, 0, 2}, true};
    Bytes msg = encode_node_add(family, r);
    EXPECT_EQ(header(msg)->nlmsg_len, msg.size());
    EXPECT_EQ(header(msg)->nlmsg_type, family);
    EXPECT_EQ(header(msg)->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
    EXPECT_EQ(genl(msg)->cmd, WEFT_CMD_NODE_ADD);
    EXPECT_EQ(genl(msg)->version, WEFT_GENL_VERSION);
    auto attrs = top(msg);
    ASSERT_EQ(shape(attrs), (Shape{{WEFT_A_IFNAME, 6}, {WEFT_A_NODE, 28}, {WEFT_A_REPLACE, 0}}));
    auto node = nested(attrs[1]);
    ASSERT_EQ(shape(node),
              (Shape{{WEFT_NODE_A_ADDR4, 4}, {WEFT_NODE_A_ENCAP, 1}, {WEFT_NODE_A_VTEP_MAC, 6}}));
    EXPECT_EQ(payload(node[0]), bytes({10, 0, 0, 2}));
    EXPECT_EQ(attr_u8(node[1], AttrSpace::Node), WEFT_ENCAP_IPIP);
    EXPECT_EQ(payload(node[2]), bytes({2, 0, 0, 0, 0, 2}));
}

TEST(NodeRequest, AddLeavesDefaultsOut) {
    NodeAddRequest r;
    r.dev = DevRef::by_index(4);
    r.addr = ip("2001:db8::2");
    Bytes msg = encode_node_add(family, r);
    auto attrs = top(msg);
    ASSERT_EQ(shape(attrs), (Shape{{WEFT_A_IFINDEX, 4}, {WEFT_A_NODE, 20}}));
    EXPECT_EQ(shape(nested(attrs[1])), (Shape{{WEFT_NODE_A_ADDR6, 16}}));
}

TEST(NodeRequest, DelGetAndDumpCarryTheKeyOnly) {
    for (auto [msg, cmd] :
         {std::pair{encode_node_del(family, DevRef::by_name("weft0"), ip("10.0.0.2")),
                    WEFT_CMD_NODE_DEL},
          std::pair{encode_node_get(family, DevRef::by_name("weft0"), ip("10.0.0.2")),
                    WEFT_CMD_NODE_GET}}) {
        EXPECT_EQ(genl(msg)->cmd, cmd);
        EXPECT_EQ(header(msg)->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
        auto attrs = top(msg);
        ASSERT_EQ(shape(attrs), (Shape{{WEFT_A_IFNAME, 6}, {WEFT_A_NODE, 8}}));
        EXPECT_EQ(shape(nested(attrs[1])), (Shape{{WEFT_NODE_A_ADDR4, 4}}));
    }
    Bytes dump = encode_node_dump(family, DevRef::by_name("weft0"));
    EXPECT_EQ(header(dump)->nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
    EXPECT_EQ(genl(dump)->cmd, WEFT_CMD_NODE_GET);
    EXPECT_EQ(shape(top(dump)), (Shape{{WEFT_A_IFNAME, 6}}));
    EXPECT_THROW(encode_node_dump(family, DevRef{}), Error) << "a device is required";
}

// ---- node replies -----------------------------------------------------------

Bytes node_message(bool v6, bool mac) {
    test::Writer w(family, NLM_F_MULTI);
    w.genl(WEFT_CMD_NODE_GET);
    w.attr_int<std::uint32_t>(WEFT_A_IFINDEX, 4);
    auto n = w.begin_nest(WEFT_A_NODE);
    if (v6) {
        Ipv6 a = *parse_ipv6("2001:db8::2");
        w.attr(WEFT_NODE_A_ADDR6, a.data(), a.size());
    } else {
        std::uint8_t a[4] = {10, 0, 0, 2};
        w.attr(WEFT_NODE_A_ADDR4, a, 4);
    }
    w.attr_int<std::uint8_t>(WEFT_NODE_A_ENCAP, WEFT_ENCAP_NONE);
    std::uint8_t m[6] = {};
    if (mac) {
        m[0] = 2;
        m[5] = 7;
    }
    w.attr(WEFT_NODE_A_VTEP_MAC, m, 6);
    auto st = w.begin_nest(WEFT_NODE_A_STATS);
    for (std::uint16_t t = WEFT_STATS_A_RX_PACKETS; t <= WEFT_STATS_A_TX_DROPS; ++t) {
        w.attr_int<std::uint64_t>(t, 100 + t);
    }
    w.end_nest(st);
    w.attr_int<std::uint32_t>(WEFT_NODE_A_MAX + 5, 1); // newer than this library
    w.end_nest(n);
    return w.finish();
}

TEST(NodeReply, Parses) {
    NodeInfo n = parse_node(node_message(false, true));
    EXPECT_EQ(n.ifindex, 4u);
    EXPECT_EQ(n.addr, ip("10.0.0.2"));
    EXPECT_EQ(n.encap, WEFT_ENCAP_NONE);
    EXPECT_EQ(n.vtep_mac, (Mac{2, 0, 0, 0, 0, 7}));
    ASSERT_TRUE(n.stats);
    EXPECT_EQ(n.stats->rx_packets, 100u + WEFT_STATS_A_RX_PACKETS);
    EXPECT_EQ(n.stats->tx_bytes, 100u + WEFT_STATS_A_TX_BYTES);
    EXPECT_EQ(n.stats->tx_drops, 100u + WEFT_STATS_A_TX_DROPS);

    n = parse_node(node_message(true, false));
    EXPECT_EQ(n.addr, ip("2001:db8::2"));
    EXPECT_FALSE(n.vtep_mac) << "all-zero means unset";
}

TEST(NodeReply, Malformed) {
    test::Writer w(family, 0);
    w.genl(WEFT_CMD_NODE_GET);
    w.attr_int<std::uint32_t>(WEFT_A_IFINDEX, 4);
    auto n = w.begin_nest(WEFT_A_NODE);
    w.attr_int<std::uint8_t>(WEFT_NODE_A_ENCAP, 0);
    w.end_nest(n);
    EXPECT_THROW(parse_node(w.finish()), MalformedMessage) << "no address";

    test::Writer w2(family, 0);
    w2.genl(WEFT_CMD_NODE_GET);
    w2.attr_int<std::uint32_t>(WEFT_A_IFINDEX, 4);
    auto n2 = w2.begin_nest(WEFT_A_NODE);
    std::uint8_t five[5] = {};
    w2.attr(WEFT_NODE_A_ADDR4, five, 5);
    w2.end_nest(n2);
    try {
        parse_node(w2.finish());
        FAIL() << "accepted";
    } catch (const MalformedMessage& e) {
        EXPECT_NE(std::string(e.what()).find("WEFT_NODE_A_ADDR4 has 5 bytes, expected 4"),
                  std::string::npos);
    }
}

// ---- route requests ---------------------------------------------------------

TEST(RouteRequest, AddExactBytes) {
    if constexpr (std::endian::native != std::endian::little) {
        GTEST_SKIP() << "expected bytes are written for a little-endian host";
    }
    Route r{prefix("10.244.1.0/24"), ip("10.0.0.2")};
    RouteChunk c = encode_route_change(family, true, DevRef::by_index(4), std::span(&r, 1), true);
    EXPECT_EQ(c.count, 1u);
    const Bytes expected = {
        68,
        0,
        0,
        0,
        0x34,
        0x12,
        NLM_F_REQUEST | NLM_F_ACK,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0, // nlmsghdr
        WEFT_CMD_ROUTE_ADD,
        1,
        0,
        0, // genl
        8,
        0,
        WEFT_A_IFINDEX,
        0,
        4,
        0,
        0,
        0, //
        4,
        0,
        WEFT_A_REPLACE,
        0, //
        36,
        0,
        WEFT_A_ROUTE,
        0x80, // nest
        5,
        0,
        WEFT_ROUTE_A_FAMILY,
        0,
        AF_INET,
        0,
        0,
        0, //
        8,
        0,
        WEFT_ROUTE_A_PREFIX,
        0,
        10,
        244,
        1,
        0, //
        5,
        0,
        WEFT_ROUTE_A_PREFIXLEN,
        0,
        24,
        0,
        0,
        0, //
        8,
        0,
        WEFT_ROUTE_A_NODE4,
        0,
        10,
        0,
        0,
        2, //
    };
    EXPECT_EQ(c.message, expected);
}

TEST(RouteRequest, Ipv6AndMixedFamilies) {
    std::vector<Route> routes = {{prefix("fd00:1::/64"), ip("10.0.0.2")},
                                 {prefix("10.1.0.0/16"), ip("2001:db8::2")}};
    RouteChunk c = encode_route_change(family, true, DevRef::by_name("weft0"), routes, false);
    auto attrs = top(c.message);
    ASSERT_EQ(shape(attrs), (Shape{{WEFT_A_IFNAME, 6}, {WEFT_A_ROUTE, 44}, {WEFT_A_ROUTE, 44}}));
    auto r0 = nested(attrs[1]);
    ASSERT_EQ(shape(r0), (Shape{{WEFT_ROUTE_A_FAMILY, 1},
                                {WEFT_ROUTE_A_PREFIX, 16},
                                {WEFT_ROUTE_A_PREFIXLEN, 1},
                                {WEFT_ROUTE_A_NODE4, 4}}));
    EXPECT_EQ(attr_u8(r0[0], AttrSpace::Route), AF_INET6);
    EXPECT_EQ(attr_u8(r0[2], AttrSpace::Route), 64);
    auto r1 = nested(attrs[2]);
    EXPECT_EQ(attr_u8(r1[0], AttrSpace::Route), AF_INET);
    EXPECT_EQ(r1[3].type, WEFT_ROUTE_A_NODE6);
}

TEST(RouteRequest, DelCarriesNoNodeAndNoReplace) {
    Route r{prefix("10.244.1.0/24"), ip("10.0.0.2")};
    RouteChunk c =
        encode_route_change(family, false, DevRef::by_name("weft0"), std::span(&r, 1), true);
    EXPECT_EQ(genl(c.message)->cmd, WEFT_CMD_ROUTE_DEL);
    auto attrs = top(c.message);
    ASSERT_EQ(shape(attrs), (Shape{{WEFT_A_IFNAME, 6}, {WEFT_A_ROUTE, 24}}));
    EXPECT_EQ(
        shape(nested(attrs[1])),
        (Shape{{WEFT_ROUTE_A_FAMILY, 1}, {WEFT_ROUTE_A_PREFIX, 4}, {WEFT_ROUTE_A_PREFIXLEN, 1}}));
    Bytes get = encode_route_get(family, DevRef::by_name("weft0"), prefix("fd00::/8"));
    EXPECT_EQ(genl(get)->cmd, WEFT_CMD_ROUTE_GET);
    EXPECT_EQ(shape(top(get)), (Shape{{WEFT_A_IFNAME, 6}, {WEFT_A_ROUTE, 36}}));
    Bytes dump = encode_route_dump(family, DevRef::by_index(4));
    EXPECT_EQ(header(dump)->nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
    EXPECT_EQ(shape(top(dump)), (Shape{{WEFT_A_IFINDEX, 4}}));
}

std::vector<Route> many_routes(std::size_t n) {
    std::vector<Route> routes;
    for (std::size_t i = 0; i < n; ++i) {
        Ipv6 a{};
        a[0] = 0xfd;
        a[1] = static_cast<std::uint8_t>(i >> 8);
        a[2] = static_cast<std::uint8_t>(i);
        // Every third route leads to an IPv6 node: nests of two sizes.
        routes.push_back(Route{Prefix{a, 24}, i % 3 ? ip("10.0.0.2") : ip("2001:db8::2")});
    }
    return routes;
}

TEST(RouteRequest, ChunksFillButStayBelowTheLimit) {
    auto routes = many_routes(5000);
    std::size_t done = 0;
    int requests = 0;
    while (done < routes.size()) {
        RouteChunk c = encode_route_change(family, true, DevRef::by_name("weft0"),
                                           std::span(routes).subspan(done), false);
        EXPECT_LE(c.message.size(), route_request_max);
        EXPECT_LT(c.message.size(), 64u * 1024);
        auto attrs = top(c.message);
        EXPECT_EQ(attrs.size(), c.count + 1);
        if (done + c.count < routes.size()) {
            EXPECT_GT(c.message.size() + 64, route_request_max) << "room for another nest";
        }
        done += c.count;
        ++requests;
    }
    EXPECT_EQ(requests, 4); // 5000 nests of 48 or 60 bytes, 64 KiB each

    RouteChunk small =
        encode_route_change(family, true, DevRef::by_name("weft0"), routes, false, 200);
    EXPECT_EQ(small.count, 3u); // 32 bytes of headers, nests of 60, 48 and 48
    EXPECT_THROW(encode_route_change(family, true, DevRef::by_name("weft0"), routes, false, 60),
                 Error);
}

TEST(RouteRequest, IndexOfTheNestAtAnOffset) {
    auto routes = many_routes(4);
    RouteChunk c = encode_route_change(family, true, DevRef::by_name("weft0"), routes, false);
    auto attrs = top(c.message);
    for (std::size_t i = 0; i < 4; ++i) {
        const Attr& nest = attrs[i + 1];
        auto at = static_cast<std::uint32_t>(nest.offset);
        EXPECT_EQ(route_index_at(c.message, at), i) << "at the nest";
        EXPECT_EQ(route_index_at(c.message, at + NLA_HDRLEN + 12), i) << "inside it";
        auto inner = nested(nest);
        EXPECT_EQ(route_index_at(c.message, static_cast<std::uint32_t>(inner.back().offset)), i);
    }
    EXPECT_EQ(route_index_at(c.message, static_cast<std::uint32_t>(attrs[0].offset)), std::nullopt)
        << "WEFT_A_IFNAME";
    EXPECT_EQ(route_index_at(c.message, 100000), std::nullopt);
    EXPECT_EQ(route_index_at(Bytes(4, 0), 20), std::nullopt);
    // The kernel's error names the attribute inside the nest too.
    EXPECT_EQ(attribute_at(c.message, static_cast<std::uint32_t>(nested(attrs[1])[3].offset)),
              "WEFT_ROUTE_A_NODE6");
}

// ---- bulk sending -----------------------------------------------------------

TEST(SendRoutes, RejectionNamesTheRouteAcrossRequests) {
    auto routes = many_routes(3000);
    std::vector<std::size_t> counts;
    std::size_t fail_at = 1500; // in the second request
    std::size_t seen = 0;
    auto transact = [&](Bytes& message) {
        auto attrs = top(message);
        std::size_t n = attrs.size() - 1;
        counts.push_back(n);
        if (seen + n > fail_at) {
            const Attr& nest = attrs[1 + fail_at - seen];
            auto prefixlen = nested(nest)[2];
            throw Error(EEXIST, "route exists", "", "",
                        static_cast<std::uint32_t>(prefixlen.offset));
        }
        seen += n;
    };
    try {
        send_routes(family, true, DevRef::by_name("weft0"), routes, false, transact);
        FAIL() << "no error";
    } catch (const BulkError& e) {
        EXPECT_EQ(e.index(), fail_at);
        EXPECT_EQ(e.errnum(), EEXIST);
        EXPECT_STREQ(e.what(), "File exists: route exists");
    }
    ASSERT_EQ(counts.size(), 2u) << "nothing is sent after the failing request";
    EXPECT_LT(counts[0], fail_at);
}

TEST(SendRoutes, RejectionWithoutOffsetNamesTheFirstRouteOfTheRequest) {
    auto routes = many_routes(3000);
    int calls = 0;
    std::size_t first = 0;
    auto transact = [&](Bytes& message) {
        if (++calls == 2) {
            throw Error(EPERM, "", "", "");
        }
        first = top(message).size() - 1;
    };
    try {
        send_routes(family, false, DevRef::by_name("weft0"), routes, false, transact);
        FAIL() << "no error";
    } catch (const BulkError& e) {
        EXPECT_EQ(e.index(), first);
        EXPECT_EQ(e.errnum(), EPERM);
    }
}

TEST(SendRoutes, NothingToSend) {
    int calls = 0;
    send_routes(family, true, DevRef::by_name("weft0"), {}, false, [&](Bytes&) { ++calls; });
    EXPECT_EQ(calls, 0);
}

TEST(RetryDump, RestartsInterruptedDumps) {
    int attempts = 0;
    retry_dump([&] { return ++attempts == 3; }, "route");
    EXPECT_EQ(attempts, 3);
    attempts = 0;
    try {
        retry_dump([&] { return ++attempts < 0; }, "route");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.errnum(), EAGAIN);
        EXPECT_EQ(attempts, dump_tries);
        EXPECT_NE(std::string(e.what()).find("the route dump changed under 8 attempts"),
                  std::string::npos)
            << e.what();
    }
}

// ---- route replies ----------------------------------------------------------

void route_nest(test::Writer& w, std::uint8_t fam, std::initializer_list<std::uint8_t> pfx,
                std::uint8_t len, std::initializer_list<std::uint8_t> node) {
    auto n = w.begin_nest(WEFT_A_ROUTE);
    w.attr_int<std::uint8_t>(WEFT_ROUTE_A_FAMILY, fam);
    w.attr(WEFT_ROUTE_A_PREFIX, std::data(pfx), pfx.size());
    w.attr_int<std::uint8_t>(WEFT_ROUTE_A_PREFIXLEN, len);
    if (node.size() != 0) {
        w.attr(node.size() == 4 ? WEFT_ROUTE_A_NODE4 : WEFT_ROUTE_A_NODE6, std::data(node),
               node.size());
    }
    w.end_nest(n);
}

TEST(RouteReply, ManyRoutesInOneMessage) {
    test::Writer w(family, NLM_F_MULTI);
    w.genl(WEFT_CMD_ROUTE_GET);
    w.attr_int<std::uint32_t>(WEFT_A_IFINDEX, 4);
    route_nest(w, AF_INET, {10, 244, 1, 0}, 24, {10, 0, 0, 2});
    route_nest(w, AF_INET6, {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 8, {10, 0, 0, 3});
    route_nest(w, AF_INET6, {0xfd, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 16,
               {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2});
    RouteMessage m = parse_routes(w.finish());
    EXPECT_EQ(m.ifindex, 4u);
    EXPECT_EQ(m.routes, (std::vector<Route>{{prefix("10.244.1.0/24"), ip("10.0.0.2")},
                                            {prefix("fd00::/8"), ip("10.0.0.3")},
                                            {prefix("fd01::/16"), ip("2001:db8::2")}}));
}

TEST(RouteReply, Malformed) {
    auto one = [](std::uint8_t fam, std::initializer_list<std::uint8_t> pfx, std::uint8_t len) {
        test::Writer w(family, 0);
        w.genl(WEFT_CMD_ROUTE_GET);
        w.attr_int<std::uint32_t>(WEFT_A_IFINDEX, 4);
        route_nest(w, fam, pfx, len, {10, 0, 0, 2});
        return w.finish();
    };
    EXPECT_NO_THROW(parse_routes(one(AF_INET, {10, 0, 0, 0}, 32)));
    EXPECT_THROW(parse_routes(one(AF_INET, {10, 0, 0, 0}, 33)), MalformedMessage);
    EXPECT_THROW(parse_routes(one(AF_INET6, {10, 0, 0, 0}, 8)), MalformedMessage);
    EXPECT_THROW(parse_routes(one(AF_PACKET, {10, 0, 0, 0}, 8)), MalformedMessage);

    test::Writer w(family, 0);
    w.genl(WEFT_CMD_ROUTE_GET);
    route_nest(w, AF_INET, {10, 0, 0, 0}, 8, {});
    EXPECT_THROW(parse_routes(w.finish()), MalformedMessage) << "no WEFT_A_IFINDEX";
}

// ---- endpoints --------------------------------------------------------------

TEST(EndpointRequest, Add) {
    EndpointAddRequest r{DevRef::by_name("weft0"), 7,
                         std::vector<IpAddr>{ip("10.244.0.5"), ip("fd00::5"), ip("10.244.0.6")},
                         42u, true};
    Bytes msg = encode_endpoint_add(family, r);
    EXPECT_EQ(genl(msg)->cmd, WEFT_CMD_ENDPOINT_ADD);
    auto attrs = top(msg);
    ASSERT_EQ(shape(attrs),
              (Shape{{WEFT_A_IFNAME, 6}, {WEFT_A_ENDPOINT, 52}, {WEFT_A_REPLACE, 0}}));
    auto ep = nested(attrs[1]);
    ASSERT_EQ(shape(ep), (Shape{{WEFT_ENDPOINT_A_IFINDEX, 4},
                                {WEFT_ENDPOINT_A_ADDR4, 4},
                                {WEFT_ENDPOINT_A_ADDR6, 16},
                                {WEFT_ENDPOINT_A_ADDR4, 4},
                                {WEFT_ENDPOINT_A_IDENTITY, 4}}));
    EXPECT_EQ(attr_u32(ep[0], AttrSpace::Endpoint), 7u);
    EXPECT_EQ(payload(ep[3]), bytes({10, 244, 0, 6}));
    EXPECT_EQ(attr_u32(ep[4], AttrSpace::Endpoint), 42u);

    r.identity.reset();
    r.replace = false;
    EXPECT_EQ(shape(top(encode_endpoint_add(family, r))),
              (Shape{{WEFT_A_IFNAME, 6}, {WEFT_A_ENDPOINT, 44}}));
}

TEST(EndpointRequest, DelAndGetByOneKey) {
    Bytes by_addr =
        encode_endpoint_del(family, DevRef::by_name("weft0"), EndpointKey{0, ip("fd00::5")});
    EXPECT_EQ(genl(by_addr)->cmd, WEFT_CMD_ENDPOINT_DEL);
    EXPECT_EQ(shape(nested(top(by_addr)[1])), (Shape{{WEFT_ENDPOINT_A_ADDR6, 16}}));
    Bytes by_if = encode_endpoint_get(family, DevRef::by_name("weft0"), EndpointKey{7, {}});
    EXPECT_EQ(genl(by_if)->cmd, WEFT_CMD_ENDPOINT_GET);
    EXPECT_EQ(shape(nested(top(by_if)[1])), (Shape{{WEFT_ENDPOINT_A_IFINDEX, 4}}));
    Bytes dump = encode_endpoint_dump(family, DevRef::by_name("weft0"));
    EXPECT_EQ(header(dump)->nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
    EXPECT_EQ(genl(dump)->cmd, WEFT_CMD_ENDPOINT_GET);
}

TEST(EndpointReply, Parses) {
    test::Writer w(family, NLM_F_MULTI);
    w.genl(WEFT_CMD_ENDPOINT_GET);
    w.attr_int<std::uint32_t>(WEFT_A_IFINDEX, 4);
    auto n = w.begin_nest(WEFT_A_ENDPOINT);
    w.attr_int<std::uint32_t>(WEFT_ENDPOINT_A_IFINDEX, 7);
    std::uint8_t a4[4] = {10, 244, 0, 5};
    w.attr(WEFT_ENDPOINT_A_ADDR4, a4, 4);
    Ipv6 a6 = *parse_ipv6("fd00::5");
    w.attr(WEFT_ENDPOINT_A_ADDR6, a6.data(), 16);
    w.attr_int<std::uint32_t>(WEFT_ENDPOINT_A_IDENTITY, 42);
    w.end_nest(n);
    EndpointInfo e = parse_endpoint(w.finish());
    EXPECT_EQ(e, (EndpointInfo{4, 7, {ip("10.244.0.5"), ip("fd00::5")}, 42}));

    test::Writer bad(family, 0);
    bad.genl(WEFT_CMD_ENDPOINT_GET);
    bad.attr_int<std::uint32_t>(WEFT_A_IFINDEX, 4);
    EXPECT_THROW(parse_endpoint(bad.finish()), MalformedMessage) << "no endpoint ifindex";
}

TEST(Names, Encaps) {
    EXPECT_STREQ(encap_name(WEFT_ENCAP_VXLAN), "vxlan");
    EXPECT_STREQ(encap_name(WEFT_ENCAP_IPIP), "ipip");
    EXPECT_STREQ(encap_name(WEFT_ENCAP_NONE), "none");
    EXPECT_EQ(encap_name(WEFT_ENCAP_MAX + 1), nullptr);
    EXPECT_EQ(encap_from_name("ipip"), WEFT_ENCAP_IPIP);
    EXPECT_EQ(encap_from_name("gre"), std::nullopt);
}

TEST(ErrorOffset, KeptFromTheAck) {
    ExtAck ack;
    ack.error = ENOENT;
    ack.message = "no such node";
    ack.offset = 32;
    Route r{prefix("10.244.1.0/24"), ip("10.0.0.2")};
    RouteChunk c = encode_route_change(family, true, DevRef::by_index(4), std::span(&r, 1), false);
    Error e = make_error(ack, c.message);
    EXPECT_EQ(e.offset(), 32u);
    EXPECT_EQ(e.attribute(), "WEFT_ROUTE_A_FAMILY");
    BulkError b(e, 3);
    EXPECT_EQ(b.index(), 3u);
    EXPECT_EQ(b.offset(), 32u);
    EXPECT_STREQ(b.what(), e.what());
}

} // namespace
} // namespace weft
