// weftd's HTTP endpoint (see http_server.hpp).
//
// One coroutine accepts; each accepted connection runs its own coroutine
// that reads a request, answers it and loops while the connection is kept
// alive. The coroutines share the server's state through a shared_ptr, so
// they may finish after the HttpServer object is gone; once stopped they
// never touch the registry or the callbacks again.
#include "http_server.hpp"

#include <algorithm>
#include <array>
#include <exception>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <unordered_set>

#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

namespace weft {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;

namespace {

// How long the accept loop pauses after a failed accept (out of file
// descriptors, typically) before it tries again.
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};
// How long and how much a connection being closed reads and drops.
constexpr std::chrono::milliseconds kLingerTime{1000};
constexpr std::size_t kLingerBytes = 64 * 1024;
constexpr std::string_view kTextType = "text/plain; charset=utf-8";

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

std::string_view view(beast::string_view s) {
    return {s.data(), s.size()};
}

} // namespace

namespace detail {

struct HttpServerState {
    HttpServerState(asio::any_io_executor executor, HttpServerOptions options,
                    const MetricsRegistry& metrics, ReadinessCheck ready, HttpLog log)
        : executor(std::move(executor)), options(std::move(options)), metrics(&metrics),
          ready(std::move(ready)), log(std::move(log)) {}

    asio::any_io_executor executor;
    HttpServerOptions options;
    const MetricsRegistry* metrics;
    ReadinessCheck ready;
    HttpLog log;

    std::optional<tcp::acceptor> acceptor;
    std::optional<asio::steady_timer> accept_retry;
    std::uint16_t port = 0;
    bool stopped = false;
    // The streams of the open connections, so that stop() can close them.
    // Each connection's coroutine owns its stream and keeps it listed here
    // for as long as the stream lives.
    std::unordered_set<beast::tcp_stream*> open;

    void report(std::string_view line) const {
        if (log) {
            try {
                log(line);
            } catch (...) {
                // A failing log must not take the server down.
            }
        }
    }
};

} // namespace detail

namespace {

using State = detail::HttpServerState;

// The completion of a coroutine spawned by the server: nothing escapes into
// the event loop.
auto on_exit(std::shared_ptr<State> state, std::string_view what) {
    return [state = std::move(state), what](std::exception_ptr error) {
        if (!error) {
            return;
        }
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            state->report("http " + std::string(what) + ": " + e.what());
        } catch (...) {
            state->report("http " + std::string(what) + ": unknown exception");
        }
    };
}

// Lists a connection's stream in the server's state while it lives.
class OpenConnection {
public:
    OpenConnection(State& state, beast::tcp_stream& stream) : state_(state), stream_(stream) {
        state_.open.insert(&stream_);
    }
    OpenConnection(const OpenConnection&) = delete;
    OpenConnection& operator=(const OpenConnection&) = delete;
    ~OpenConnection() { state_.open.erase(&stream_); }

private:
    State& state_;
    beast::tcp_stream& stream_;
};

Response text_response(http::status status, unsigned version, std::string body,
                       std::string_view content_type = kTextType) {
    Response res(status, version);
    res.set(http::field::server, "weftd");
    res.set(http::field::content_type,
            beast::string_view(content_type.data(), content_type.size()));
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
}

// Not ready because the readiness check itself failed.
Readiness refused(const State& state, std::string_view why) {
    std::string reason = "readiness check failed: " + std::string(why);
    state.report("http " + reason);
    return {false, std::move(reason)};
}

Readiness check_readiness(const State& state) {
    if (!state.ready) {
        return {true, {}};
    }
    try {
        return state.ready();
    } catch (const std::exception& e) {
        return refused(state, e.what());
    } catch (...) {
        return refused(state, "unknown exception");
    }
}

// The answer to one request that was read whole.
Response answer(const State& state, const Request& req) {
    std::string_view target = view(req.target());
    std::string_view path = target.substr(0, target.find('?'));
    bool known = path == "/metrics" || path == "/healthz" || path == "/readyz";
    if (!known) {
        return text_response(http::status::not_found, req.version(), "not found");
    }
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
        Response res =
            text_response(http::status::method_not_allowed, req.version(), "method not allowed");
        res.set(http::field::allow, "GET, HEAD");
        return res;
    }
    if (path == "/metrics") {
        try {
            return text_response(http::status::ok, req.version(), state.metrics->expose(),
                                 kMetricsContentType);
        } catch (const std::exception& e) {
            state.report(std::string("http /metrics: ") + e.what());
            return text_response(http::status::internal_server_error, req.version(),
                                 "metrics unavailable");
        }
    }
    if (path == "/healthz") {
        return text_response(http::status::ok, req.version(), "ok");
    }
    Readiness readiness = check_readiness(state);
    if (readiness.ready) {
        return text_response(http::status::ok, req.version(), "ok");
    }
    return text_response(http::status::service_unavailable, req.version(),
                         std::move(readiness.reason));
}

// The answer to a request that could not be read, if it deserves one: a
// client that went quiet or away gets none.
std::optional<Response> refusal(const beast::error_code& ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::eof ||
        ec == asio::error::connection_reset) {
        return std::nullopt;
    }
    if (ec == http::error::header_limit) {
        return text_response(http::status::request_header_fields_too_large, 11,
                             "request header too large");
    }
    if (ec == http::error::body_limit || ec == http::error::buffer_overflow) {
        return text_response(http::status::payload_too_large, 11, "request too large");
    }
    return text_response(http::status::bad_request, 11, "bad request");
}

// After the last answer on a connection: sends FIN, then reads and drops
// what the client still sends (a refused request's rest) for a while, so that
// closing with unread input does not reset the connection before the client
// has read the answer.
awaitable<void> linger(beast::tcp_stream& stream, std::chrono::milliseconds limit) {
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream.expires_after(limit);
    std::array<char, 4096> sink;
    for (std::size_t total = 0; !ec && total < kLingerBytes;) {
        total += co_await stream.async_read_some(asio::buffer(sink),
                                                 asio::redirect_error(use_awaitable, ec));
    }
}

awaitable<void> serve(std::shared_ptr<State> state, tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    OpenConnection listed(*state, stream);
    const HttpServerOptions& options = state->options;
    // Bounds what a client sending ahead (pipelining) can make us buffer.
    beast::flat_buffer buffer(options.max_header_bytes + options.max_body_bytes);
    for (;;) {
        http::request_parser<http::string_body> parser;
        parser.header_limit(
            std::uint32_t(std::min<std::size_t>(options.max_header_bytes, UINT32_MAX)));
        parser.body_limit(options.max_body_bytes);
        stream.expires_after(options.read_timeout);
        beast::error_code ec;
        co_await http::async_read(stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
        if (state->stopped) {
            co_return;
        }
        std::optional<Response> res;
        if (ec) {
            res = refusal(ec);
            if (!res) {
                // The client went quiet or away: nobody to answer.
                break;
            }
            res->keep_alive(false);
        } else {
            const Request& req = parser.get();
            res = answer(*state, req);
            res->keep_alive(req.keep_alive());
            if (req.method() == http::verb::head) {
                // Content-Length stays that of the GET answer.
                res->body().clear();
            }
        }
        stream.expires_after(options.read_timeout);
        co_await http::async_write(stream, *res, asio::redirect_error(use_awaitable, ec));
        if (ec || state->stopped) {
            break;
        }
        if (!res->keep_alive()) {
            co_await linger(stream, std::min(options.read_timeout, kLingerTime));
            break;
        }
    }
    stream.close();
}

awaitable<void> accept_loop(std::shared_ptr<State> state) {
    while (!state->stopped) {
        beast::error_code ec;
        tcp::socket socket =
            co_await state->acceptor->async_accept(asio::redirect_error(use_awaitable, ec));
        if (state->stopped) {
            break;
        }
        if (ec) {
            state->report("http accept: " + ec.message());
            state->accept_retry.emplace(state->executor, kAcceptRetryDelay);
            co_await state->accept_retry->async_wait(asio::redirect_error(use_awaitable, ec));
            continue;
        }
        if (state->open.size() >= state->options.max_connections) {
            socket.close(ec);
            continue;
        }
        asio::co_spawn(state->executor, serve(state, std::move(socket)),
                       on_exit(state, "connection"));
    }
}

std::string endpoint_text(std::string_view address, std::uint16_t port) {
    bool v6 = address.find(':') != std::string_view::npos;
    return (v6 ? "[" + std::string(address) + "]" : std::string(address)) + ':' +
           std::to_string(port);
}

} // namespace

HttpServer::HttpServer(asio::any_io_executor executor, HttpServerOptions options,
                       const MetricsRegistry& metrics, ReadinessCheck ready, HttpLog log)
    : state_(std::make_shared<State>(std::move(executor), std::move(options), metrics,
                                     std::move(ready), std::move(log))) {}

HttpServer::~HttpServer() {
    stop();
}

void HttpServer::start() {
    if (state_->acceptor || state_->stopped) {
        throw std::logic_error("HttpServer::start() called twice");
    }
    const HttpServerOptions& options = state_->options;
    auto fail = [&](const beast::error_code& ec) {
        throw std::system_error(ec,
                                "http listen on " + endpoint_text(options.address, options.port));
    };
    beast::error_code ec;
    asio::ip::address address = asio::ip::make_address(options.address, ec);
    if (ec) {
        fail(ec);
    }
    tcp::endpoint endpoint(address, options.port);
    tcp::acceptor acceptor(state_->executor);
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) {
        acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    }
    if (!ec) {
        acceptor.bind(endpoint, ec);
    }
    if (!ec) {
        acceptor.listen(asio::socket_base::max_listen_connections, ec);
    }
    if (ec) {
        fail(ec);
    }
    state_->port = acceptor.local_endpoint().port();
    state_->acceptor.emplace(std::move(acceptor));
    asio::co_spawn(state_->executor, accept_loop(state_), on_exit(state_, "accept"));
}

void HttpServer::stop() noexcept {
    State& state = *state_;
    if (state.stopped) {
        return;
    }
    state.stopped = true;
    beast::error_code ec;
    if (state.acceptor) {
        state.acceptor->close(ec);
    }
    if (state.accept_retry) {
        state.accept_retry->cancel();
    }
    for (beast::tcp_stream* stream : state.open) {
        stream->close();
    }
}

std::uint16_t HttpServer::port() const noexcept {
    return state_->port;
}

std::size_t HttpServer::connections() const noexcept {
    return state_->open.size();
}

} // namespace weft
