// weftd's local API: what weft-cni (and operators' tools) ask weftd, on a
// unix stream socket that only root may use (/run/weft/weftd.sock).
//
// The protocol is one JSON object per line each way. A request names its
// operation in "op"; the answer to it is {"ok": true, ...} or
//   {"ok": false, "code": N, "error": "what went wrong and what to do"}
// where N is the CNI error code weft-cni should report (11: try again
// later; 7: invalid network config; 999 and up: weft's own). A connection
// carries any number of requests, answered in order. A line that is not a
// JSON object, or longer than max_line, gets an error answer; an overlong
// line also closes the connection (its end cannot be found).
//
// Operations (fields beyond "op"):
//   status                                  -> ready, reason, node, blocks, gateways,
//                                              can_add, can_add_reason (joined, device
//                                              present), degraded, degraded_reason
//                                              (datastore unreachable, or weft.ko not
//                                              fully programmed)
//   allocate  container_id, ifname          -> addrs, gateways
//   endpoint  container_id, ifname          -> addrs (allocated), host_ifname (when
//                                              attached), kernel: {host_ifindex, addrs}
//                                              as weft.ko has it, or null; code 3 when
//                                              nothing is allocated to it
//   attach    container_id, ifname, host_ifname, addrs -> {}
//   release   container_id, ifname          -> addrs (what was released)
//   list                                    -> attachments [{container_id, ifname, addrs}]
//   gc        valid [{container_id, ifname}] -> released [...]
// The fields each operation needs are checked here; missing or mistyped
// ones get code 7 naming the field, before the handler sees the request.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <nlohmann/json.hpp>

namespace weft {

// An operation failed in a way the client should know: code and message
// go back as the answer.
class ApiError : public std::runtime_error {
public:
    ApiError(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
    int code() const noexcept { return code_; }

private:
    int code_;
};

// CNI error codes the API answers with.
namespace api_code {
inline constexpr int unknown_container = 3; // no such attachment
inline constexpr int invalid_config = 7;    // bad request fields
inline constexpr int try_again = 11;        // weftd cannot serve it now
inline constexpr int internal = 999;        // weft's own: an unexpected failure
} // namespace api_code

// Runs an operation: gets the checked request, returns the answer's fields
// ("ok" is added). Throws ApiError to answer an error; any other exception
// is answered as an internal error with its what().
using ApiHandler = std::function<nlohmann::json(const std::string& op, const nlohmann::json&)>;

class ApiServer {
public:
    static constexpr std::size_t max_line = 64 * 1024;

    // Creates the socket at `path` (replacing a stale one; its directory is
    // made 0700 if missing), mode 0600, and starts accepting on `executor`.
    // Throws std::system_error naming the path.
    ApiServer(boost::asio::any_io_executor executor, std::string path, ApiHandler handler);
    ~ApiServer();
    ApiServer(const ApiServer&) = delete;
    ApiServer& operator=(const ApiServer&) = delete;

    // Stops accepting, closes every connection and removes the socket file.
    void stop();

    // The answer to one request line (exposed for tests).
    static nlohmann::json answer(const ApiHandler& handler, const std::string& line);

private:
    struct State;
    std::shared_ptr<State> state_;
};

} // namespace weft
