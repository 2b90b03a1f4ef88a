// weft::Socket against the kernel's own generic netlink controller ("nlctrl"),
// which every kernel has: family lookup, request/ACK, extended ACKs and
// multi-part dumps, without weft.ko. Skipped where netlink is unavailable.
#include <cerrno>

#include <linux/genetlink.h>

#include <weft/socket.hpp>

#include <gtest/gtest.h>

namespace weft {
namespace {

std::optional<Socket> open_ctrl() {
    try {
        return Socket::open("nlctrl");
    } catch (const Error& e) {
        return std::nullopt;
    }
}

TEST(Socket, ResolvesTheController) {
    auto s = open_ctrl();
    if (!s) {
        GTEST_SKIP() << "no generic netlink here";
    }
    EXPECT_EQ(s->family_id(), GENL_ID_CTRL);
    EXPECT_GE(s->family_version(), 1u);
    EXPECT_NE(s->portid(), 0u);
}

TEST(Socket, MissingFamily) {
    if (!open_ctrl()) {
        GTEST_SKIP() << "no generic netlink here";
    }
    EXPECT_THROW(Socket::open("weftnosuch"), FamilyNotFound);
}

TEST(Socket, MultipartDump) {
    auto s = open_ctrl();
    if (!s) {
        GTEST_SKIP() << "no generic netlink here";
    }
    MessageBuilder b(GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_DUMP);
    b.put_genl(CTRL_CMD_GETFAMILY, 1);
    Bytes request = std::move(b).finish();
    int families = 0;
    bool consistent = s->dump(request, [&](std::span<const std::uint8_t>) { ++families; });
    EXPECT_TRUE(consistent);
    EXPECT_GE(families, 1) << "at least nlctrl itself";
    // The socket is still usable after a dump.
    MessageBuilder again(GENL_ID_CTRL, NLM_F_REQUEST);
    again.put_genl(CTRL_CMD_GETFAMILY, 1);
    again.put_strz(CTRL_ATTR_FAMILY_NAME, "nlctrl");
    Bytes get = std::move(again).finish();
    int replies = 0;
    s->transact(get, [&](std::span<const std::uint8_t>) { ++replies; });
    EXPECT_EQ(replies, 1);
}

TEST(Socket, KernelRejectionCarriesErrno) {
    auto s = open_ctrl();
    if (!s) {
        GTEST_SKIP() << "no generic netlink here";
    }
    // CTRL_ATTR_FAMILY_ID is a u16: a one-byte one fails the policy.
    MessageBuilder b(GENL_ID_CTRL, NLM_F_REQUEST);
    b.put_genl(CTRL_CMD_GETFAMILY, 1);
    b.put_u8(CTRL_ATTR_FAMILY_ID, 1);
    Bytes request = std::move(b).finish();
    try {
        s->transact(request);
        FAIL() << "accepted";
    } catch (const Error& e) {
        // EINVAL or ERANGE, depending on the kernel's policy code.
        EXPECT_TRUE(e.errnum() == EINVAL || e.errnum() == ERANGE) << e.what();
        EXPECT_FALSE(e.kernel_message().empty()) << "extended ACKs are on";
        EXPECT_EQ(e.attribute(), "") << "weft names are not applied to other families";
    }
}

} // namespace
} // namespace weft
