// Extended ACK parsing and naming of the attribute at fault.
#include <cerrno>

#include <linux/weft.h>

#include <weft/message.hpp>

#include <gtest/gtest.h>

#include "helpers.hpp"

namespace weft {
namespace {

constexpr std::uint16_t ext_msg = 1;
constexpr std::uint16_t ext_offs = 2;
constexpr std::uint16_t ext_miss_type = 5;
constexpr std::uint16_t ext_miss_nest = 6;

// ifname "weft0" at offset 20, WEFT_A_DEV at 32, VNI at 36, PORT at 44.
Bytes request() {
    DevSetRequest r;
    r.dev = DevRef::by_name("weft0");
    r.vni = 42;
    r.port = 8472;
    return encode_dev_set(0x1234, r);
}

struct Tlvs {
    std::optional<std::string> msg;
    std::optional<std::uint32_t> offs;
    std::optional<std::uint32_t> miss_type;
    std::optional<std::uint32_t> miss_nest;
};

// An NLMSG_ERROR as the kernel builds it (net/netlink/af_netlink.c).
Bytes error_message(int error, const Bytes& req, bool capped, const std::optional<Tlvs>& tlvs) {
    std::uint16_t flags = 0;
    if (capped) {
        flags |= NLM_F_CAPPED;
    }
    if (tlvs) {
        flags |= NLM_F_ACK_TLVS;
    }
    test::Writer w(NLMSG_ERROR, flags);
    nlmsgerr err{};
    err.error = -error;
    std::memcpy(&err.msg, req.data(), sizeof(err.msg));
    w.raw(&err, sizeof(err));
    if (!capped) {
        w.raw(req.data() + NLMSG_HDRLEN, req.size() - NLMSG_HDRLEN);
    }
    w.align();
    if (tlvs) {
        if (tlvs->msg) {
            w.attr_str(ext_msg, *tlvs->msg);
        }
        if (tlvs->offs) {
            w.attr_int(ext_offs, *tlvs->offs);
        }
        if (tlvs->miss_type) {
            w.attr_int(ext_miss_type, *tlvs->miss_type);
        }
        if (tlvs->miss_nest) {
            w.attr_int(ext_miss_nest, *tlvs->miss_nest);
        }
    }
    return w.finish();
}

class ExtAckCapping : public testing::TestWithParam<bool> {};

TEST_P(ExtAckCapping, MessageAndOffset) {
    Bytes req = request();
    Bytes msg = error_message(ERANGE, req, GetParam(), Tlvs{"integer out of range", 36, {}, {}});
    ExtAck ack = parse_error_message(msg);
    EXPECT_EQ(ack.error, ERANGE);
    EXPECT_EQ(ack.message, "integer out of range");
    EXPECT_EQ(ack.offset, 36u);
    EXPECT_FALSE(ack.miss_type);
    Error e = make_error(ack, req);
    EXPECT_EQ(e.errnum(), ERANGE);
    EXPECT_EQ(e.attribute(), "WEFT_DEV_A_VNI");
    EXPECT_STREQ(e.what(),
                 "Numerical result out of range: integer out of range (attribute WEFT_DEV_A_VNI)");
}

TEST_P(ExtAckCapping, MissingTopLevelAttribute) {
    Bytes req = request();
    Bytes msg =
        error_message(EINVAL, req, GetParam(), Tlvs{"Missing attribute", {}, WEFT_A_DEV, {}});
    ExtAck ack = parse_error_message(msg);
    EXPECT_EQ(ack.miss_type, static_cast<std::uint32_t>(WEFT_A_DEV));
    EXPECT_FALSE(ack.miss_nest);
    Error e = make_error(ack, req);
    EXPECT_EQ(e.missing_attribute(), "WEFT_A_DEV");
    EXPECT_STREQ(e.what(), "Invalid argument: Missing attribute (missing attribute WEFT_A_DEV)");
}

TEST_P(ExtAckCapping, MissingNestedAttribute) {
    Bytes req = request();
    Bytes msg = error_message(EINVAL, req, GetParam(), Tlvs{{}, {}, WEFT_DEV_A_PORT, 32});
    ExtAck ack = parse_error_message(msg);
    EXPECT_TRUE(ack.message.empty());
    EXPECT_EQ(ack.miss_nest, 32u);
    EXPECT_EQ(make_error(ack, req).missing_attribute(), "WEFT_DEV_A_PORT");
}

INSTANTIATE_TEST_SUITE_P(CappedAndUncapped, ExtAckCapping, testing::Bool(),
                         [](const auto& info) { return info.param ? "capped" : "uncapped"; });

TEST(ExtAck, NoTlvs) {
    Bytes req = request();
    Bytes msg = error_message(EPERM, req, false, std::nullopt);
    ExtAck ack = parse_error_message(msg);
    EXPECT_EQ(ack.error, EPERM);
    EXPECT_TRUE(ack.message.empty());
    EXPECT_FALSE(ack.offset);
    EXPECT_STREQ(make_error(ack, req).what(), "Operation not permitted");
}

TEST(ExtAck, PlainAck) {
    Bytes msg = error_message(0, request(), true, std::nullopt);
    EXPECT_EQ(parse_error_message(msg).error, 0);
}

TEST(ExtAck, OffsetNamesTopLevelAndNest) {
    Bytes req = request();
    EXPECT_EQ(attribute_at(req, 20), "WEFT_A_IFNAME");
    EXPECT_EQ(attribute_at(req, 32), "WEFT_A_DEV");
    EXPECT_EQ(attribute_at(req, 36), "WEFT_DEV_A_VNI");
    EXPECT_EQ(attribute_at(req, 44), "WEFT_DEV_A_PORT");
    // Inside a payload: the innermost attribute holding it.
    EXPECT_EQ(attribute_at(req, 46), "WEFT_DEV_A_PORT");
    EXPECT_EQ(attribute_at(req, 22), "WEFT_A_IFNAME");
    // In the headers or past the end: nothing.
    EXPECT_EQ(attribute_at(req, 4), "");
    EXPECT_EQ(attribute_at(req, 1000), "");
    EXPECT_EQ(nest_space_at(req, 32), AttrSpace::Dev);
    EXPECT_EQ(nest_space_at(req, 36), std::nullopt);
}

TEST(ExtAck, UnknownNestedTypeIsNamedByNumber) {
    test::Writer w(0x1234, NLM_F_REQUEST);
    w.genl(WEFT_CMD_DEV_SET);
    w.attr_int<std::uint32_t>(WEFT_A_IFINDEX, 4);
    auto dev = w.begin_nest(WEFT_A_DEV); // at 28
    w.attr_int<std::uint32_t>(99, 1);    // at 32
    w.end_nest(dev);
    Bytes req = w.finish();
    EXPECT_EQ(attribute_at(req, 32), "WEFT_DEV_A type 99");
}

TEST(ExtAck, ReadOnlyRejection) {
    test::Writer w(0x1234, NLM_F_REQUEST);
    w.genl(WEFT_CMD_DEV_SET);
    w.attr_int<std::uint32_t>(WEFT_A_IFINDEX, 4);
    auto dev = w.begin_nest(WEFT_A_DEV);
    w.attr_int<std::uint32_t>(WEFT_DEV_A_MTU, 1400); // at 32
    w.end_nest(dev);
    Bytes req = w.finish();
    Bytes msg = error_message(EINVAL, req, true, Tlvs{"WEFT_DEV_A_MTU is read-only", 32, {}, {}});
    EXPECT_STREQ(make_error(parse_error_message(msg), req).what(),
                 "Invalid argument: WEFT_DEV_A_MTU is read-only (attribute WEFT_DEV_A_MTU)");
}

TEST(ExtAck, BrokenTlvsKeepTheErrno) {
    Bytes req = request();
    Bytes msg = error_message(EINVAL, req, true, Tlvs{"first", {}, {}, {}});
    // Append a TLV header claiming more bytes than there are.
    const std::uint8_t bad[] = {64, 0, ext_offs, 0};
    msg.insert(msg.end(), std::begin(bad), std::end(bad));
    auto len = static_cast<std::uint32_t>(msg.size());
    std::memcpy(msg.data(), &len, 4);
    ExtAck ack = parse_error_message(msg);
    EXPECT_EQ(ack.error, EINVAL);
    EXPECT_EQ(ack.message, "first");
    EXPECT_FALSE(ack.offset);
}

TEST(ExtAck, MessageWithoutNulIsTaken) {
    Bytes req = request();
    test::Writer w(NLMSG_ERROR, NLM_F_CAPPED | NLM_F_ACK_TLVS);
    nlmsgerr err{};
    err.error = -EINVAL;
    std::memcpy(&err.msg, req.data(), sizeof(err.msg));
    w.raw(&err, sizeof(err));
    w.attr(ext_msg, "abc", 3);
    EXPECT_EQ(parse_error_message(w.finish()).message, "abc");
}

TEST(ExtAck, TooShortIsMalformed) {
    test::Writer w(NLMSG_ERROR, 0);
    int error = -EINVAL;
    w.raw(&error, sizeof(error));
    EXPECT_THROW(parse_error_message(w.finish()), MalformedMessage);
}

TEST(ExtAck, DoneOfAFailedDump) {
    test::Writer w(NLMSG_DONE, NLM_F_MULTI | NLM_F_ACK_TLVS);
    int error = -EMSGSIZE;
    w.raw(&error, sizeof(error));
    w.attr_str(ext_msg, "dump too big");
    ExtAck ack = parse_done_message(w.finish());
    EXPECT_EQ(ack.error, EMSGSIZE);
    EXPECT_EQ(ack.message, "dump too big");

    test::Writer ok(NLMSG_DONE, NLM_F_MULTI);
    int zero = 0;
    ok.raw(&zero, sizeof(zero));
    EXPECT_EQ(parse_done_message(ok.finish()).error, 0);
}

TEST(ErrorText, LocalErrors) {
    Error e(ENOENT, "cannot open");
    EXPECT_STREQ(e.what(), "cannot open: No such file or directory");
    EXPECT_EQ(e.code(), std::errc::no_such_file_or_directory);
    FamilyNotFound f;
    EXPECT_EQ(f.errnum(), ENOENT);
    EXPECT_STREQ(f.what(), "the weft generic netlink family is not available: is weft.ko loaded?");
}

} // namespace
} // namespace weft
