#include "conntrack.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include <netlink/netfilter/ct.h>
#include <netlink/netfilter/nfnl.h>

#include <weft/libnl.hpp>

#include "cni.hpp"

namespace weft::cni {

namespace {

[[noreturn]] void fail(const std::string& what, int err) {
    throw CniError(code::setup_failed, what, nl_geterror(err));
}

// Whether `addr` (a conntrack tuple's address; null when the entry has none)
// is one of `addrs`.
bool listed(nl_addr* addr, const std::vector<IpAddr>& addrs) {
    if (!addr) {
        return false;
    }
    const auto* raw = nl_addr_get_binary_addr(addr);
    const unsigned len = nl_addr_get_len(addr);
    return std::any_of(addrs.begin(), addrs.end(), [&](const IpAddr& a) {
        auto bytes = addr_bytes(a);
        return bytes.size() == len && std::memcmp(raw, bytes.data(), len) == 0;
    });
}

bool names_any(nfnl_ct* ct, const std::vector<IpAddr>& addrs) {
    for (int repl : {0, 1}) {
        if (listed(nfnl_ct_get_src(ct, repl), addrs) || listed(nfnl_ct_get_dst(ct, repl), addrs)) {
            return true;
        }
    }
    return false;
}

} // namespace

// One dump of the whole table (both families), then a delete per entry
// that names one of the addresses. ctnetlink (libnl-nf) rather than a
// library of its own: weft-cni already speaks netlink through libnl, and
// with libnl-nf's static archive the plugin needs no shared library but
// libc (its start-up is part of every ADD and DEL).
std::size_t flush_conntrack(const std::vector<IpAddr>& addrs) {
    if (addrs.empty()) {
        return 0;
    }
    nl::Sock sock(nl_socket_alloc());
    if (!sock) {
        throw CniError(code::setup_failed, "cannot allocate a ctnetlink socket");
    }
    if (int err = nfnl_connect(sock.get()); err < 0) {
        fail("cannot open ctnetlink to flush conntrack", err);
    }
    nl_cache* raw = nullptr;
    if (int err = nfnl_ct_alloc_cache(sock.get(), &raw); err < 0) {
        fail("cannot dump conntrack entries", err);
    }
    nl::Cache cache(raw);
    std::size_t deleted = 0;
    for (nl_object* obj = nl_cache_get_first(raw); obj; obj = nl_cache_get_next(obj)) {
        auto* ct = reinterpret_cast<nfnl_ct*>(obj);
        if (!names_any(ct, addrs)) {
            continue;
        }
        int err = nfnl_ct_del(sock.get(), ct, 0);
        if (err == 0) {
            ++deleted;
        } else if (err != -NLE_OBJ_NOTFOUND) { // gone meanwhile is as good as deleted
            fail("cannot delete a conntrack entry", err);
        }
    }
    return deleted;
}

} // namespace weft::cni
