// weftd's metrics exposition against hand-written text from the format
// specification, and its HTTP endpoint against a Beast client over TCP on
// 127.0.0.1.
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>

#include "http_server.hpp"
#include "metrics.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using namespace std::chrono_literals;
using weft::HttpServer;
using weft::HttpServerOptions;
using weft::MetricsRegistry;
using weft::Readiness;

// Expects `call` to throw std::invalid_argument whose message names `name`.
void expect_rejected(const std::function<void()>& call, const std::string& name) {
    try {
        call();
        ADD_FAILURE() << "no exception for " << name;
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find('"' + name + '"'), std::string::npos) << e.what();
    }
}

TEST(Metrics, CounterExposition) {
    MetricsRegistry registry;
    weft::Counter& events = registry.counter("weft_events_total", "Events handled.");
    events.inc();
    events.inc();
    events.inc();
    weft::Counter& routes = registry.counter("weft_changes_total", "Changes seen.",
                                             {{"kind", "route"}, {"af", "inet6"}});
    routes.inc(2.5);
    routes.inc(-1);
    // The same series whatever the order of its labels.
    EXPECT_EQ(&registry.counter("weft_changes_total", "", {{"af", "inet6"}, {"kind", "route"}}),
              &routes);
    EXPECT_EQ(&registry.counter("weft_events_total", "ignored"), &events);
    registry.counter("weft_changes_total", "", {{"kind", "peer"}, {"af", "inet"}}).inc(1e6);
    EXPECT_EQ(registry.expose(), "# HELP weft_events_total Events handled.\n"
                                 "# TYPE weft_events_total counter\n"
                                 "weft_events_total 3\n"
                                 "# HELP weft_changes_total Changes seen.\n"
                                 "# TYPE weft_changes_total counter\n"
                                 "weft_changes_total{af=\"inet6\",kind=\"route\"} 2.5\n"
                                 "weft_changes_total{af=\"inet\",kind=\"peer\"} 1000000\n");
}

TEST(Metrics, GaugeExpositionAndNumbers) {
    MetricsRegistry registry;
    weft::Gauge& peers = registry.gauge("weft_peers", "Peers known.\nBy \\ node.");
    peers.set(7);
    peers.inc();
    peers.dec(3);
    registry.gauge("weft_peers", "", {}).dec(0.5);
    registry.gauge("weft_numbers", "Spellings.", {{"v", "a"}}).set(1e6);
    registry.gauge("weft_numbers", "", {{"v", "b"}}).set(1234567);
    registry.gauge("weft_numbers", "", {{"v", "c"}}).set(std::numeric_limits<double>::infinity());
    registry.gauge("weft_numbers", "", {{"v", "d"}}).set(-std::numeric_limits<double>::infinity());
    registry.gauge("weft_numbers", "", {{"v", "e"}}).set(std::nan(""));
    registry.gauge("weft_numbers", "", {{"v", "f"}}).set(0.0001);
    registry.gauge("weft_numbers", "", {{"v", "g"}}).set(-0.00001);
    registry.gauge("weft_numbers", "", {{"v", "h"}}).set(1e21);
    registry.gauge("weft_numbers", "", {{"v", "i"}}).set(0.1);
    registry.gauge("weft_numbers", "", {{"v", "j"}}).set(-0.0);
    EXPECT_EQ(registry.expose(), "# HELP weft_peers Peers known.\\nBy \\\\ node.\n"
                                 "# TYPE weft_peers gauge\n"
                                 "weft_peers 4.5\n"
                                 "# HELP weft_numbers Spellings.\n"
                                 "# TYPE weft_numbers gauge\n"
                                 "weft_numbers{v=\"a\"} 1000000\n"
                                 "weft_numbers{v=\"b\"} 1234567\n"
                                 "weft_numbers{v=\"c\"} +Inf\n"
                                 "weft_numbers{v=\"d\"} -Inf\n"
                                 "weft_numbers{v=\"e\"} NaN\n"
                                 "weft_numbers{v=\"f\"} 0.0001\n"
                                 "weft_numbers{v=\"g\"} -1e-05\n"
                                 "weft_numbers{v=\"h\"} 1e+21\n"
                                 "weft_numbers{v=\"i\"} 0.1\n"
                                 "weft_numbers{v=\"j\"} -0\n");
}

TEST(Metrics, CallbackGaugesReadAtScrape) {
    MetricsRegistry registry;
    int routes = 3;
    registry.gauge_callback("weft_table_entries", "Entries in the kernel's tables.",
                            [&] { return double(routes); }, {{"table", "routes"}});
    registry.gauge_callback("weft_table_entries", "", [] { return 2.0; }, {{"table", "endpoints"}});
    registry.gauge_callback("weft_table_entries", "",
                            []() -> double { throw std::runtime_error("netlink"); },
                            {{"table", "broken"}});
    const std::string head = "# HELP weft_table_entries Entries in the kernel's tables.\n"
                             "# TYPE weft_table_entries gauge\n";
    EXPECT_EQ(registry.expose(), head + "weft_table_entries{table=\"routes\"} 3\n"
                                        "weft_table_entries{table=\"endpoints\"} 2\n");
    routes = 40;
    // A new callback replaces the old one.
    registry.gauge_callback("weft_table_entries", "", [] { return 5.0; }, {{"table", "endpoints"}});
    EXPECT_EQ(registry.expose(), head + "weft_table_entries{table=\"routes\"} 40\n"
                                        "weft_table_entries{table=\"endpoints\"} 5\n");
}

TEST(Metrics, LabelValuesEscaped) {
    MetricsRegistry registry;
    registry.counter("weft_errors_total", "Errors.", {{"zone", "a\"b\\c\nd"}, {"app", "x y=1,}"}})
        .inc();
    EXPECT_EQ(registry.expose(), "# HELP weft_errors_total Errors.\n"
                                 "# TYPE weft_errors_total counter\n"
                                 "weft_errors_total{app=\"x y=1,}\",zone=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(Metrics, HistogramExposition) {
    MetricsRegistry registry;
    weft::Histogram& h = registry.histogram(
        "weft_program_seconds", "Time to program the kernel.",
        {0.25, 0.5, 1, 2.5, std::numeric_limits<double>::infinity()}, {{"op", "route"}});
    for (double v : {0.25, 0.375, 0.75, 4.0}) {
        h.observe(v);
    }
    registry.histogram("weft_program_seconds", "", {0.25, 0.5, 1, 2.5}, {{"op", "peer"}});
    EXPECT_EQ(registry.expose(), "# HELP weft_program_seconds Time to program the kernel.\n"
                                 "# TYPE weft_program_seconds histogram\n"
                                 "weft_program_seconds_bucket{op=\"route\",le=\"0.25\"} 1\n"
                                 "weft_program_seconds_bucket{op=\"route\",le=\"0.5\"} 2\n"
                                 "weft_program_seconds_bucket{op=\"route\",le=\"1\"} 3\n"
                                 "weft_program_seconds_bucket{op=\"route\",le=\"2.5\"} 3\n"
                                 "weft_program_seconds_bucket{op=\"route\",le=\"+Inf\"} 4\n"
                                 "weft_program_seconds_sum{op=\"route\"} 5.375\n"
                                 "weft_program_seconds_count{op=\"route\"} 4\n"
                                 "weft_program_seconds_bucket{op=\"peer\",le=\"0.25\"} 0\n"
                                 "weft_program_seconds_bucket{op=\"peer\",le=\"0.5\"} 0\n"
                                 "weft_program_seconds_bucket{op=\"peer\",le=\"1\"} 0\n"
                                 "weft_program_seconds_bucket{op=\"peer\",le=\"2.5\"} 0\n"
                                 "weft_program_seconds_bucket{op=\"peer\",le=\"+Inf\"} 0\n"
                                 "weft_program_seconds_sum{op=\"peer\"} 0\n"
                                 "weft_program_seconds_count{op=\"peer\"} 0\n");
}

TEST(Metrics, LatencyBucketsAndNaN) {
    std::vector<double> bounds = weft::latency_buckets();
    ASSERT_EQ(bounds.size(), 18u);
    MetricsRegistry registry;
    weft::Histogram& h = registry.histogram("weft_latency_seconds", "Latency.", bounds);
    h.observe(0.0003);
    h.observe(std::nan(""));
    std::string text = registry.expose();
    EXPECT_NE(text.find("weft_latency_seconds_bucket{le=\"0.0001\"} 0\n"
                        "weft_latency_seconds_bucket{le=\"0.0002\"} 0\n"
                        "weft_latency_seconds_bucket{le=\"0.0004\"} 1\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("weft_latency_seconds_bucket{le=\"13.1072\"} 1\n"
                        "weft_latency_seconds_bucket{le=\"+Inf\"} 2\n"
                        "weft_latency_seconds_sum NaN\n"
                        "weft_latency_seconds_count 2\n"),
              std::string::npos)
        << text;
}

TEST(Metrics, BadNamesRejected) {
    MetricsRegistry registry;
    for (const char* bad : {"", "1up", "weft-peers", "weft peers", "weft_é"}) {
        expect_rejected([&] { registry.counter(bad, "x"); }, bad);
        expect_rejected([&] { registry.gauge_callback(bad, "x", [] { return 0.0; }); }, bad);
    }
    for (const char* bad : {"", "9", "a:b", "a-b", "__name__"}) {
        expect_rejected([&] { registry.gauge("weft_ok", "x", {{bad, "v"}}); }, bad);
    }
    expect_rejected([&] { registry.histogram("weft_h", "x", {1}, {{"le", "1"}}); }, "le");
    expect_rejected([&] { registry.counter("weft_c", "x", {{"a", "1"}, {"a", "2"}}); }, "a");
    // Nothing above was registered.
    EXPECT_EQ(registry.expose(), "");

    registry.counter("weft_c", "x", {{"a", "1"}});
    expect_rejected([&] { registry.gauge("weft_c", "x"); }, "weft_c");
    expect_rejected([&] { registry.counter("weft_c", "x", {{"b", "1"}}); }, "weft_c");
    registry.gauge("weft_g", "x");
    expect_rejected([&] { registry.gauge_callback("weft_g", "x", [] { return 1.0; }); }, "weft_g");
    expect_rejected([&] { registry.gauge_callback("weft_g", "x", {}, {{"a", "1"}}); }, "weft_g");
    registry.histogram("weft_h", "x", {1, 2});
    expect_rejected([&] { registry.histogram("weft_h", "x", {1, 3}); }, "weft_h");
    EXPECT_THROW(registry.histogram("weft_h2", "x", {2, 1}), std::invalid_argument);
    EXPECT_THROW(registry.histogram("weft_h2", "x", {}), std::invalid_argument);
    EXPECT_THROW(registry.histogram("weft_h2", "x", {1, std::nan("")}), std::invalid_argument);
    EXPECT_THROW(weft::exponential_buckets(0, 2, 3), std::invalid_argument);
    // Colons are allowed in metric names.
    EXPECT_NO_THROW(registry.counter("weft:ok_total", "x"));
}

// The HTTP side: a server on a fresh event loop, and a Beast client.

struct Answer {
    unsigned status = 0;
    std::string body;
    std::string content_type;
    std::string allow;
    std::string content_length;
    bool keep_alive = false;
};

class HttpTest : public ::testing::Test {
protected:
    asio::io_context io;
    MetricsRegistry metrics;
    Readiness readiness{true, {}};
    std::vector<std::string> log;
    std::optional<HttpServer> server;

    void start(HttpServerOptions options = {}) {
        options.address = "127.0.0.1";
        options.port = 0;
        server.emplace(
            io.get_executor(), options, metrics,
            [this] {
                if (readiness.reason == "throw") {
                    throw std::runtime_error("boom");
                }
                return readiness;
            },
            [this](std::string_view line) { log.emplace_back(line); });
        server->start();
        ASSERT_NE(server->port(), 0);
    }

    // Runs `body` on the event loop until the loop has no more work, which
    // requires the test to stop the server. Fails if that takes over `limit`.
    void run(const std::function<awaitable<void>()>& body, std::chrono::seconds limit = 20s) {
        bool done = false;
        std::exception_ptr error;
        asio::co_spawn(io, body(), [&](std::exception_ptr e) {
            done = true;
            error = e;
            server->stop();
        });
        auto begin = std::chrono::steady_clock::now();
        io.run_for(limit);
        ASSERT_TRUE(done) << "the test did not finish within " << limit.count() << " s";
        ASSERT_LT(std::chrono::steady_clock::now() - begin, limit)
            << "the event loop still had work after the server stopped";
        if (error) {
            std::rethrow_exception(error);
        }
    }

    awaitable<beast::tcp_stream> connect() {
        beast::tcp_stream stream(io.get_executor());
        co_await stream.async_connect(
            tcp::endpoint(asio::ip::make_address("127.0.0.1"), server->port()), use_awaitable);
        co_return stream;
    }

    // Sends one request on `stream` and reads the answer.
    static awaitable<Answer> ask(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                 http::verb verb, std::string target, std::string body = {},
                                 std::string big_field = {}) {
        http::request<http::string_body> req(verb, target, 11);
        req.set(http::field::host, "127.0.0.1");
        if (!big_field.empty()) {
            req.set("X-Big", big_field);
        }
        req.body() = std::move(body);
        req.prepare_payload();
        stream.expires_after(5s);
        co_await http::async_write(stream, req, use_awaitable);
        http::response_parser<http::string_body> parser;
        parser.skip(verb == http::verb::head);
        co_await http::async_read(stream, buffer, parser, use_awaitable);
        const auto& res = parser.get();
        auto field = [&](http::field f) {
            auto v = res[f];
            return std::string(v.data(), v.size());
        };
        co_return Answer{res.result_int(),
                         res.body(),
                         field(http::field::content_type),
                         field(http::field::allow),
                         field(http::field::content_length),
                         res.keep_alive()};
    }

    // One request on a connection of its own.
    awaitable<Answer> get(std::string target) {
        beast::tcp_stream stream = co_await connect();
        beast::flat_buffer buffer;
        co_return co_await ask(stream, buffer, http::verb::get, std::move(target));
    }

    // Reads until the server closes `stream`; the error that ended it.
    static awaitable<beast::error_code> closed(beast::tcp_stream& stream) {
        stream.expires_after(10s);
        beast::error_code ec;
        std::array<char, 256> sink;
        while (!ec) {
            co_await stream.async_read_some(asio::buffer(sink),
                                            asio::redirect_error(use_awaitable, ec));
        }
        co_return ec;
    }
};

awaitable<void> sleep_for(std::chrono::milliseconds duration) {
    asio::steady_timer timer(co_await asio::this_coro::executor, duration);
    co_await timer.async_wait(use_awaitable);
}

TEST_F(HttpTest, MetricsHealthAndReadiness) {
    metrics.counter("weft_events_total", "Events handled.").inc(4);
    start();
    run([&]() -> awaitable<void> {
        Answer a = co_await get("/metrics");
        EXPECT_EQ(a.status, 200u);
        EXPECT_EQ(a.content_type, "text/plain; version=0.0.4");
        EXPECT_EQ(a.body, "# HELP weft_events_total Events handled.\n"
                          "# TYPE weft_events_total counter\n"
                          "weft_events_total 4\n");

        a = co_await get("/healthz");
        EXPECT_EQ(a.status, 200u);
        EXPECT_EQ(a.body, "ok");

        a = co_await get("/readyz");
        EXPECT_EQ(a.status, 200u);
        EXPECT_EQ(a.body, "ok");
        readiness = {false, "datastore unreachable"};
        a = co_await get("/readyz");
        EXPECT_EQ(a.status, 503u);
        EXPECT_EQ(a.body, "datastore unreachable");
        readiness = {false, "throw"};
        a = co_await get("/readyz");
        EXPECT_EQ(a.status, 503u);
        EXPECT_EQ(a.body, "readiness check failed: boom");
        EXPECT_EQ(log, std::vector<std::string>{"http readiness check failed: boom"});

        // A query string does not change the resource.
        a = co_await get("/healthz?verbose");
        EXPECT_EQ(a.status, 200u);
    });
}

TEST_F(HttpTest, NotFoundAndMethodNotAllowed) {
    start();
    run([&]() -> awaitable<void> {
        Answer a = co_await get("/nope");
        EXPECT_EQ(a.status, 404u);
        a = co_await get("/metrics/extra");
        EXPECT_EQ(a.status, 404u);

        beast::tcp_stream stream = co_await connect();
        beast::flat_buffer buffer;
        a = co_await ask(stream, buffer, http::verb::post, "/metrics", "x=1");
        EXPECT_EQ(a.status, 405u);
        EXPECT_EQ(a.allow, "GET, HEAD");
        // A refused method does not end the connection.
        EXPECT_TRUE(a.keep_alive);
        a = co_await ask(stream, buffer, http::verb::delete_, "/readyz");
        EXPECT_EQ(a.status, 405u);

        a = co_await ask(stream, buffer, http::verb::head, "/healthz");
        EXPECT_EQ(a.status, 200u);
        EXPECT_EQ(a.body, "");
        EXPECT_EQ(a.content_length, "2");
    });
}

TEST_F(HttpTest, KeepAlive) {
    weft::Counter& scrapes = metrics.counter("weft_scrapes_total", "Scrapes.");
    start();
    run([&]() -> awaitable<void> {
        beast::tcp_stream stream = co_await connect();
        beast::flat_buffer buffer;
        scrapes.inc();
        Answer first = co_await ask(stream, buffer, http::verb::get, "/metrics");
        EXPECT_EQ(first.status, 200u);
        EXPECT_TRUE(first.keep_alive);
        EXPECT_NE(first.body.find("weft_scrapes_total 1\n"), std::string::npos);
        scrapes.inc();
        Answer second = co_await ask(stream, buffer, http::verb::get, "/metrics");
        EXPECT_EQ(second.status, 200u);
        EXPECT_NE(second.body.find("weft_scrapes_total 2\n"), std::string::npos);
        EXPECT_EQ(server->connections(), 1u);
    });
}

TEST_F(HttpTest, OversizedRequestRefused) {
    HttpServerOptions options;
    options.max_header_bytes = 1024;
    options.max_body_bytes = 512;
    start(options);
    run([&]() -> awaitable<void> {
        beast::tcp_stream stream = co_await connect();
        beast::flat_buffer buffer;
        Answer a = co_await ask(stream, buffer, http::verb::get, "/metrics", {},
                                std::string(16 * 1024, 'a'));
        EXPECT_EQ(a.status, 431u);
        EXPECT_FALSE(a.keep_alive);
        EXPECT_EQ(co_await closed(stream), asio::error::eof);

        beast::tcp_stream other = co_await connect();
        buffer.clear();
        a = co_await ask(other, buffer, http::verb::get, "/healthz", std::string(4096, 'b'));
        EXPECT_EQ(a.status, 413u);
        EXPECT_EQ(co_await closed(other), asio::error::eof);

        // Neither hurt the server.
        a = co_await get("/healthz");
        EXPECT_EQ(a.status, 200u);

        beast::tcp_stream junk = co_await connect();
        co_await asio::async_write(junk, asio::buffer(std::string_view("NOT HTTP AT ALL\r\n\r\n")),
                                   use_awaitable);
        buffer.clear();
        http::response<http::string_body> res;
        co_await http::async_read(junk, buffer, res, use_awaitable);
        EXPECT_EQ(res.result_int(), 400u);
        EXPECT_TRUE(log.empty());
    });
}

TEST_F(HttpTest, SilentAndSlowClientsDropped) {
    HttpServerOptions options;
    options.read_timeout = 300ms;
    start(options);
    run([&]() -> awaitable<void> {
        auto begin = std::chrono::steady_clock::now();
        std::optional<std::chrono::steady_clock::duration> silent_dropped;
        std::optional<std::chrono::steady_clock::duration> slow_dropped;

        beast::tcp_stream silent = co_await connect();
        asio::co_spawn(
            io,
            [&]() -> awaitable<void> {
                co_await closed(silent);
                silent_dropped = std::chrono::steady_clock::now() - begin;
            },
            asio::detached);

        // Sends its request one byte each 50 ms, which takes longer than the
        // deadline for the whole request.
        beast::tcp_stream slow = co_await connect();
        asio::co_spawn(
            io,
            [&]() -> awaitable<void> {
                std::string_view request = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
                beast::error_code ec;
                for (char c : request) {
                    co_await asio::async_write(slow, asio::buffer(&c, 1),
                                               asio::redirect_error(use_awaitable, ec));
                    if (ec) {
                        break;
                    }
                    co_await sleep_for(50ms);
                }
                slow_dropped = std::chrono::steady_clock::now() - begin;
            },
            asio::detached);

        // Others are served meanwhile, on new and kept-alive connections.
        beast::tcp_stream kept = co_await connect();
        beast::flat_buffer buffer;
        for (int i = 0; i < 8; ++i) {
            Answer a = co_await get("/healthz");
            EXPECT_EQ(a.status, 200u);
            a = co_await ask(kept, buffer, http::verb::get, "/readyz");
            EXPECT_EQ(a.status, 200u);
            co_await sleep_for(50ms);
        }
        while (!silent_dropped || !slow_dropped) {
            co_await sleep_for(20ms);
        }
        EXPECT_GE(*silent_dropped, 290ms);
        EXPECT_LT(*silent_dropped, 3s);
        EXPECT_GE(*slow_dropped, 290ms);
        EXPECT_LT(*slow_dropped, 3s);
        // The kept-alive connection idles out as well.
        EXPECT_EQ(co_await closed(kept), asio::error::eof);
        EXPECT_EQ(server->connections(), 0u);
    });
}

TEST_F(HttpTest, ConnectionLimit) {
    HttpServerOptions options;
    options.max_connections = 2;
    start(options);
    run([&]() -> awaitable<void> {
        beast::tcp_stream first = co_await connect();
        beast::tcp_stream second = co_await connect();
        while (server->connections() < 2) {
            co_await sleep_for(5ms);
        }
        beast::tcp_stream third = co_await connect();
        EXPECT_EQ(co_await closed(third), asio::error::eof);
        first.close();
        while (server->connections() > 1) {
            co_await sleep_for(5ms);
        }
        Answer a = co_await get("/healthz");
        EXPECT_EQ(a.status, 200u);
    });
}

TEST_F(HttpTest, StopEndsEverything) {
    HttpServerOptions options;
    options.read_timeout = 60s;
    start(options);
    std::uint16_t port = server->port();
    bool stopped = false;
    asio::co_spawn(
        io,
        [&]() -> awaitable<void> {
            beast::tcp_stream idle = co_await connect();
            beast::tcp_stream kept = co_await connect();
            beast::flat_buffer buffer;
            Answer a = co_await ask(kept, buffer, http::verb::get, "/healthz");
            EXPECT_EQ(a.status, 200u);
            while (server->connections() < 2) {
                co_await sleep_for(5ms);
            }
            server->stop();
            server->stop();
            EXPECT_EQ(co_await closed(idle), asio::error::eof);
            EXPECT_EQ(co_await closed(kept), asio::error::eof);
            EXPECT_EQ(server->connections(), 0u);
            beast::tcp_stream late(io.get_executor());
            beast::error_code ec;
            co_await late.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                                        asio::redirect_error(use_awaitable, ec));
            EXPECT_EQ(ec, asio::error::connection_refused);
            stopped = true;
        },
        asio::detached);
    // run() returns by itself: nothing of the server is left pending.
    auto begin = std::chrono::steady_clock::now();
    io.run();
    EXPECT_TRUE(stopped);
    EXPECT_LT(std::chrono::steady_clock::now() - begin, 10s);
}

TEST_F(HttpTest, ListenFailures) {
    start();
    HttpServerOptions options;
    options.port = server->port();
    HttpServer same_port(io.get_executor(), options, metrics);
    try {
        same_port.start();
        ADD_FAILURE() << "listening twice on one port";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code(), std::errc::address_in_use);
        EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(options.port)),
                  std::string::npos)
            << e.what();
    }
    options.address = "not-an-address";
    HttpServer bad(io.get_executor(), options, metrics);
    EXPECT_THROW(bad.start(), std::system_error);
    EXPECT_THROW(server->start(), std::logic_error);
}

} // namespace
