// A generic netlink socket talking to the "weft" family.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include <weft/message.hpp>

struct mnl_socket;

namespace weft {

// Called for each data message of a reply (not for ACKs or NLMSG_DONE).
// The span covers one whole message, header included.
using ReplyHandler = std::function<void(std::span<const std::uint8_t>)>;

// Consumes the datagrams answering one request and tells when the answer is
// complete. Holds no socket, so it can be fed hand-made buffers.
class ReplyReader {
public:
    // `request` is the message that was sent (sequence number and port id
    // filled in). If `weft_request` is set, it is a request of the weft
    // family and errors name its attributes.
    ReplyReader(std::span<const std::uint8_t> request, bool dump, bool weft_request = true);

    // Processes one datagram. Messages of other sequence numbers or ports
    // are skipped. Throws weft::Error for an error ACK or a failed dump.
    // Returns true once the ACK (or, for a dump, NLMSG_DONE) was seen.
    bool feed(std::span<const std::uint8_t> datagram, const ReplyHandler& on_reply);

    // Whether a message of the dump carried NLM_F_DUMP_INTR.
    bool interrupted() const { return interrupted_; }

private:
    // What make_error() resolves attribute names against: nothing for
    // requests of other families, whose attribute enums libweft does not know.
    std::span<const std::uint8_t> naming_request() const {
        return weft_request_ ? request_ : std::span<const std::uint8_t>();
    }

    std::span<const std::uint8_t> request_;
    bool weft_request_;
    std::uint32_t seq_;
    std::uint32_t portid_;
    bool dump_;
    bool interrupted_ = false;
};

// Owns an AF_NETLINK/NETLINK_GENERIC socket (move-only) with NETLINK_EXT_ACK
// and NETLINK_CAP_ACK enabled, and the resolved id of one family.
class Socket {
public:
    // Opens a socket and resolves `family` with CTRL_CMD_GETFAMILY. Throws
    // FamilyNotFound if the family is not registered, weft::Error otherwise.
    static Socket open(const std::string& family = "weft");

    Socket(Socket&&) noexcept = default;
    Socket& operator=(Socket&&) noexcept = default;
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
    ~Socket() = default;

    std::uint16_t family_id() const { return family_id_; }
    std::uint32_t family_version() const { return family_version_; }
    std::uint32_t portid() const { return portid_; }

    // Sends a request (NLM_F_ACK is added) and waits for its ACK; each reply
    // message before it goes to `on_reply`. Throws weft::Error on rejection.
    void transact(Bytes& request, const ReplyHandler& on_reply = {});

    // Sends a dump request and reads it to NLMSG_DONE. Returns false if a
    // message carried NLM_F_DUMP_INTR (the caller decides whether to restart).
    bool dump(Bytes& request, const ReplyHandler& on_reply);

private:
    struct Closer {
        void operator()(mnl_socket* nl) const noexcept;
    };

    Socket() = default;
    bool exchange(Bytes& request, bool dump, const ReplyHandler& on_reply);
    void resolve_family(const std::string& family);

    std::unique_ptr<mnl_socket, Closer> nl_;
    std::uint32_t portid_ = 0;
    std::uint32_t seq_ = 0;
    std::uint16_t family_id_ = 0;
    std::uint32_t family_version_ = 0;
    bool weft_family_ = false; // whether the resolved family is "weft"
    Bytes rx_;
};

} // namespace weft
