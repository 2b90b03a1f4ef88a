// Helpers for building netlink buffers by hand in the unit tests, the way
// the kernel lays them out, independent of libweft's own builder.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <linux/genetlink.h>
#include <linux/netlink.h>

#include <weft/message.hpp>

namespace weft::test {

class Writer {
public:
    // Starts a message with a netlink header (length fixed by finish()).
    Writer(std::uint16_t type, std::uint16_t flags, std::uint32_t seq = 0, std::uint32_t pid = 0) {
        nlmsghdr nlh{};
        nlh.nlmsg_type = type;
        nlh.nlmsg_flags = flags;
        nlh.nlmsg_seq = seq;
        nlh.nlmsg_pid = pid;
        raw(&nlh, sizeof(nlh));
    }

    void raw(const void* data, std::size_t len) {
        // resize + memcpy rather than insert(): GCC 12 warns falsely
        // (-Wstringop-overflow) about vector::insert of a byte range.
        std::size_t at = buf.size();
        buf.resize(at + len);
        if (len != 0) {
            std::memcpy(buf.data() + at, data, len);
        }
    }
    void align() { buf.resize(NLMSG_ALIGN(buf.size()), 0); }

    void genl(std::uint8_t cmd, std::uint8_t version = 1) {
        genlmsghdr g{};
        g.cmd = cmd;
        g.version = version;
        raw(&g, sizeof(g));
    }

    // An attribute with `len` bytes of payload, padded to 4 bytes.
    void attr(std::uint16_t type, const void* data, std::size_t len) {
        nlattr nla{};
        nla.nla_len = static_cast<std::uint16_t>(NLA_HDRLEN + len);
        nla.nla_type = type;
        raw(&nla, sizeof(nla));
        raw(data, len);
        align();
    }
    template <typename T>
    void attr_int(std::uint16_t type, T value) {
        attr(type, &value, sizeof(value));
    }
    void attr_str(std::uint16_t type, const std::string& s) { attr(type, s.c_str(), s.size() + 1); }

    std::size_t begin_nest(std::uint16_t type) {
        std::size_t at = buf.size();
        nlattr nla{};
        nla.nla_type = type | NLA_F_NESTED;
        raw(&nla, sizeof(nla));
        return at;
    }
    void end_nest(std::size_t at) {
        auto len = static_cast<std::uint16_t>(buf.size() - at);
        std::memcpy(buf.data() + at, &len, sizeof(len));
    }

    Bytes finish() {
        auto len = static_cast<std::uint32_t>(buf.size());
        std::memcpy(buf.data(), &len, sizeof(len));
        return buf;
    }

    Bytes buf;
};

} // namespace weft::test
