// Owning pointers for libnl-route objects (links, addresses, routes, caches
// and sockets): each is released with its own libnl function. Used by the
// parts of weft that configure the host through rtnetlink (weftd's device
// and routes, weft-cni's veths); weft's own genl family goes through libmnl.
#pragma once

#include <memory>

#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

namespace weft::nl {

template <auto Free>
struct Deleter {
    template <typename T>
    void operator()(T* p) const {
        Free(p);
    }
};

using Sock = std::unique_ptr<nl_sock, Deleter<nl_socket_free>>;
using Link = std::unique_ptr<rtnl_link, Deleter<rtnl_link_put>>;
using Addr = std::unique_ptr<nl_addr, Deleter<nl_addr_put>>;
using RtAddr = std::unique_ptr<rtnl_addr, Deleter<rtnl_addr_put>>;
using Route = std::unique_ptr<rtnl_route, Deleter<rtnl_route_put>>;
using Cache = std::unique_ptr<nl_cache, Deleter<nl_cache_free>>;

} // namespace weft::nl
