// The typed client of the weft generic netlink family.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <vector>

#include <weft/message.hpp>
#include <weft/socket.hpp>

namespace weft {

// How many times a dump the kernel marked with NLM_F_DUMP_INTR is restarted
// before it gives up with EAGAIN.
inline constexpr int dump_tries = 8;

// Runs `attempt`, one whole dump that returns false if it was interrupted,
// until one is consistent, at most dump_tries times; then throws
// weft::Error(EAGAIN) naming `table`.
void retry_dump(const std::function<bool()>& attempt, const std::string& table);

// Sends `routes` as ROUTE_ADD (`add`) or ROUTE_DEL requests of at most
// `max_size` bytes each, in order, through `transact` (which throws
// weft::Error on a rejection). A rejection becomes a BulkError whose index
// is that of the route the extended ACK points into, or the first route of
// the rejected request if it points into none.
using Transact = std::function<void(Bytes&)>;
void send_routes(std::uint16_t family, bool add, const DevRef& dev, std::span<const Route> routes,
                 bool replace, const Transact& transact, std::size_t max_size = route_request_max);

class Client {
public:
    static constexpr int dump_tries = weft::dump_tries;

    // Opens a socket in the caller's network namespace.
    static Client connect() { return Client(Socket::open()); }
    explicit Client(Socket socket) : socket_(std::move(socket)) {}

    DeviceInfo dev_get(const DevRef& dev);
    // All weft devices of the netns, in ifindex order, from one consistent
    // dump.
    std::vector<DeviceInfo> dev_dump();
    void dev_set(const DevSetRequest& request);

    NodeInfo node_get(const DevRef& dev, const IpAddr& addr);
    std::vector<NodeInfo> node_dump(const DevRef& dev);
    void node_add(const NodeAddRequest& request);
    void node_del(const DevRef& dev, const IpAddr& addr);

    Route route_get(const DevRef& dev, const Prefix& prefix);
    // The device's routes, IPv4 first, from one consistent dump.
    std::vector<Route> route_dump(const DevRef& dev);
    // ROUTE_ADD or ROUTE_DEL of any number of routes, in as few requests as
    // fit (see send_routes); throws BulkError.
    void route_change(bool add, const DevRef& dev, std::span<const Route> routes, bool replace);

    EndpointInfo endpoint_get(const DevRef& dev, const EndpointKey& key);
    std::vector<EndpointInfo> endpoint_dump(const DevRef& dev);
    void endpoint_add(const EndpointAddRequest& request);
    void endpoint_del(const DevRef& dev, const EndpointKey& key);

    Socket& socket() { return socket_; }

private:
    // A do request that wants its ACK only.
    void send(Bytes request);
    template <typename T, typename Parse>
    T get_one(Bytes request, const char* command, Parse parse);
    template <typename T, typename Parse>
    std::vector<T> dump_all(Bytes request, const char* table, Parse parse);

    Socket socket_;
};

} // namespace weft
