#include "netlink.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fcntl.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <sched.h>
#include <unistd.h>

#include <linux/if.h>
#include <linux/rtnetlink.h>

#include <weft/libnl.hpp>

#include "cni.hpp"

namespace weft::cni {

namespace {

[[noreturn]] void fail(int err, const std::string& context) {
    throw CniError(code::setup_failed, context + ": " + nl_geterror(err));
}

nl::Addr to_nl(const IpAddr& addr, unsigned prefixlen) {
    auto bytes = addr_bytes(addr);
    nl::Addr out(nl_addr_build(is_ipv4(addr) ? AF_INET : AF_INET6, bytes.data(), bytes.size()));
    if (!out) {
        throw CniError(code::setup_failed, "out of memory building an address");
    }
    nl_addr_set_prefixlen(out.get(), static_cast<int>(prefixlen));
    return out;
}

std::optional<IpAddr> from_nl(nl_addr* addr) {
    if (!addr) {
        return std::nullopt;
    }
    const auto* data = static_cast<const std::uint8_t*>(nl_addr_get_binary_addr(addr));
    if (nl_addr_get_family(addr) == AF_INET && nl_addr_get_len(addr) == 4) {
        Ipv4 a;
        std::memcpy(a.data(), data, 4);
        return a;
    }
    if (nl_addr_get_family(addr) == AF_INET6 && nl_addr_get_len(addr) == 16) {
        Ipv6 a;
        std::memcpy(a.data(), data, 16);
        return a;
    }
    return std::nullopt;
}

LinkInfo info_of(rtnl_link* link) {
    LinkInfo info;
    info.ifindex = rtnl_link_get_ifindex(link);
    info.name = rtnl_link_get_name(link);
    info.mtu = rtnl_link_get_mtu(link);
    info.up = (rtnl_link_get_flags(link) & IFF_UP) != 0;
    if (nl_addr* mac = rtnl_link_get_addr(link)) {
        char buf[64];
        info.mac = nl_addr2str(mac, buf, sizeof buf);
    }
    return info;
}

} // namespace

UniqueFd open_netns(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        throw CniError(code::invalid_env, "CNI_NETNS " + path + " cannot be opened",
                       std::strerror(errno));
    }
    return fd;
}

void in_netns(int netns_fd, const std::function<void()>& fn) {
    // setns() moves only the calling thread; weft-cni is single-threaded,
    // and entering and leaving on this thread is cheaper than starting one
    // (its start-up is part of every ADD).
    UniqueFd home(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!home) {
        throw CniError(code::setup_failed, "cannot open this thread's network namespace",
                       std::strerror(errno));
    }
    if (::setns(netns_fd, CLONE_NEWNET) < 0) {
        throw CniError(code::invalid_env, "cannot enter the network namespace CNI_NETNS",
                       std::strerror(errno));
    }
    struct Return {
        int fd;
        ~Return() {
            if (::setns(fd, CLONE_NEWNET) < 0) {
                std::perror("weft-cni: cannot return to the host's network namespace");
                std::abort();
            }
        }
    } back{home.get()};
    fn();
}

void Rtnl::Deleter::operator()(nl_sock* sock) const {
    nl_socket_free(sock);
}

Rtnl::Rtnl() : sock_(nl_socket_alloc()) {
    if (!sock_) {
        throw CniError(code::setup_failed, "allocating a netlink socket");
    }
    if (int err = nl_connect(sock_.get(), NETLINK_ROUTE); err < 0) {
        fail(err, "connecting to rtnetlink");
    }
}

Rtnl::~Rtnl() = default;

std::optional<LinkInfo> Rtnl::link(const std::string& name) {
    rtnl_link* found = nullptr;
    int err = rtnl_link_get_kernel(sock_.get(), 0, name.c_str(), &found);
    if (err == -NLE_NODEV || err == -NLE_OBJ_NOTFOUND) {
        return std::nullopt;
    }
    if (err < 0) {
        fail(err, "looking up " + name);
    }
    nl::Link owner(found);
    return info_of(found);
}

std::vector<LinkInfo> Rtnl::links() {
    nl_cache* raw = nullptr;
    if (int err = rtnl_link_alloc_cache(sock_.get(), AF_UNSPEC, &raw); err < 0) {
        fail(err, "listing links");
    }
    nl::Cache cache(raw);
    std::vector<LinkInfo> out;
    for (nl_object* obj = nl_cache_get_first(raw); obj; obj = nl_cache_get_next(obj)) {
        out.push_back(info_of(reinterpret_cast<rtnl_link*>(obj)));
    }
    return out;
}

void Rtnl::add_veth(const std::string& host, const std::string& peer, int peer_netns_fd,
                    unsigned mtu) {
    nl::Link link(rtnl_link_veth_alloc());
    if (!link) {
        throw CniError(code::setup_failed, "out of memory building a veth");
    }
    nl::Link peer_link(rtnl_link_veth_get_peer(link.get())); // a reference of our own
    rtnl_link_set_name(link.get(), host.c_str());
    rtnl_link_set_mtu(link.get(), mtu);
    rtnl_link_set_name(peer_link.get(), peer.c_str());
    rtnl_link_set_mtu(peer_link.get(), mtu);
    rtnl_link_set_ns_fd(peer_link.get(), peer_netns_fd);
    int err = rtnl_link_add(sock_.get(), link.get(), NLM_F_CREATE | NLM_F_EXCL);
    if (err == -NLE_EXIST) {
        throw CniError(code::setup_failed,
                       "cannot create the veth pair " + host + " / " + peer + ": " +
                           (this->link(host) ? "the host side " + host + " already exists"
                                             : "the pod's namespace already has " + peer));
    }
    if (err < 0) {
        fail(err, "creating the veth pair " + host + " / " + peer);
    }
}

bool Rtnl::del_link(const std::string& name) {
    nl::Link link(rtnl_link_alloc());
    if (!link) {
        throw CniError(code::setup_failed, "out of memory");
    }
    rtnl_link_set_name(link.get(), name.c_str());
    int err = rtnl_link_delete(sock_.get(), link.get());
    if (err == -NLE_NODEV || err == -NLE_OBJ_NOTFOUND) {
        return false;
    }
    if (err < 0) {
        fail(err, "deleting " + name);
    }
    return true;
}

void Rtnl::set_up(const LinkInfo& info) {
    nl::Link link(rtnl_link_alloc());
    nl::Link change(rtnl_link_alloc());
    if (!link || !change) {
        throw CniError(code::setup_failed, "out of memory");
    }
    rtnl_link_set_ifindex(link.get(), info.ifindex);
    rtnl_link_set_flags(change.get(), IFF_UP);
    if (int err = rtnl_link_change(sock_.get(), link.get(), change.get(), 0); err < 0) {
        fail(err, "setting " + info.name + " up");
    }
}

void Rtnl::add_address(int ifindex, const Prefix& prefix) {
    nl::RtAddr addr(rtnl_addr_alloc());
    if (!addr) {
        throw CniError(code::setup_failed, "out of memory");
    }
    auto local = to_nl(prefix.addr, prefix.len);
    rtnl_addr_set_ifindex(addr.get(), ifindex);
    rtnl_addr_set_family(addr.get(), is_ipv4(prefix.addr) ? AF_INET : AF_INET6);
    if (int err = rtnl_addr_set_local(addr.get(), local.get()); err < 0) {
        fail(err, "building address " + to_string(prefix));
    }
    rtnl_addr_set_prefixlen(addr.get(), prefix.len);
    if (!is_ipv4(prefix.addr)) {
        rtnl_addr_set_flags(addr.get(), IFA_F_NODAD);
    }
    if (int err = rtnl_addr_add(sock_.get(), addr.get(), 0); err < 0) {
        fail(err, "adding address " + to_string(prefix));
    }
}

std::vector<Prefix> Rtnl::addresses(int ifindex) {
    nl_cache* raw = nullptr;
    if (int err = rtnl_addr_alloc_cache(sock_.get(), &raw); err < 0) {
        fail(err, "listing addresses");
    }
    nl::Cache cache(raw);
    std::vector<Prefix> out;
    for (nl_object* obj = nl_cache_get_first(raw); obj; obj = nl_cache_get_next(obj)) {
        auto* addr = reinterpret_cast<rtnl_addr*>(obj);
        if (rtnl_addr_get_ifindex(addr) != ifindex) {
            continue;
        }
        if (auto ip = from_nl(rtnl_addr_get_local(addr))) {
            out.push_back({*ip, static_cast<std::uint8_t>(rtnl_addr_get_prefixlen(addr))});
        }
    }
    return out;
}

void Rtnl::add_route(const Prefix& dst, int ifindex, const std::optional<IpAddr>& gateway,
                     bool onlink) {
    nl::Route route(rtnl_route_alloc());
    rtnl_nexthop* nh = rtnl_route_nh_alloc();
    if (!route || !nh) {
        if (nh) {
            rtnl_route_nh_free(nh);
        }
        throw CniError(code::setup_failed, "out of memory");
    }
    int family = is_ipv4(dst.addr) ? AF_INET : AF_INET6;
    auto dst_addr = to_nl(dst.addr, dst.len);
    rtnl_route_set_family(route.get(), static_cast<std::uint8_t>(family));
    rtnl_route_set_dst(route.get(), dst_addr.get());
    rtnl_route_set_table(route.get(), RT_TABLE_MAIN);
    rtnl_route_set_protocol(route.get(), RTPROT_STATIC);
    rtnl_route_set_type(route.get(), RTN_UNICAST);
    rtnl_route_set_scope(route.get(), gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
    rtnl_route_nh_set_ifindex(nh, ifindex);
    if (gateway) {
        auto gw = to_nl(*gateway, is_ipv4(*gateway) ? 32 : 128);
        rtnl_route_nh_set_gateway(nh, gw.get()); // takes its own reference
        if (onlink) {
            rtnl_route_nh_set_flags(nh, RTNH_F_ONLINK);
        }
    }
    rtnl_route_add_nexthop(route.get(), nh); // the route owns nh now
    if (int err = rtnl_route_add(sock_.get(), route.get(), NLM_F_CREATE | NLM_F_EXCL); err < 0) {
        fail(err, "adding route " + to_string(dst) +
                      (gateway ? " via " + to_string(*gateway) : std::string()));
    }
}

std::vector<RouteInfo> Rtnl::routes(int family) {
    nl_cache* raw = nullptr;
    if (int err = rtnl_route_alloc_cache(sock_.get(), family, 0, &raw); err < 0) {
        fail(err, "listing routes");
    }
    nl::Cache cache(raw);
    std::vector<RouteInfo> out;
    for (nl_object* obj = nl_cache_get_first(raw); obj; obj = nl_cache_get_next(obj)) {
        auto* route = reinterpret_cast<rtnl_route*>(obj);
        if (rtnl_route_get_table(route) != RT_TABLE_MAIN || rtnl_route_get_nnexthops(route) != 1) {
            continue;
        }
        nl_addr* dst = rtnl_route_get_dst(route);
        RouteInfo info;
        if (auto ip = from_nl(dst)) {
            info.dst = {*ip, static_cast<std::uint8_t>(nl_addr_get_prefixlen(dst))};
        } else if (family == AF_INET) {
            info.dst = {Ipv4{}, 0}; // the default route has no destination address
        } else {
            info.dst = {Ipv6{}, 0};
        }
        rtnl_nexthop* nh = rtnl_route_nexthop_n(route, 0);
        info.ifindex = rtnl_route_nh_get_ifindex(nh);
        info.gateway = from_nl(rtnl_route_nh_get_gateway(nh));
        out.push_back(info);
    }
    return out;
}

NetSysctl::NetSysctl() : dir_(::open("/proc/sys/net", O_PATH | O_DIRECTORY | O_CLOEXEC)) {
    if (!dir_) {
        throw CniError(code::setup_failed, "cannot open /proc/sys/net", std::strerror(errno));
    }
}

void NetSysctl::write(const std::string& rel, std::string_view value) const {
    UniqueFd fd(::openat(dir_.get(), rel.c_str(), O_WRONLY | O_CLOEXEC));
    ssize_t n = fd ? ::write(fd.get(), value.data(), value.size()) : -1;
    if (n != static_cast<ssize_t>(value.size())) {
        throw CniError(code::setup_failed,
                       "cannot write " + std::string(value) + " to /proc/sys/net/" + rel,
                       std::strerror(n < 0 ? errno : EIO));
    }
}

std::optional<std::string> NetSysctl::read(const std::string& rel) const {
    UniqueFd fd(::openat(dir_.get(), rel.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        return std::nullopt;
    }
    char buf[256];
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
        return std::nullopt;
    }
    std::string_view text(buf, static_cast<std::size_t>(n));
    return std::string(text.substr(0, text.find('\n')));
}

bool NetSysctl::exists(const std::string& rel) const {
    return ::faccessat(dir_.get(), rel.c_str(), F_OK, 0) == 0;
}

} // namespace weft::cni
