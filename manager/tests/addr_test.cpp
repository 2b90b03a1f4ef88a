// Address parsing and formatting.
#include <weft/addr.hpp>

#include <gtest/gtest.h>

namespace weft {
namespace {

TEST(Addr, ParsesAndFormatsIpv4) {
    auto a = parse_ipv4("192.0.2.11");
    ASSERT_TRUE(a);
    EXPECT_EQ(*a, (Ipv4{192, 0, 2, 11}));
    EXPECT_EQ(to_string(*a), "192.0.2.11");
}

TEST(Addr, RejectsBadIpv4) {
    EXPECT_FALSE(parse_ipv4("192.0.2"));
    EXPECT_FALSE(parse_ipv4("192.0.2.256"));
    EXPECT_FALSE(parse_ipv4("2001:db8::1"));
    EXPECT_FALSE(parse_ipv4(""));
    EXPECT_FALSE(parse_ipv4(std::string_view("1.2.3.4\0x", 9)));
}

TEST(Addr, ParsesAndFormatsIpv6) {
    auto a = parse_ipv6("2001:db8::1");
    ASSERT_TRUE(a);
    EXPECT_EQ((*a)[0], 0x20);
    EXPECT_EQ((*a)[1], 0x01);
    EXPECT_EQ((*a)[15], 0x01);
    EXPECT_EQ(to_string(*a), "2001:db8::1");
    EXPECT_FALSE(parse_ipv6("192.0.2.1"));
    EXPECT_FALSE(parse_ipv6("2001:db8::g"));
}

TEST(Addr, ParsesMac) {
    auto m = parse_mac("02:00:5e:0A:b:1");
    ASSERT_TRUE(m);
    EXPECT_EQ(*m, (Mac{0x02, 0x00, 0x5e, 0x0a, 0x0b, 0x01}));
    EXPECT_EQ(mac_to_string(*m), "02:00:5e:0a:0b:01");
}

TEST(Addr, RejectsBadMac) {
    for (const char* bad : {"", "02:00:00:00:00", "02:00:00:00:00:00:00", "02:00:00:00:00:001",
                            "02-00-00-00-00-01", "zz:00:00:00:00:01", "02:00:00:00:00:", ":::::"}) {
        EXPECT_FALSE(parse_mac(bad)) << bad;
    }
}

TEST(Addr, IsZero) {
    EXPECT_TRUE(is_zero(Ipv4{}));
    EXPECT_FALSE(is_zero(Ipv4{0, 0, 0, 1}));
}

TEST(Addr, EitherFamily) {
    EXPECT_EQ(parse_ip("192.0.2.1"), IpAddr(Ipv4{192, 0, 2, 1}));
    auto a6 = parse_ip("2001:db8::1");
    ASSERT_TRUE(a6);
    EXPECT_FALSE(is_ipv4(*a6));
    EXPECT_EQ(addr_bytes(*a6).size(), 16u);
    EXPECT_EQ(to_string(*a6), "2001:db8::1");
    EXPECT_FALSE(parse_ip("2001:db8::1/64"));
    EXPECT_FALSE(parse_ip("node2"));
}

TEST(Prefix, Parses) {
    auto p = parse_prefix("10.244.1.0/24");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->addr, IpAddr(Ipv4{10, 244, 1, 0}));
    EXPECT_EQ(p->len, 24);
    EXPECT_EQ(to_string(*p), "10.244.1.0/24");
    EXPECT_EQ(parse_prefix("10.244.1.7")->len, 32) << "a bare address is a host route";
    EXPECT_EQ(parse_prefix("fd00::7")->len, 128);
    EXPECT_EQ(to_string(*parse_prefix("fd00::7")), "fd00::7/128");
    EXPECT_EQ(parse_prefix("0.0.0.0/0")->len, 0);
    EXPECT_EQ(parse_prefix("::/0")->len, 0);
    EXPECT_EQ(parse_prefix("fd00::/128")->len, 128);
}

TEST(Prefix, RejectsBadSyntax) {
    for (const char* bad :
         {"", "/24", "10.0.0.0/", "10.0.0.0/33", "fd00::/129", "10.0.0.0/-1", "10.0.0.0/+8",
          "10.0.0.0/8/8", "10.0.0.0/0x8", "10.0.0.0/ 8", "10.0.0/8", "10.0.0.0/99999999999"}) {
        EXPECT_FALSE(parse_prefix(bad)) << bad;
    }
}

TEST(Prefix, HostBits) {
    EXPECT_FALSE(host_bits_set(*parse_prefix("10.244.1.0/24")));
    EXPECT_TRUE(host_bits_set(*parse_prefix("10.244.1.1/24")));
    EXPECT_TRUE(host_bits_set(*parse_prefix("10.244.1.128/24")));
    EXPECT_FALSE(host_bits_set(*parse_prefix("10.244.1.128/25")));
    EXPECT_TRUE(host_bits_set(*parse_prefix("10.244.1.64/25")));
    EXPECT_TRUE(host_bits_set(*parse_prefix("0.0.0.1/0")));
    EXPECT_FALSE(host_bits_set(*parse_prefix("255.255.255.255/32")));
    EXPECT_FALSE(host_bits_set(*parse_prefix("fd00:1::/32")));
    EXPECT_TRUE(host_bits_set(*parse_prefix("fd00:1::1/64")));
    EXPECT_FALSE(host_bits_set(*parse_prefix("fd00::1")));
    EXPECT_TRUE(host_bits_set(*parse_prefix("fd00::/7")));
}

} // namespace
} // namespace weft
