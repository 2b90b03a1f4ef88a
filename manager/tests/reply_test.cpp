// ReplyReader: the end of a request's answer, errors, dumps and DUMP_INTR.
#include <cerrno>
#include <type_traits>

#include <linux/weft.h>

#include <weft/socket.hpp>

#include <gtest/gtest.h>

#include "helpers.hpp"

namespace weft {
namespace {

constexpr std::uint32_t seq = 77;
constexpr std::uint32_t pid = 4242;

Bytes request(bool dump) {
    Bytes req = dump ? encode_dev_dump(0x1234) : encode_dev_get(0x1234, DevRef::by_index(4));
    auto* nlh = reinterpret_cast<nlmsghdr*>(req.data());
    nlh->nlmsg_seq = seq;
    nlh->nlmsg_pid = pid;
    return req;
}

Bytes device(std::uint32_t ifindex, std::uint16_t flags, std::uint32_t s = seq) {
    test::Writer w(0x1234, flags, s, pid);
    w.genl(WEFT_CMD_DEV_GET);
    w.attr_int<std::uint32_t>(WEFT_A_IFINDEX, ifindex);
    return w.finish();
}

Bytes ack(int error, const Bytes& req, std::uint32_t s = seq) {
    test::Writer w(NLMSG_ERROR, NLM_F_CAPPED, s, pid);
    nlmsgerr err{};
    err.error = -error;
    std::memcpy(&err.msg, req.data(), sizeof(err.msg));
    w.raw(&err, sizeof(err));
    return w.finish();
}

Bytes done(std::uint16_t flags = NLM_F_MULTI) {
    test::Writer w(NLMSG_DONE, flags, seq, pid);
    int zero = 0;
    w.raw(&zero, sizeof(zero));
    return w.finish();
}

Bytes concat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const auto& p : parts) {
        out.insert(out.end(), p.begin(), p.end());
    }
    return out;
}

struct Collector {
    std::vector<std::uint32_t> ifindexes;
    ReplyHandler handler() {
        return [this](std::span<const std::uint8_t> m) {
            ifindexes.push_back(parse_device(m).ifindex);
        };
    }
};

TEST(ReplyReader, ReplyThenAck) {
    Bytes req = request(false);
    ReplyReader r(req, false);
    Collector c;
    EXPECT_FALSE(r.feed(device(4, 0), c.handler()));
    EXPECT_TRUE(r.feed(ack(0, req), c.handler()));
    EXPECT_EQ(c.ifindexes, std::vector<std::uint32_t>{4});
}

TEST(ReplyReader, SkipsOtherSequenceNumbers) {
    Bytes req = request(false);
    ReplyReader r(req, false);
    Collector c;
    // A stale reply and a stale error from an abandoned request, then ours.
    Bytes datagram =
        concat({device(9, 0, seq - 1), ack(EINVAL, req, seq - 1), device(4, 0), ack(0, req)});
    EXPECT_TRUE(r.feed(datagram, c.handler()));
    EXPECT_EQ(c.ifindexes, std::vector<std::uint32_t>{4});
}

TEST(ReplyReader, ErrorThrowsWithErrno) {
    Bytes req = request(false);
    ReplyReader r(req, false);
    try {
        r.feed(ack(ENODEV, req), {});
        FAIL() << "no exception";
    } catch (const Error& e) {
        EXPECT_EQ(e.errnum(), ENODEV);
    }
}

// An NLMSG_ERROR pointing at offset 20 (the request's first attribute).
Bytes ack_at_first_attr(int error, const Bytes& req) {
    test::Writer w(NLMSG_ERROR, NLM_F_CAPPED | NLM_F_ACK_TLVS, seq, pid);
    nlmsgerr err{};
    err.error = -error;
    std::memcpy(&err.msg, req.data(), sizeof(err.msg));
    w.raw(&err, sizeof(err));
    w.attr_int<std::uint32_t>(2 /* NLMSGERR_ATTR_OFFS */, 20);
    return w.finish();
}

TEST(ReplyReader, NamesAttributesOfWeftRequestsOnly) {
    Bytes req = request(false);
    for (bool weft : {true, false}) {
        ReplyReader r(req, false, weft);
        try {
            r.feed(ack_at_first_attr(EINVAL, req), {});
            FAIL() << "no exception";
        } catch (const Error& e) {
            EXPECT_EQ(e.attribute(), weft ? "WEFT_A_IFINDEX" : "");
        }
    }
}

static_assert(!std::is_copy_constructible_v<Socket> && !std::is_copy_assignable_v<Socket>);
static_assert(std::is_nothrow_move_constructible_v<Socket> &&
              std::is_nothrow_move_assignable_v<Socket>);

TEST(ReplyReader, DumpAcrossDatagrams) {
    Bytes req = request(true);
    ReplyReader r(req, true);
    Collector c;
    EXPECT_FALSE(r.feed(concat({device(4, NLM_F_MULTI), device(5, NLM_F_MULTI)}), c.handler()));
    EXPECT_FALSE(r.feed(device(6, NLM_F_MULTI), c.handler()));
    EXPECT_TRUE(r.feed(done(), c.handler()));
    EXPECT_EQ(c.ifindexes, (std::vector<std::uint32_t>{4, 5, 6}));
    EXPECT_FALSE(r.interrupted());
}

TEST(ReplyReader, DumpInterrupted) {
    Bytes req = request(true);
    ReplyReader r(req, true);
    Collector c;
    EXPECT_FALSE(r.feed(device(4, NLM_F_MULTI), c.handler()));
    EXPECT_FALSE(r.feed(device(5, NLM_F_MULTI | NLM_F_DUMP_INTR), c.handler()));
    EXPECT_TRUE(r.feed(done(NLM_F_MULTI | NLM_F_DUMP_INTR), c.handler()));
    EXPECT_TRUE(r.interrupted());
}

TEST(ReplyReader, FailedDumpStart) {
    Bytes req = request(true);
    ReplyReader r(req, true);
    EXPECT_THROW(r.feed(ack(EOPNOTSUPP, req), {}), Error);
}

TEST(ReplyReader, TruncatedDatagram) {
    Bytes req = request(false);
    ReplyReader r(req, false);
    Bytes d = device(4, 0);
    d.resize(d.size() - 4);
    EXPECT_THROW(r.feed(d, {}), MalformedMessage);
    EXPECT_THROW(r.feed(Bytes(6, 0), {}), MalformedMessage);
}

} // namespace
} // namespace weft
