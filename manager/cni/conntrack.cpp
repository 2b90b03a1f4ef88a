#include "conntrack.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "cni.hpp"

namespace weft::cni {

namespace {

struct HandleCloser {
    void operator()(nfct_handle* h) const { nfct_close(h); }
};
struct EntryFree {
    void operator()(nf_conntrack* ct) const { nfct_destroy(ct); }
};
using Handle = std::unique_ptr<nfct_handle, HandleCloser>;
using Entry = std::unique_ptr<nf_conntrack, EntryFree>;

struct Dump {
    int family = AF_INET;
    std::vector<IpAddr> addrs; // of `family` only
    std::vector<Entry> matches;
};

bool names(const Dump& dump, const nf_conntrack* ct, nf_conntrack_attr attr) {
    const void* raw = nfct_get_attr(ct, attr);
    if (!raw) {
        return false;
    }
    return std::any_of(dump.addrs.begin(), dump.addrs.end(), [&](const IpAddr& a) {
        auto bytes = addr_bytes(a);
        return std::memcmp(raw, bytes.data(), bytes.size()) == 0;
    });
}

int on_entry(enum nf_conntrack_msg_type, nf_conntrack* ct, void* data) {
    auto& dump = *static_cast<Dump*>(data);
    bool v4 = dump.family == AF_INET;
    if (names(dump, ct, v4 ? ATTR_ORIG_IPV4_SRC : ATTR_ORIG_IPV6_SRC) ||
        names(dump, ct, v4 ? ATTR_ORIG_IPV4_DST : ATTR_ORIG_IPV6_DST) ||
        names(dump, ct, v4 ? ATTR_REPL_IPV4_SRC : ATTR_REPL_IPV6_SRC) ||
        names(dump, ct, v4 ? ATTR_REPL_IPV4_DST : ATTR_REPL_IPV6_DST)) {
        Entry copy(nfct_clone(ct));
        if (copy) {
            dump.matches.push_back(std::move(copy));
        }
    }
    return NFCT_CB_CONTINUE;
}

} // namespace

std::size_t flush_conntrack(const std::vector<IpAddr>& addrs) {
    std::size_t deleted = 0;
    for (int family : {AF_INET, AF_INET6}) {
        Dump dump;
        dump.family = family;
        for (const auto& a : addrs) {
            if (is_ipv4(a) == (family == AF_INET)) {
                dump.addrs.push_back(a);
            }
        }
        if (dump.addrs.empty()) {
            continue;
        }
        Handle h(nfct_open(CONNTRACK, 0));
        if (!h) {
            throw CniError(code::setup_failed, "cannot open ctnetlink to flush conntrack",
                           std::strerror(errno));
        }
        nfct_callback_register(h.get(), NFCT_T_ALL, on_entry, &dump);
        std::uint32_t query_family = static_cast<std::uint32_t>(family);
        if (nfct_query(h.get(), NFCT_Q_DUMP, &query_family) < 0) {
            throw CniError(code::setup_failed, "cannot dump conntrack entries",
                           std::strerror(errno));
        }
        for (const auto& ct : dump.matches) {
            if (nfct_query(h.get(), NFCT_Q_DESTROY, ct.get()) == 0) {
                ++deleted;
            } else if (errno != ENOENT) { // gone meanwhile is as good as deleted
                throw CniError(code::setup_failed, "cannot delete a conntrack entry",
                               std::strerror(errno));
            }
        }
    }
    return deleted;
}

} // namespace weft::cni
