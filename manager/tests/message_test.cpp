// Building weft requests and parsing device messages.
#include <bit>

#include <linux/weft.h>

#include <weft/message.hpp>

#include <gtest/gtest.h>
#include <libmnl/libmnl.h>

#include "helpers.hpp"

namespace weft {
namespace {

constexpr std::uint16_t family = 0x1234;

const nlmsghdr* header(const Bytes& b) {
    return reinterpret_cast<const nlmsghdr*>(b.data());
}

DevSetRequest full_request() {
    DevSetRequest r;
    r.dev = DevRef::by_name("weft0");
    r.vni = 42;
    r.port = 8472;
    r.local4 = Ipv4{192, 0, 2, 1};
    r.vtep_mac = Mac{0x02, 0, 0, 0, 0, 0x01};
    r.crosssubnet = true;
    return r;
}

TEST(DevSet, ExactBytes) {
    if constexpr (std::endian::native != std::endian::little) {
        GTEST_SKIP() << "expected bytes are written for a little-endian host";
    }
    Bytes msg = encode_dev_set(family, full_request());
    const std::vector<std::uint8_t> expected = {
        // nlmsghdr: len 80, type family, flags REQUEST|ACK, seq 0, pid 0
        80,
        0,
        0,
        0,
        0x34,
        0x12,
        0x05,
        0x00,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        // genlmsghdr: cmd DEV_SET, version 1
        WEFT_CMD_DEV_SET,
        1,
        0,
        0,
        // WEFT_A_IFNAME "weft0\0", padded
        10,
        0,
        WEFT_A_IFNAME,
        0,
        'w',
        'e',
        'f',
        't',
        '0',
        0,
        0,
        0,
        // WEFT_A_DEV | NLA_F_NESTED, 48 bytes
        48,
        0,
        WEFT_A_DEV,
        0x80,
        8,
        0,
        WEFT_DEV_A_VNI,
        0,
        42,
        0,
        0,
        0,
        6,
        0,
        WEFT_DEV_A_PORT,
        0,
        0x18,
        0x21,
        0,
        0, // 8472 in host order
        8,
        0,
        WEFT_DEV_A_LOCAL4,
        0,
        192,
        0,
        2,
        1,
        10,
        0,
        WEFT_DEV_A_VTEP_MAC,
        0,
        0x02,
        0,
        0,
        0,
        0,
        0x01,
        0,
        0,
        5,
        0,
        WEFT_DEV_A_CROSSSUBNET,
        0,
        1,
        0,
        0,
        0,
    };
    EXPECT_EQ(msg, expected);
}

struct Seen {
    std::vector<std::pair<std::uint16_t, std::uint16_t>> attrs; // type, payload length
    const nlattr* dev = nullptr;
    const nlattr* ifname = nullptr;
    const nlattr* by_type[WEFT_DEV_A_MAX + 1] = {};
};

int collect_top(const nlattr* attr, void* data) {
    auto* seen = static_cast<Seen*>(data);
    seen->attrs.emplace_back(mnl_attr_get_type(attr), mnl_attr_get_payload_len(attr));
    if (mnl_attr_get_type(attr) == WEFT_A_DEV) {
        seen->dev = attr;
    } else if (mnl_attr_get_type(attr) == WEFT_A_IFNAME) {
        seen->ifname = attr;
    }
    return MNL_CB_OK;
}

int collect_dev(const nlattr* attr, void* data) {
    auto* seen = static_cast<Seen*>(data);
    auto type = mnl_attr_get_type(attr);
    if (type <= WEFT_DEV_A_MAX) {
        seen->by_type[type] = attr;
    }
    return MNL_CB_OK;
}

TEST(DevSet, ParsesBackWithLibmnl) {
    DevSetRequest r = full_request();
    r.local6 = *parse_ipv6("2001:db8::1");
    r.underlay = 7;
    r.crosssubnet = false;
    Bytes msg = encode_dev_set(family, r);
    const nlmsghdr* nlh = header(msg);
    ASSERT_EQ(nlh->nlmsg_len, msg.size());
    EXPECT_EQ(nlh->nlmsg_type, family);
    EXPECT_EQ(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
    auto* genl = static_cast<const genlmsghdr*>(mnl_nlmsg_get_payload(nlh));
    EXPECT_EQ(genl->cmd, WEFT_CMD_DEV_SET);
    EXPECT_EQ(genl->version, WEFT_GENL_VERSION);
    EXPECT_EQ(genl->reserved, 0);

    Seen seen;
    ASSERT_EQ(mnl_attr_parse(nlh, sizeof(genlmsghdr), collect_top, &seen), MNL_CB_OK);
    ASSERT_EQ(seen.attrs.size(), 2u);
    ASSERT_NE(seen.ifname, nullptr);
    EXPECT_EQ(mnl_attr_validate(seen.ifname, MNL_TYPE_NUL_STRING), 0);
    EXPECT_STREQ(mnl_attr_get_str(seen.ifname), "weft0");
    ASSERT_NE(seen.dev, nullptr);
    EXPECT_TRUE(seen.dev->nla_type & NLA_F_NESTED);
    ASSERT_EQ(mnl_attr_parse_nested(seen.dev, collect_dev, &seen), MNL_CB_OK);

    auto* vni = seen.by_type[WEFT_DEV_A_VNI];
    ASSERT_NE(vni, nullptr);
    EXPECT_EQ(mnl_attr_validate(vni, MNL_TYPE_U32), 0);
    EXPECT_EQ(mnl_attr_get_u32(vni), 42u);
    auto* port = seen.by_type[WEFT_DEV_A_PORT];
    ASSERT_NE(port, nullptr);
    EXPECT_EQ(mnl_attr_get_payload_len(port), 2);
    EXPECT_EQ(mnl_attr_get_u16(port), 8472);
    auto* l4 = seen.by_type[WEFT_DEV_A_LOCAL4];
    ASSERT_NE(l4, nullptr);
    ASSERT_EQ(mnl_attr_get_payload_len(l4), 4);
    EXPECT_EQ(std::memcmp(mnl_attr_get_payload(l4), "\xc0\x00\x02\x01", 4), 0);
    auto* l6 = seen.by_type[WEFT_DEV_A_LOCAL6];
    ASSERT_NE(l6, nullptr);
    ASSERT_EQ(mnl_attr_get_payload_len(l6), 16);
    EXPECT_EQ(std::memcmp(mnl_attr_get_payload(l6), r.local6->data(), 16), 0);
    auto* underlay = seen.by_type[WEFT_DEV_A_UNDERLAY];
    ASSERT_NE(underlay, nullptr);
    EXPECT_EQ(mnl_attr_get_u32(underlay), 7u);
    auto* mac = seen.by_type[WEFT_DEV_A_VTEP_MAC];
    ASSERT_NE(mac, nullptr);
    EXPECT_EQ(mnl_attr_get_payload_len(mac), 6);
    auto* cs = seen.by_type[WEFT_DEV_A_CROSSSUBNET];
    ASSERT_NE(cs, nullptr);
    EXPECT_EQ(mnl_attr_validate(cs, MNL_TYPE_U8), 0);
    EXPECT_EQ(mnl_attr_get_u8(cs), 0);
    // Never sent: the read-only settings.
    EXPECT_EQ(seen.by_type[WEFT_DEV_A_GENERATION], nullptr);
    EXPECT_EQ(seen.by_type[WEFT_DEV_A_MTU], nullptr);
}

TEST(DevSet, OnlyGivenSettingsAreSent) {
    DevSetRequest r;
    r.dev = DevRef::by_index(9);
    r.port = 4789;
    Bytes msg = encode_dev_set(family, r);
    auto top = walk_attrs(std::span(msg).subspan(NLMSG_HDRLEN + GENL_HDRLEN));
    ASSERT_EQ(top.size(), 2u);
    EXPECT_EQ(top[0].type, WEFT_A_IFINDEX);
    EXPECT_EQ(attr_u32(top[0], AttrSpace::Top), 9u);
    EXPECT_EQ(top[1].type, WEFT_A_DEV);
    EXPECT_TRUE(top[1].nested_flag);
    auto dev = walk_attrs(top[1].payload);
    ASSERT_EQ(dev.size(), 1u);
    EXPECT_EQ(dev[0].type, WEFT_DEV_A_PORT);
    EXPECT_EQ(attr_u16(dev[0], AttrSpace::Dev), 4789);
}

TEST(DevSet, EmptyRequestStillCarriesTheNest) {
    DevSetRequest r;
    r.dev = DevRef::by_name("weft0");
    Bytes msg = encode_dev_set(family, r);
    auto top = walk_attrs(std::span(msg).subspan(NLMSG_HDRLEN + GENL_HDRLEN));
    ASSERT_EQ(top.size(), 2u);
    EXPECT_EQ(top[1].type, WEFT_A_DEV);
    EXPECT_TRUE(top[1].payload.empty());
}

TEST(DevSet, NeedsADevice) {
    DevSetRequest r;
    r.vni = 1;
    EXPECT_THROW(encode_dev_set(family, r), Error);
    r.dev = DevRef::by_name("a-name-that-is-far-too-long");
    EXPECT_THROW(encode_dev_set(family, r), Error);
}

TEST(DevGet, DoAndDump) {
    Bytes get = encode_dev_get(family, DevRef{4, "weft0"});
    EXPECT_EQ(header(get)->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
    auto top = walk_attrs(std::span(get).subspan(NLMSG_HDRLEN + GENL_HDRLEN));
    ASSERT_EQ(top.size(), 2u);
    EXPECT_EQ(top[0].type, WEFT_A_IFINDEX);
    EXPECT_EQ(top[1].type, WEFT_A_IFNAME);
    EXPECT_EQ(attr_string(top[1], AttrSpace::Top, 16), "weft0");

    Bytes dump = encode_dev_dump(family);
    EXPECT_EQ(header(dump)->nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
    EXPECT_EQ(dump.size(), NLMSG_HDRLEN + GENL_HDRLEN);
    auto* genl = reinterpret_cast<const genlmsghdr*>(dump.data() + NLMSG_HDRLEN);
    EXPECT_EQ(genl->cmd, WEFT_CMD_DEV_GET);
}

TEST(Builder, ThrowsWhenFull) {
    MessageBuilder b(family, NLM_F_REQUEST, 32);
    b.put_genl(1, 1);
    b.put_u32(1, 1); // 16 + 4 + 8 = 28
    EXPECT_THROW(b.put_u32(2, 2), Error);
    EXPECT_EQ(b.size(), 28u);
}

// A device message as the kernel would send it.
Bytes device_message(bool with_stats, bool extra_unknown = false) {
    test::Writer w(0x1234, 0);
    w.genl(WEFT_CMD_DEV_GET);
    w.attr_int<std::uint32_t>(WEFT_A_IFINDEX, 4);
    w.attr_str(WEFT_A_IFNAME, "weft0");
    auto dev = w.begin_nest(WEFT_A_DEV);
    w.attr_int<std::uint32_t>(WEFT_DEV_A_VNI, 1);
    w.attr_int<std::uint16_t>(WEFT_DEV_A_PORT, 4789);
    std::uint8_t l4[4] = {192, 0, 2, 11};
    w.attr(WEFT_DEV_A_LOCAL4, l4, 4);
    std::uint8_t l6[16] = {};
    w.attr(WEFT_DEV_A_LOCAL6, l6, 16);
    w.attr_int<std::uint32_t>(WEFT_DEV_A_UNDERLAY, 2);
    std::uint8_t mac[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
    w.attr(WEFT_DEV_A_VTEP_MAC, mac, 6);
    w.attr_int<std::uint8_t>(WEFT_DEV_A_CROSSSUBNET, 0);
    w.attr_int<std::uint32_t>(WEFT_DEV_A_GENERATION, 3);
    w.attr_int<std::uint32_t>(WEFT_DEV_A_MTU, 1450);
    if (extra_unknown) {
        w.attr_int<std::uint64_t>(200, 99); // a setting from a newer kernel
    }
    w.end_nest(dev);
    if (with_stats) {
        auto st = w.begin_nest(WEFT_A_STATS);
        w.attr(WEFT_STATS_A_PAD, nullptr, 0);
        w.attr_int<std::uint64_t>(WEFT_STATS_A_RX_PACKETS, 10);
        w.attr_int<std::uint64_t>(WEFT_STATS_A_RX_BYTES, 1000);
        w.attr_int<std::uint64_t>(WEFT_STATS_A_TX_PACKETS, 20);
        w.attr_int<std::uint64_t>(WEFT_STATS_A_TX_BYTES, 2000);
        w.attr_int<std::uint64_t>(WEFT_STATS_A_RX_DROPS, 3);
        w.attr_int<std::uint64_t>(WEFT_STATS_A_TX_DROPS, 4);
        auto drops = w.begin_nest(WEFT_STATS_A_DROPS);
        w.attr_int<std::uint64_t>(WEFT_DROP_NO_ROUTE + 1, 2);
        w.attr_int<std::uint64_t>(WEFT_DROP_PROTO + 1, 5);
        if (extra_unknown) {
            w.attr_int<std::uint64_t>(WEFT_DROP_MAX + 2, 77); // a reason from a newer kernel
        }
        w.end_nest(drops);
        w.end_nest(st);
    }
    if (extra_unknown) {
        w.attr_str(WEFT_A_MAX + 10, "future");
    }
    return w.finish();
}

TEST(ParseDevice, Settings) {
    DeviceInfo d = parse_device(device_message(false));
    EXPECT_EQ(d.ifindex, 4u);
    EXPECT_EQ(d.ifname, "weft0");
    EXPECT_EQ(d.settings.vni, 1u);
    EXPECT_EQ(d.settings.port, 4789);
    ASSERT_TRUE(d.settings.local4);
    EXPECT_EQ(to_string(*d.settings.local4), "192.0.2.11");
    EXPECT_FALSE(d.settings.local6) << ":: means unset";
    EXPECT_EQ(d.settings.underlay, 2u);
    ASSERT_TRUE(d.settings.vtep_mac);
    EXPECT_EQ(mac_to_string(*d.settings.vtep_mac), "02:11:22:33:44:55");
    EXPECT_FALSE(d.settings.crosssubnet);
    EXPECT_EQ(d.settings.generation, 3u);
    EXPECT_EQ(d.settings.mtu, 1450u);
    EXPECT_FALSE(d.stats);
}

TEST(ParseDevice, Stats) {
    DeviceInfo d = parse_device(device_message(true));
    ASSERT_TRUE(d.stats);
    EXPECT_EQ(d.stats->rx_packets, 10u);
    EXPECT_EQ(d.stats->rx_bytes, 1000u);
    EXPECT_EQ(d.stats->tx_packets, 20u);
    EXPECT_EQ(d.stats->tx_bytes, 2000u);
    EXPECT_EQ(d.stats->rx_drops, 3u);
    EXPECT_EQ(d.stats->tx_drops, 4u);
    EXPECT_EQ(d.stats->drops[WEFT_DROP_NO_ROUTE], 2u);
    EXPECT_EQ(d.stats->drops[WEFT_DROP_PROTO], 5u);
    EXPECT_EQ(d.stats->drops[WEFT_DROP_POLICY], 0u);
}

TEST(ParseDevice, UnknownAttributesAreIgnored) {
    DeviceInfo with = parse_device(device_message(true, true));
    DeviceInfo without = parse_device(device_message(true, false));
    EXPECT_EQ(with, without);
}

TEST(ParseDevice, TruncatedAttributeIsRejected) {
    Bytes msg = device_message(false);
    // Cut the message inside the last attribute and fix nlmsg_len.
    msg.resize(msg.size() - 2);
    auto len = static_cast<std::uint32_t>(msg.size());
    std::memcpy(msg.data(), &len, 4);
    EXPECT_THROW(parse_device(msg), MalformedMessage);
}

TEST(ParseDevice, AttributeLongerThanMessageIsRejected) {
    test::Writer w(0x1234, 0);
    w.genl(WEFT_CMD_DEV_GET);
    w.attr_int<std::uint32_t>(WEFT_A_IFINDEX, 4);
    Bytes msg = w.finish();
    msg[NLMSG_HDRLEN + GENL_HDRLEN] = 200; // nla_len past the end
    EXPECT_THROW(parse_device(msg), MalformedMessage);
    msg[NLMSG_HDRLEN + GENL_HDRLEN] = 2; // shorter than its own header
    EXPECT_THROW(parse_device(msg), MalformedMessage);
}

TEST(ParseDevice, WrongSizeIsRejectedAndNamed) {
    test::Writer w(0x1234, 0);
    w.genl(WEFT_CMD_DEV_GET);
    w.attr_int<std::uint32_t>(WEFT_A_IFINDEX, 4);
    auto dev = w.begin_nest(WEFT_A_DEV);
    w.attr_int<std::uint16_t>(WEFT_DEV_A_VNI, 1); // must be a u32
    w.end_nest(dev);
    try {
        parse_device(w.finish());
        FAIL() << "no exception";
    } catch (const MalformedMessage& e) {
        EXPECT_EQ(e.errnum(), EBADMSG);
        EXPECT_NE(std::string(e.what()).find("WEFT_DEV_A_VNI has 2 bytes, expected 4"),
                  std::string::npos)
            << e.what();
    }
}

TEST(ParseDevice, NeedsIfindexAndATerminatedName) {
    test::Writer w(0x1234, 0);
    w.genl(WEFT_CMD_DEV_GET);
    w.attr_str(WEFT_A_IFNAME, "weft0");
    EXPECT_THROW(parse_device(w.finish()), MalformedMessage);

    test::Writer w2(0x1234, 0);
    w2.genl(WEFT_CMD_DEV_GET);
    w2.attr_int<std::uint32_t>(WEFT_A_IFINDEX, 4);
    w2.attr(WEFT_A_IFNAME, "weft0", 5); // no NUL
    EXPECT_THROW(parse_device(w2.finish()), MalformedMessage);
}

TEST(ParseDevice, ShortMessagesAreRejected) {
    EXPECT_THROW(parse_device(Bytes(8, 0)), MalformedMessage);
    test::Writer w(0x1234, 0); // no genl header
    EXPECT_THROW(parse_device(w.finish()), MalformedMessage);
    Bytes lying = device_message(false);
    std::uint32_t len = static_cast<std::uint32_t>(lying.size() + 4);
    std::memcpy(lying.data(), &len, 4);
    EXPECT_THROW(parse_device(lying), MalformedMessage);
}

TEST(Names, Attributes) {
    EXPECT_EQ(attr_name(AttrSpace::Top, WEFT_A_DEV), "WEFT_A_DEV");
    EXPECT_EQ(attr_name(AttrSpace::Dev, WEFT_DEV_A_VTEP_MAC), "WEFT_DEV_A_VTEP_MAC");
    EXPECT_EQ(attr_name(AttrSpace::Stats, WEFT_STATS_A_DROPS), "WEFT_STATS_A_DROPS");
    EXPECT_EQ(attr_name(AttrSpace::Drops, WEFT_DROP_POLICY + 1), "WEFT_DROP_POLICY");
    EXPECT_EQ(attr_name(AttrSpace::Rule, WEFT_RULE_A_PORT_MAX), "WEFT_RULE_A_PORT_MAX");
    EXPECT_EQ(attr_name(AttrSpace::Dev, 42), "WEFT_DEV_A type 42");
    EXPECT_EQ(nested_space(AttrSpace::Top, WEFT_A_DEV), AttrSpace::Dev);
    EXPECT_EQ(nested_space(AttrSpace::Stats, WEFT_STATS_A_DROPS), AttrSpace::Drops);
    EXPECT_EQ(nested_space(AttrSpace::Top, WEFT_A_IFINDEX), std::nullopt);
    EXPECT_EQ(cmd_name(WEFT_CMD_DEV_SET), "WEFT_CMD_DEV_SET");
    EXPECT_EQ(cmd_name(250), "command 250");
}

TEST(Names, DropReasons) {
    EXPECT_STREQ(drop_reason_name(WEFT_DROP_NO_ROUTE), "no-route");
    EXPECT_STREQ(drop_reason_name(WEFT_DROP_UNKNOWN_PEER), "unknown-peer");
    EXPECT_STREQ(drop_reason_name(WEFT_DROP_PROTO), "proto");
    EXPECT_EQ(drop_reason_name(WEFT_DROP_MAX + 1), nullptr);
    EXPECT_EQ(drop_reason_from_name("too-big"), WEFT_DROP_TOO_BIG);
    EXPECT_EQ(drop_reason_from_name("nope"), std::nullopt);
}

} // namespace
} // namespace weft
