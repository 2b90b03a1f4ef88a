// The kernel tables of one weft device, as the reconciler sees them: what it
// reads back (dumps) and the writes it makes. LibweftKernel is the real one,
// over a libweft Client; the unit tests use an in-memory fake.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include <weft/client.hpp>
#include <weft/message.hpp>

namespace weft {

// The nodes, routes and endpoints of one weft device. Every call reports a
// failure by throwing weft::Error; route_change throws BulkError when the
// kernel rejects one route of the batch (the routes before it were applied).
class KernelTables {
public:
    virtual ~KernelTables() = default;

    // The device these tables belong to.
    virtual const DevRef& dev() const = 0;

    virtual std::vector<NodeInfo> node_dump() = 0;
    // Adds a node, or with request.replace updates its encapsulation and
    // VTEP MAC (its routes stay). request.dev is ignored: it is dev().
    virtual void node_add(const NodeAddRequest& request) = 0;
    // Removes a node; the kernel removes the routes that name it with it.
    virtual void node_del(const IpAddr& addr) = 0;

    virtual std::vector<Route> route_dump() = 0;
    // ROUTE_ADD (`add`, each route naming its node) or ROUTE_DEL of any
    // number of routes.
    virtual void route_change(bool add, std::span<const Route> routes, bool replace) = 0;

    virtual std::vector<EndpointInfo> endpoint_dump() = 0;
    // request.dev is ignored: it is dev().
    virtual void endpoint_add(const EndpointAddRequest& request) = 0;
    virtual void endpoint_del(std::uint32_t host_ifindex) = 0;
};

// KernelTables over weft.ko through `client`, which must outlive it.
class LibweftKernel final : public KernelTables {
public:
    // Looks `dev` up (by index, name or both) and from then on names the
    // device by its ifindex only, so that a rename cannot redirect the
    // writes to another device. Throws weft::Error if there is no such weft
    // device.
    LibweftKernel(Client& client, const DevRef& dev);

    const DevRef& dev() const override { return dev_; }

    std::vector<NodeInfo> node_dump() override;
    void node_add(const NodeAddRequest& request) override;
    void node_del(const IpAddr& addr) override;

    // The device's routes: the dump request names it, and route messages
    // carry no other device's.
    std::vector<Route> route_dump() override;
    void route_change(bool add, std::span<const Route> routes, bool replace) override;

    std::vector<EndpointInfo> endpoint_dump() override;
    void endpoint_add(const EndpointAddRequest& request) override;
    void endpoint_del(std::uint32_t host_ifindex) override;

private:
    Client& client_;
    DevRef dev_;
};

} // namespace weft
