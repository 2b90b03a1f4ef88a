// The generic netlink socket: request/ACK, dumps, and the family lookup.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/weft.h>

#include <weft/socket.hpp>

#include <libmnl/libmnl.h>

namespace weft {

namespace {

// Large enough for any dump skb the kernel builds (it sizes them after the
// receive buffers it has seen, up to 32 KiB and a page or so more).
constexpr std::size_t receive_buffer_size = 64 * 1024;

} // namespace

// ---- ReplyReader ------------------------------------------------------------

ReplyReader::ReplyReader(std::span<const std::uint8_t> request, bool dump, bool weft_request)
    : request_(request), weft_request_(weft_request), seq_(0), portid_(0), dump_(dump) {
    if (request.size() < NLMSG_HDRLEN) {
        throw MalformedMessage("request shorter than a netlink header");
    }
    nlmsghdr nlh;
    std::memcpy(&nlh, request.data(), sizeof(nlh));
    seq_ = nlh.nlmsg_seq;
    portid_ = nlh.nlmsg_pid;
}

bool ReplyReader::feed(std::span<const std::uint8_t> datagram, const ReplyHandler& on_reply) {
    std::size_t pos = 0;
    while (pos < datagram.size()) {
        std::size_t left = datagram.size() - pos;
        if (left < NLMSG_HDRLEN) {
            throw MalformedMessage("truncated netlink header in a reply");
        }
        nlmsghdr nlh;
        std::memcpy(&nlh, datagram.data() + pos, sizeof(nlh));
        if (nlh.nlmsg_len < NLMSG_HDRLEN || nlh.nlmsg_len > left) {
            throw MalformedMessage("reply message of length " + std::to_string(nlh.nlmsg_len) +
                                   " with " + std::to_string(left) + " bytes left");
        }
        auto message = datagram.subspan(pos, nlh.nlmsg_len);
        pos += std::min<std::size_t>(NLMSG_ALIGN(nlh.nlmsg_len), left);

        // Leftovers of an earlier request that was abandoned on error.
        if (nlh.nlmsg_seq != seq_ || (portid_ != 0 && nlh.nlmsg_pid != portid_)) {
            continue;
        }
        if (nlh.nlmsg_flags & NLM_F_DUMP_INTR) {
            interrupted_ = true;
        }
        switch (nlh.nlmsg_type) {
        case NLMSG_ERROR: {
            auto ack = parse_error_message(message);
            if (ack.error != 0) {
                throw make_error(ack, naming_request());
            }
            if (!dump_) {
                return true;
            }
            break;
        }
        case NLMSG_DONE: {
            if (!dump_) {
                break;
            }
            auto ack = parse_done_message(message);
            if (ack.error != 0) {
                throw make_error(ack, naming_request());
            }
            return true;
        }
        case NLMSG_NOOP:
        case NLMSG_OVERRUN:
            break;
        default:
            if (on_reply) {
                on_reply(message);
            }
            break;
        }
    }
    return false;
}

// ---- Socket -----------------------------------------------------------------

void Socket::Closer::operator()(mnl_socket* nl) const noexcept {
    mnl_socket_close(nl);
}

Socket Socket::open(const std::string& family) {
    Socket s;
    s.nl_.reset(mnl_socket_open2(NETLINK_GENERIC, SOCK_CLOEXEC));
    if (!s.nl_) {
        throw Error(errno, "cannot open a generic netlink socket");
    }
    // Best effort: without extended ACKs errors lose their message, without
    // capped ACKs they echo the whole request, and both still work.
    int one = 1;
    mnl_socket_setsockopt(s.nl_.get(), NETLINK_EXT_ACK, &one, sizeof(one));
    mnl_socket_setsockopt(s.nl_.get(), NETLINK_CAP_ACK, &one, sizeof(one));
    if (mnl_socket_bind(s.nl_.get(), 0, MNL_SOCKET_AUTOPID) < 0) {
        throw Error(errno, "cannot bind the generic netlink socket");
    }
    s.portid_ = mnl_socket_get_portid(s.nl_.get());
    s.seq_ = static_cast<std::uint32_t>(std::time(nullptr));
    s.rx_.resize(receive_buffer_size);
    s.resolve_family(family);
    s.weft_family_ = family == WEFT_GENL_NAME;
    return s;
}

void Socket::resolve_family(const std::string& family) {
    MessageBuilder b(GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_ACK);
    b.put_genl(CTRL_CMD_GETFAMILY, 1);
    b.put_strz(CTRL_ATTR_FAMILY_NAME, family);
    Bytes request = std::move(b).finish();

    bool found = false;
    auto on_reply = [&](std::span<const std::uint8_t> message) {
        // The controller's attributes follow the genlmsghdr like ours do.
        nlmsghdr nlh;
        std::memcpy(&nlh, message.data(), sizeof(nlh));
        if (nlh.nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN) {
            throw MalformedMessage("CTRL_CMD_GETFAMILY reply without a genetlink header");
        }
        auto body = message.subspan(NLMSG_HDRLEN + GENL_HDRLEN);
        for (const auto& a : walk_attrs(body)) {
            if (a.type == CTRL_ATTR_FAMILY_ID && a.payload.size() == sizeof(std::uint16_t)) {
                std::memcpy(&family_id_, a.payload.data(), sizeof(family_id_));
                found = true;
            } else if (a.type == CTRL_ATTR_VERSION && a.payload.size() == sizeof(std::uint32_t)) {
                std::memcpy(&family_version_, a.payload.data(), sizeof(family_version_));
            }
        }
    };
    try {
        exchange(request, false, on_reply);
    } catch (const Error& e) {
        if (e.errnum() == ENOENT) {
            throw FamilyNotFound();
        }
        throw;
    }
    if (!found) {
        throw MalformedMessage("CTRL_CMD_GETFAMILY reply without CTRL_ATTR_FAMILY_ID");
    }
}

bool Socket::exchange(Bytes& request, bool dump, const ReplyHandler& on_reply) {
    if (request.size() < NLMSG_HDRLEN) {
        throw Error(EINVAL, "netlink request shorter than its header");
    }
    auto* nlh = reinterpret_cast<nlmsghdr*>(request.data());
    nlh->nlmsg_seq = ++seq_;
    nlh->nlmsg_pid = portid_;
    if (dump) {
        nlh->nlmsg_flags |= NLM_F_DUMP;
    } else {
        nlh->nlmsg_flags |= NLM_F_ACK;
    }
    if (mnl_socket_sendto(nl_.get(), request.data(), request.size()) < 0) {
        throw Error(errno, "cannot send a netlink request");
    }
    // Name attributes in errors only for requests of the weft family.
    bool weft_request = weft_family_ && nlh->nlmsg_type == family_id_;
    ReplyReader reader(request, dump, weft_request);
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(nl_.get(), rx_.data(), rx_.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw Error(errno, "cannot receive a netlink reply");
        }
        if (reader.feed(std::span<const std::uint8_t>(rx_.data(), static_cast<std::size_t>(n)),
                        on_reply)) {
            return !reader.interrupted();
        }
    }
}

void Socket::transact(Bytes& request, const ReplyHandler& on_reply) {
    exchange(request, false, on_reply);
}

bool Socket::dump(Bytes& request, const ReplyHandler& on_reply) {
    return exchange(request, true, on_reply);
}

} // namespace weft
