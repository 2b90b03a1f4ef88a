// Outgoing NAT for the pod network: traffic that pods send out of the
// cluster's pod CIDR leaves the node with the node's address (masquerade),
// through nftables rules in tables of weft's own.
//
// weftd owns `table ip weft` (for the IPv4 pod CIDR) and `table ip6 weft`
// (for the IPv6 one) entirely: whatever else they hold is removed, and no
// other table is ever read or written. Each holds one base chain
//
//   chain postrouting {
//       type nat hook postrouting priority srcnat; policy accept;
//       ip saddr 10.244.0.0/16 ip daddr != 10.244.0.0/16 oifname != "weft0" counter masquerade
//   }
//
// (ip6 saddr/daddr in the ip6 table). The rule leaves alone:
//   * pod-to-pod traffic: its destination is in the pod CIDR, and traffic
//     through the weft device is pod-to-pod (or node-to-pod) by design;
//   * traffic that another table already translated: netfilter runs the nat
//     chains of a hook only until one of them binds a translation, and only
//     for a connection's first packet, so a connection SNAT'd by someone else
//     (kube-proxy's masquerade, say) is not masqueraded again, and the rule
//     costs nothing after a connection's first packet.
// The counter counts the connections masqueraded (one packet each).
//
// Writes are single nftables transactions ("add table; delete table; table
// { ... }"), so the rules are replaced atomically: packets see either the old
// table or the new one, never none. Established connections keep their
// translation (it lives in conntrack, not in the rules).
//
// A Nat works in the network namespace it was created in. It is not safe to
// use from two threads at once.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <weft/addr.hpp>
#include <weft/error.hpp>

struct nft_ctx;

namespace weft {

struct NatSpec {
    // The pod CIDRs: at most one per family (the cluster's --cluster-cidr
    // and --cluster-cidr6), without host bits. A family without one has no
    // table; an empty list means no NAT at all.
    std::vector<Prefix> cluster;
    // The weft device (weft0): what leaves through it is never translated.
    std::string device;

    bool operator==(const NatSpec&) const = default;
};

// A failure of weft's NAT. what() says what weftd was doing and what nft
// reported, for example
//   "writing nftables table ip weft: Could not process rule: Operation not supported".
// errnum() is EINVAL for a spec that cannot be written (a bad device name,
// two CIDRs of one family) and otherwise the errno that nft's message names
// (EPERM, ENOENT...), or EIO when it names none.
class NatError : public Error {
public:
    NatError(int errnum, const std::string& text);
};

class Nat {
public:
    // `table` is the name of weft's tables in both families: a letter, then
    // letters, digits or '_', at most 64 characters. Throws NatError.
    explicit Nat(std::string table = "weft");

    // Makes weft's tables exactly what `spec` says: reads them back and, in
    // one transaction, rewrites the ones that differ from it (and removes the
    // one of a family that has no CIDR). A table that already matches is not
    // touched, so its counter and handles are kept. Returns whether anything
    // was written. Throws NatError.
    bool ensure(const NatSpec& spec);

    // Deletes weft's tables, if present. Returns whether anything was
    // deleted. Throws NatError.
    bool remove();

    // Whether weft's tables are exactly what `spec` says (ensure() would
    // write nothing). Throws NatError.
    bool matches(const NatSpec& spec) const;

    const std::string& table() const noexcept { return table_; }

private:
    struct CtxFree {
        void operator()(nft_ctx* ctx) const noexcept;
    };

    std::string table_;
    std::unique_ptr<nft_ctx, CtxFree> ctx_;
};

} // namespace weft
