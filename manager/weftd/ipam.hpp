// Pod address management for weftd: hands out addresses from the node's pod
// block(s), one per configured family, and keeps them in the state
// database's allocations table.
//
// Which addresses are never handed out, in a block of length L:
//   * the first address of the block (the network address; for IPv6 the
//     subnet-router anycast address);
//   * the second one, the first usable address, which is the node's own
//     (gateway) side of the pod network (gateways());
//   * for IPv4, the last address of the block (the broadcast address).
// So a /24 has 253 pod addresses, a /30 one, and an IPv6 /64 2^64 - 2.
// IPv4 blocks may be at most /30 long, IPv6 blocks between /64 and /126.
//
// Each operation is one transaction. allocate() is idempotent: an attachment
// (container ID, interface name) that already has its addresses gets the
// same ones back, which is how a CNI ADD repeated after a crash is
// recognised. A released address cools down for `cooldown` seconds before it
// may be handed out again, and the search for a free address goes on from
// the last one handed out (next-fit, kept in the meta table), so that an
// address that was just freed is the last to be reused.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <weft/addr.hpp>
#include <weft/error.hpp>

#include "state.hpp"

namespace weft {

// One pod interface: the CNI plugin's view of an address owner.
struct AttachmentKey {
    std::string container_id;
    std::string ifname;

    auto operator<=>(const AttachmentKey&) const = default;
};

// An attachment and its addresses, IPv4 first.
struct Attachment {
    std::string container_id;
    std::string ifname;
    std::vector<IpAddr> addrs;

    bool operator==(const Attachment&) const = default;
};

// A pod block with no address left to hand out. what() reads
//   "no free address in 10.244.1.0/24 (250 in use, 3 cooling down)";
// errnum() is ENOSPC.
class AddressesExhausted : public Error {
public:
    AddressesExhausted(const Prefix& block, std::uint64_t in_use, std::uint64_t cooling);
    const Prefix& block() const noexcept { return block_; }

private:
    Prefix block_;
};

class Ipam {
public:
    // Seconds since the Unix epoch.
    using Clock = std::function<std::int64_t()>;
    static std::int64_t wall_clock();

    // `blocks` holds one or two prefixes, at most one per family, without
    // host bits set (std::invalid_argument otherwise). `db` must outlive
    // the Ipam.
    Ipam(Db& db, std::vector<Prefix> blocks, std::int64_t cooldown, Clock clock = wall_clock);

    const std::vector<Prefix>& blocks() const noexcept { return blocks_; }
    // The reserved first usable address of each block, in the order of
    // blocks().
    std::vector<IpAddr> gateways() const;

    // The attachment's addresses, one per block, in the order of blocks().
    std::vector<IpAddr> allocate(const std::string& container_id, const std::string& ifname);
    // Releases the attachment's addresses and returns them (none if it held
    // none: releasing twice is not an error).
    std::vector<IpAddr> release(const std::string& container_id, const std::string& ifname);
    std::optional<Attachment> find(const std::string& container_id, const std::string& ifname);
    // Every attachment holding addresses, ordered by container ID and
    // interface name.
    std::vector<Attachment> list();
    // Releases every attachment not in `valid` and returns those released.
    std::vector<Attachment> gc(const std::set<AttachmentKey>& valid);
    // Forgets released addresses whose cool-down is over; returns how many.
    std::size_t expire();

private:
    std::vector<IpAddr> release_locked(const std::string& container_id, const std::string& ifname);
    IpAddr pick(const Prefix& block, std::int64_t now);

    // Addresses pick() tries one by one before it reads every busy address
    // of the block.
    static constexpr std::uint64_t probe_limit = 16;

    Db& db_;
    std::vector<Prefix> blocks_;
    std::int64_t cooldown_;
    Clock clock_;
};

} // namespace weft
