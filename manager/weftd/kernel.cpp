// KernelTables over libweft.
#include "kernel.hpp"

#include <vector>

namespace weft {

namespace {

// Drops what a dump reports for another device: the reconciler removes what
// it finds, so it must only ever see its own device's objects.
template <typename Info>
std::vector<Info> own(std::vector<Info> infos, std::uint32_t ifindex) {
    std::erase_if(infos, [ifindex](const Info& info) { return info.ifindex != ifindex; });
    return infos;
}

// `request` addressed to `dev`, whatever device it named.
template <typename Request>
Request to_dev(Request request, const DevRef& dev) {
    request.dev = dev;
    return request;
}

} // namespace

LibweftKernel::LibweftKernel(Client& client, const DevRef& dev)
    : client_(client), dev_(DevRef::by_index(client.dev_get(dev).ifindex)) {}

std::vector<NodeInfo> LibweftKernel::node_dump() {
    return own(client_.node_dump(dev_), dev_.ifindex);
}

void LibweftKernel::node_add(const NodeAddRequest& request) {
    client_.node_add(to_dev(request, dev_));
}

void LibweftKernel::node_del(const IpAddr& addr) {
    client_.node_del(dev_, addr);
}

std::vector<Route> LibweftKernel::route_dump() {
    return client_.route_dump(dev_);
}

void LibweftKernel::route_change(bool add, std::span<const Route> routes, bool replace) {
    client_.route_change(add, dev_, routes, replace);
}

std::vector<EndpointInfo> LibweftKernel::endpoint_dump() {
    return own(client_.endpoint_dump(dev_), dev_.ifindex);
}

void LibweftKernel::endpoint_add(const EndpointAddRequest& request) {
    client_.endpoint_add(to_dev(request, dev_));
}

void LibweftKernel::endpoint_del(std::uint32_t host_ifindex) {
    client_.endpoint_del(dev_, EndpointKey{host_ifindex, std::nullopt});
}

} // namespace weft
