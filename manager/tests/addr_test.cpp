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

} // namespace
} // namespace weft
