// The typed client of the weft family.
#include <cerrno>

#include <linux/weft.h>

#include <weft/client.hpp>

namespace weft {

void retry_dump(const std::function<bool()>& attempt, const std::string& table) {
    for (int i = 0; i < dump_tries; ++i) {
        if (attempt()) {
            return;
        }
    }
    throw Error(EAGAIN, "the " + table + " dump changed under " + std::to_string(dump_tries) +
                            " attempts in a row (NLM_F_DUMP_INTR)");
}

void send_routes(std::uint16_t family, bool add, const DevRef& dev, std::span<const Route> routes,
                 bool replace, const Transact& transact, std::size_t max_size) {
    std::size_t done = 0;
    while (done < routes.size()) {
        RouteChunk chunk =
            encode_route_change(family, add, dev, routes.subspan(done), replace, max_size);
        try {
            transact(chunk.message);
        } catch (const Error& e) {
            std::optional<std::size_t> index;
            if (e.offset()) {
                index = route_index_at(chunk.message, *e.offset());
            }
            throw BulkError(e, done + index.value_or(0));
        }
        done += chunk.count;
    }
}

void Client::send(Bytes request) {
    socket_.transact(request);
}

// One reply message of a do request, parsed.
template <typename T, typename Parse>
T Client::get_one(Bytes request, const char* command, Parse parse) {
    std::optional<T> out;
    socket_.transact(request, [&](std::span<const std::uint8_t> message) { out = parse(message); });
    if (!out) {
        throw MalformedMessage(std::string(command) + " was acknowledged without a reply message");
    }
    return std::move(*out);
}

// Every message of a consistent dump, each parsed and appended to the result
// by parse(result, message).
template <typename T, typename Parse>
std::vector<T> Client::dump_all(Bytes request, const char* table, Parse parse) {
    std::vector<T> out;
    retry_dump(
        [&] {
            out.clear();
            return socket_.dump(
                request, [&](std::span<const std::uint8_t> message) { parse(out, message); });
        },
        table);
    return out;
}

namespace {

// parse() for dumps of one object per message.
template <auto parse_one>
constexpr auto append_one = [](auto& out, std::span<const std::uint8_t> message) {
    out.push_back(parse_one(message));
};

} // namespace

DeviceInfo Client::dev_get(const DevRef& dev) {
    return get_one<DeviceInfo>(encode_dev_get(socket_.family_id(), dev), "WEFT_CMD_DEV_GET",
                               parse_device);
}

std::vector<DeviceInfo> Client::dev_dump() {
    return dump_all<DeviceInfo>(encode_dev_dump(socket_.family_id()), "device",
                                append_one<parse_device>);
}

void Client::dev_set(const DevSetRequest& request) {
    send(encode_dev_set(socket_.family_id(), request));
}

NodeInfo Client::node_get(const DevRef& dev, const IpAddr& addr) {
    return get_one<NodeInfo>(encode_node_get(socket_.family_id(), dev, addr), "WEFT_CMD_NODE_GET",
                             parse_node);
}

std::vector<NodeInfo> Client::node_dump(const DevRef& dev) {
    return dump_all<NodeInfo>(encode_node_dump(socket_.family_id(), dev), "node",
                              append_one<parse_node>);
}

void Client::node_add(const NodeAddRequest& request) {
    send(encode_node_add(socket_.family_id(), request));
}

void Client::node_del(const DevRef& dev, const IpAddr& addr) {
    send(encode_node_del(socket_.family_id(), dev, addr));
}

Route Client::route_get(const DevRef& dev, const Prefix& prefix) {
    return get_one<Route>(encode_route_get(socket_.family_id(), dev, prefix), "WEFT_CMD_ROUTE_GET",
                          [](std::span<const std::uint8_t> message) {
                              auto m = parse_routes(message);
                              if (m.routes.size() != 1) {
                                  throw MalformedMessage("WEFT_CMD_ROUTE_GET reply with " +
                                                         std::to_string(m.routes.size()) +
                                                         " routes");
                              }
                              return m.routes[0];
                          });
}

std::vector<Route> Client::route_dump(const DevRef& dev) {
    return dump_all<Route>(encode_route_dump(socket_.family_id(), dev), "route",
                           [](std::vector<Route>& out, std::span<const std::uint8_t> message) {
                               auto m = parse_routes(message);
                               out.insert(out.end(), m.routes.begin(), m.routes.end());
                           });
}

void Client::route_change(bool add, const DevRef& dev, std::span<const Route> routes,
                          bool replace) {
    send_routes(socket_.family_id(), add, dev, routes, replace,
                [this](Bytes& message) { socket_.transact(message); });
}

EndpointInfo Client::endpoint_get(const DevRef& dev, const EndpointKey& key) {
    return get_one<EndpointInfo>(encode_endpoint_get(socket_.family_id(), dev, key),
                                 "WEFT_CMD_ENDPOINT_GET", parse_endpoint);
}

std::vector<EndpointInfo> Client::endpoint_dump(const DevRef& dev) {
    return dump_all<EndpointInfo>(encode_endpoint_dump(socket_.family_id(), dev), "endpoint",
                                  append_one<parse_endpoint>);
}

void Client::endpoint_add(const EndpointAddRequest& request) {
    send(encode_endpoint_add(socket_.family_id(), request));
}

void Client::endpoint_del(const DevRef& dev, const EndpointKey& key) {
    send(encode_endpoint_del(socket_.family_id(), dev, key));
}

} // namespace weft
