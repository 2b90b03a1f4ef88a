// weftd's HTTP endpoint for Prometheus and the kubelet's probes, HTTP/1.1 on
// the caller's event loop:
//
//   GET /metrics  the registry in the text exposition format 0.0.4
//   GET /healthz  200 "ok": answered by the event loop, so a loop that hangs
//                 fails the liveness probe
//   GET /readyz   200 "ok" if the readiness check says so, else 503 with the
//                 reason it gives ("datastore unreachable")
//
// HEAD works like GET without the body; other methods get 405, other paths
// 404. Connections are kept alive. Each connection is its own coroutine with
// a deadline for each request (and for the wait for the next one), a size
// limit on requests and a cap on open connections, so that a slow or hostile
// client only ever costs one connection slot for a bounded time.
//
// Not thread-safe: use it from the thread that runs its executor, and
// destroy it before the io_context it runs on. Nothing is
// thrown into the event loop; failures of the server itself (accept errors, a
// throwing readiness check) go to the log callback. Clients misbehaving
// (timeouts, malformed or oversized requests) are not logged.
#pragma once

// Boost 1.74's awaitable.hpp (pulled in by users of this header next to it)
// uses std::exchange without including <utility>.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/any_io_executor.hpp>

#include "metrics.hpp"

namespace weft {

struct HttpServerOptions {
    // The address to listen on (IPv4 or IPv6 literal) and the port; port 0
    // picks a free one (see HttpServer::port()).
    std::string address = "127.0.0.1";
    std::uint16_t port = 0;
    // A request must arrive whole within this time from its first byte being
    // awaited, and an idle kept-alive connection is closed after it. Writing
    // an answer has the same deadline.
    std::chrono::milliseconds read_timeout{10000};
    // The largest request head (request line and header fields) and body
    // accepted; larger requests get 431 or 413 and the connection is closed.
    std::size_t max_header_bytes = 8192;
    std::size_t max_body_bytes = 4096;
    // Connections beyond this many are closed as soon as they are accepted.
    std::size_t max_connections = 64;
};

struct Readiness {
    bool ready = false;
    // Why not; the body of the 503.
    std::string reason;
};

// Called for each GET /readyz; should be quick.
using ReadinessCheck = std::function<Readiness()>;
// Receives one line per failure of the server itself.
using HttpLog = std::function<void(std::string_view)>;

namespace detail {
struct HttpServerState;
} // namespace detail

class HttpServer {
public:
    // `metrics` must outlive the server. A missing `ready` check means always
    // ready.
    HttpServer(boost::asio::any_io_executor executor, HttpServerOptions options,
               const MetricsRegistry& metrics, ReadinessCheck ready = {}, HttpLog log = {});
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;
    // Stops the server.
    ~HttpServer();

    // Binds, listens and starts accepting. Throws std::system_error naming
    // the address if it cannot listen, std::logic_error if called twice.
    void start();
    // Closes the listening socket and every open connection; their
    // coroutines end at once, so that the executor's run() returns if
    // nothing else is pending. An answer being written is cut off.
    // Idempotent.
    void stop() noexcept;

    // The port listened on (the one picked if options.port was 0); 0 before
    // start().
    std::uint16_t port() const noexcept;
    // Connections open now.
    std::size_t connections() const noexcept;

private:
    std::shared_ptr<detail::HttpServerState> state_;
};

} // namespace weft
