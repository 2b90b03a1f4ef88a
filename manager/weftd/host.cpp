#include "host.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <weft/error.hpp>
#include <weft/fd.hpp>
#include <weft/libnl.hpp>

namespace weft {

std::optional<std::string> default_route_device() {
    std::ifstream routes("/proc/net/route");
    std::string line;
    std::getline(routes, line); // the header
    while (std::getline(routes, line)) {
        std::istringstream fields(line);
        std::string ifname, destination, gateway, flags, refcnt, use, metric, mask;
        fields >> ifname >> destination >> gateway >> flags >> refcnt >> use >> metric >> mask;
        if (destination == "00000000" && mask == "00000000") {
            return ifname;
        }
    }
    return std::nullopt;
}

std::optional<IpAddr> first_address(const std::string& ifname, int family) {
    struct ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) {
        throw Error(errno, "listing interface addresses");
    }
    std::unique_ptr<struct ifaddrs, decltype(&freeifaddrs)> owner(list, freeifaddrs);
    for (auto* ifa = list; ifa; ifa = ifa->ifa_next) {
        if (!ifa->ifa_addr || ifa->ifa_addr->sa_family != family || ifname != ifa->ifa_name) {
            continue;
        }
        if (family == AF_INET) {
            Ipv4 a{};
            std::memcpy(a.data(), &reinterpret_cast<sockaddr_in*>(ifa->ifa_addr)->sin_addr, 4);
            return a;
        }
        const auto* in6 = &reinterpret_cast<sockaddr_in6*>(ifa->ifa_addr)->sin6_addr;
        if (IN6_IS_ADDR_LINKLOCAL(in6)) {
            continue;
        }
        Ipv6 a{};
        std::memcpy(a.data(), in6, 16);
        return a;
    }
    return std::nullopt;
}

std::optional<Mac> interface_mac(const std::string& ifname) {
    std::ifstream file("/sys/class/net/" + ifname + "/address");
    std::string text;
    if (!(file >> text)) {
        return std::nullopt;
    }
    return parse_mac(text);
}

void set_interface_up(const std::string& ifname) {
    UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!sock) {
        throw Error(errno, "socket for " + ifname);
    }
    struct ifreq req {};
    std::strncpy(req.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
    if (::ioctl(sock.get(), SIOCGIFFLAGS, &req) != 0) {
        throw Error(errno, "reading the flags of " + ifname);
    }
    if (req.ifr_flags & IFF_UP) {
        return;
    }
    req.ifr_flags = static_cast<short>(req.ifr_flags | IFF_UP);
    if (::ioctl(sock.get(), SIOCSIFFLAGS, &req) != 0) {
        throw Error(errno, "setting " + ifname + " up");
    }
}

namespace {

// libnl returns negative NLE_* codes; weft::Error wants an errno.
[[noreturn]] void throw_nl(int err, const std::string& context) {
    throw Error(EIO, context + ": " + nl_geterror(err));
}

nl::Sock route_socket() {
    nl::Sock sock(nl_socket_alloc());
    if (!sock) {
        throw Error(ENOMEM, "allocating a netlink socket");
    }
    if (int err = nl_connect(sock.get(), NETLINK_ROUTE); err < 0) {
        throw_nl(err, "connecting to rtnetlink");
    }
    return sock;
}

} // namespace

bool ensure_weft_device(const std::string& ifname) {
    nl::Sock sock = route_socket();
    rtnl_link* found = nullptr;
    int err = rtnl_link_get_kernel(sock.get(), 0, ifname.c_str(), &found);
    if (err == 0) {
        nl::Link link(found);
        const char* kind = rtnl_link_get_type(link.get());
        if (!kind || std::strcmp(kind, "weft") != 0) {
            throw Error(EEXIST, ifname + " exists and is not a weft device (type " +
                                    (kind ? kind : "none") + ")");
        }
        return false;
    }
    if (err != -NLE_NODEV && err != -NLE_OBJ_NOTFOUND) {
        throw_nl(err, "looking up " + ifname);
    }
    nl::Link link(rtnl_link_alloc());
    if (!link) {
        throw Error(ENOMEM, "allocating a link");
    }
    rtnl_link_set_name(link.get(), ifname.c_str());
    if (int e = rtnl_link_set_type(link.get(), "weft"); e < 0) {
        throw_nl(e, "creating " + ifname);
    }
    err = rtnl_link_add(sock.get(), link.get(), NLM_F_CREATE | NLM_F_EXCL);
    if (err == -NLE_OPNOTSUPP || err == -NLE_NOATTR || err == -NLE_INVAL) {
        throw Error(EOPNOTSUPP, "creating " + ifname + " (type weft): " + nl_geterror(err) +
                                    "; is weft.ko loaded (modprobe weft)?");
    }
    if (err < 0) {
        throw_nl(err, "creating " + ifname + " (type weft)");
    }
    return true;
}

bool ensure_device_route(const Prefix& prefix, const std::string& ifname) {
    int ifindex = static_cast<int>(if_nametoindex(ifname.c_str()));
    if (ifindex == 0) {
        throw Error(errno, "route " + to_string(prefix) + " dev " + ifname);
    }
    int family = is_ipv4(prefix.addr) ? AF_INET : AF_INET6;
    auto bytes = addr_bytes(prefix.addr);
    nl::Addr dst(nl_addr_build(family, bytes.data(), bytes.size()));
    if (!dst) {
        throw Error(ENOMEM, "allocating an address");
    }
    nl_addr_set_prefixlen(dst.get(), prefix.len);

    nl::Sock sock = route_socket();
    nl_cache* raw = nullptr;
    if (int err = rtnl_route_alloc_cache(sock.get(), family, 0, &raw); err < 0) {
        throw_nl(err, "reading the routing table");
    }
    nl::Cache cache(raw);
    for (nl_object* obj = nl_cache_get_first(cache.get()); obj; obj = nl_cache_get_next(obj)) {
        auto* route = reinterpret_cast<rtnl_route*>(obj);
        if (rtnl_route_get_table(route) != RT_TABLE_MAIN ||
            rtnl_route_get_type(route) != RTN_UNICAST ||
            nl_addr_cmp(rtnl_route_get_dst(route), dst.get()) != 0) {
            continue;
        }
        if (rtnl_route_get_nnexthops(route) == 1) {
            rtnl_nexthop* nh = rtnl_route_nexthop_n(route, 0);
            if (rtnl_route_nh_get_ifindex(nh) == ifindex && !rtnl_route_nh_get_gateway(nh)) {
                return false;
            }
        }
    }

    nl::Route route(rtnl_route_alloc());
    rtnl_nexthop* nh = rtnl_route_nh_alloc();
    if (!route || !nh) {
        if (nh) {
            rtnl_route_nh_free(nh);
        }
        throw Error(ENOMEM, "allocating a route");
    }
    rtnl_route_set_family(route.get(), static_cast<std::uint8_t>(family));
    rtnl_route_set_dst(route.get(), dst.get());
    rtnl_route_set_table(route.get(), RT_TABLE_MAIN);
    rtnl_route_set_scope(route.get(), RT_SCOPE_LINK);
    rtnl_route_set_protocol(route.get(), RTPROT_STATIC);
    rtnl_route_set_type(route.get(), RTN_UNICAST);
    rtnl_route_nh_set_ifindex(nh, ifindex);
    rtnl_route_add_nexthop(route.get(), nh); // the route owns nh now
    if (int err = rtnl_route_add(sock.get(), route.get(), NLM_F_CREATE | NLM_F_REPLACE); err < 0) {
        throw_nl(err, "adding route " + to_string(prefix) + " dev " + ifname);
    }
    return true;
}

} // namespace weft
