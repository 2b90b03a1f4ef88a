// weftd's etcd client against a real three-member etcd cluster, and against
// a fake gateway for the answers a healthy etcd never gives.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>

#include "etcd.hpp"
#include "etcd_cluster.hpp"

namespace {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using namespace std::chrono_literals;
using weft::EtcdClient;
using weft::EtcdError;
using weft::EtcdOptions;
using weft::EtcdUnavailable;
using weft::KeyValue;
using weft::WatchEvent;
using weft::WatchUpdate;
using weft::test::EtcdCluster;

// Runs `body(executor)` to completion on a fresh event loop, failing the test
// if it throws or takes longer than `limit`.
void run(const std::function<awaitable<void>(asio::any_io_executor)>& body,
         std::chrono::seconds limit = 20s) {
    asio::io_context io;
    bool done = false;
    std::exception_ptr error;
    asio::co_spawn(io, body(io.get_executor()), [&](std::exception_ptr e) {
        done = true;
        error = e;
    });
    io.run_for(limit);
    ASSERT_TRUE(done) << "the test did not finish within " << limit.count() << " s";
    if (error) {
        std::rethrow_exception(error);
    }
}

awaitable<void> sleep_for(std::chrono::milliseconds duration) {
    asio::steady_timer timer(co_await asio::this_coro::executor, duration);
    co_await timer.async_wait(use_awaitable);
}

// Polls `done` every 10 ms; false if it is still false after `limit`.
awaitable<bool> eventually(const std::function<bool()>& done, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) {
            co_return false;
        }
        co_await sleep_for(10ms);
    }
    co_return true;
}

// Every byte value, in a key and in a value.
std::string binary(const std::string& tag) {
    std::string s = tag;
    for (int c = 0; c < 256; ++c) {
        s += char(c);
    }
    return s;
}

TEST(EtcdClient, PutGetRangeDeleteRoundTrip) {
    EtcdCluster cluster;
    run([&](asio::any_io_executor ex) -> awaitable<void> {
        EtcdClient etcd(ex, cluster.endpoints());
        const std::string prefix = std::string("/bin\xff\0/", 6);
        const std::string key = prefix + binary("k");
        const std::string value = binary("v") + std::string(3, '\0');

        std::int64_t rev = co_await etcd.put(key, value);
        EXPECT_GT(rev, 0);
        std::optional<KeyValue> kv = co_await etcd.get(key);
        EXPECT_TRUE(kv.has_value());
        EXPECT_EQ(kv->key, key);
        EXPECT_EQ(kv->value, value);
        EXPECT_EQ(kv->create_revision, rev);
        EXPECT_EQ(kv->mod_revision, rev);
        EXPECT_EQ(kv->version, 1);
        EXPECT_EQ(kv->lease, 0);

        std::int64_t rev2 = co_await etcd.put(key, "");
        kv = co_await etcd.get(key);
        EXPECT_EQ(kv->value, "");
        EXPECT_EQ(kv->create_revision, rev);
        EXPECT_EQ(kv->mod_revision, rev2);
        EXPECT_EQ(kv->version, 2);

        EXPECT_FALSE((co_await etcd.get(prefix + "absent")).has_value());

        co_await etcd.put(prefix + "a", "1");
        co_await etcd.put(prefix + "b", "2");
        co_await etcd.put("/bin\xff\x01", "outside the prefix");
        weft::RangeResult range = co_await etcd.range_prefix(prefix);
        EXPECT_GE(range.revision, rev2 + 3);
        std::vector<std::string> keys;
        for (const auto& item : range.kvs) {
            keys.push_back(item.key);
        }
        EXPECT_EQ(keys, (std::vector<std::string>{prefix + "a", prefix + "b", key}));
        EXPECT_EQ((co_await etcd.range_prefix("")).kvs.size(), 4u);

        EXPECT_EQ(co_await etcd.del(key), 1);
        EXPECT_EQ(co_await etcd.del(key), 0);
        EXPECT_EQ(co_await etcd.del_prefix(prefix), 2);
        EXPECT_TRUE((co_await etcd.range_prefix(prefix)).kvs.empty());
        EXPECT_TRUE((co_await etcd.get("/bin\xff\x01")).has_value());
    });
}

// A prefix larger than a page comes back whole, in key order, with the
// revision it was read at.
TEST(EtcdClient, RangeReadsLargePrefixesInPages) {
    EtcdCluster cluster;
    run([&](asio::any_io_executor ex) -> awaitable<void> {
        EtcdOptions options;
        options.range_page = 7;
        EtcdClient etcd(ex, cluster.endpoints(), options);
        std::vector<std::string> want;
        for (int i = 0; i < 40; ++i) {
            char key[32];
            std::snprintf(key, sizeof key, "/paged/n%03d", i);
            want.push_back(key);
            co_await etcd.put(key, std::to_string(i));
        }
        std::int64_t outside = co_await etcd.put("/paged0", "outside");
        weft::RangeResult range = co_await etcd.range_prefix("/paged/");
        std::vector<std::string> keys;
        for (const auto& kv : range.kvs) {
            keys.push_back(kv.key);
        }
        EXPECT_EQ(keys, want);
        EXPECT_EQ(range.kvs.back().value, "39");
        EXPECT_EQ(range.revision, outside);

        std::int64_t last = co_await etcd.put("/paged/n040", "40");
        weft::RangeResult again = co_await etcd.range_prefix("/paged/");
        EXPECT_EQ(again.kvs.size(), 41u);
        EXPECT_EQ(again.revision, last);
    });
}

TEST(EtcdClient, CreateIfAbsentHasOneWinner) {
    EtcdCluster cluster;
    run([&](asio::any_io_executor ex) -> awaitable<void> {
        EtcdClient etcd(ex, cluster.endpoints());
        constexpr int kClaimers = 20;
        int finished = 0;
        std::vector<int> winners;
        for (int i = 0; i < kClaimers; ++i) {
            asio::co_spawn(
                ex,
                [&, i]() -> awaitable<void> {
                    if (co_await etcd.create_if_absent("/blocks/10.1.0.0", std::to_string(i))) {
                        winners.push_back(i);
                    }
                    ++finished;
                },
                asio::detached);
        }
        EXPECT_TRUE(co_await eventually([&] { return finished == kClaimers; }, 10s));
        EXPECT_EQ(winners.size(), 1u);
        auto kv = co_await etcd.get("/blocks/10.1.0.0");
        EXPECT_TRUE(kv && !winners.empty() && kv->value == std::to_string(winners.front()));
        EXPECT_FALSE(co_await etcd.create_if_absent("/blocks/10.1.0.0", "late"));
    });
}

TEST(EtcdClient, CompareAndSwap) {
    EtcdCluster cluster;
    run([&](asio::any_io_executor ex) -> awaitable<void> {
        EtcdClient etcd(ex, cluster.endpoints());
        EXPECT_TRUE(co_await etcd.compare_and_swap("/cas", 0, "first"));
        EXPECT_FALSE(co_await etcd.compare_and_swap("/cas", 0, "again"));
        auto kv = co_await etcd.get("/cas");
        EXPECT_FALSE(co_await etcd.compare_and_swap("/cas", kv->mod_revision - 1, "stale"));
        EXPECT_TRUE(co_await etcd.compare_and_swap("/cas", kv->mod_revision, "second"));
        EXPECT_FALSE(co_await etcd.compare_and_swap("/cas", kv->mod_revision, "third"));
        auto now = co_await etcd.get("/cas");
        EXPECT_EQ(now->value, "second");

        EXPECT_FALSE(co_await etcd.delete_if_unchanged("/cas", kv->mod_revision));
        EXPECT_FALSE(co_await etcd.delete_if_unchanged("/absent", 0));
        EXPECT_TRUE(co_await etcd.delete_if_unchanged("/cas", now->mod_revision));
        EXPECT_FALSE((co_await etcd.get("/cas")).has_value());
    });
}

TEST(EtcdClient, LeaseKeepaliveExpiryAndRevoke) {
    EtcdCluster cluster;
    run([&](asio::any_io_executor ex) -> awaitable<void> {
        EtcdClient etcd(ex, cluster.endpoints());
        std::int64_t lease = co_await etcd.lease_grant(2);
        EXPECT_NE(lease, 0);
        co_await etcd.put("/nodes/a", "alive", lease);
        EXPECT_EQ((co_await etcd.get("/nodes/a"))->lease, lease);
        EXPECT_TRUE(co_await etcd.create_if_absent("/nodes/b", "alive", lease));
        std::int64_t ttl = co_await etcd.lease_keepalive(lease);
        EXPECT_GT(ttl, 0);
        EXPECT_LE(ttl, 2);

        // No more keepalives: etcd drops the lease and its keys.
        bool gone = false;
        auto deadline = std::chrono::steady_clock::now() + 6s;
        while (!gone && std::chrono::steady_clock::now() < deadline) {
            co_await sleep_for(100ms);
            gone = (co_await etcd.range_prefix("/nodes/")).kvs.empty();
        }
        EXPECT_TRUE(gone);
        EXPECT_EQ(co_await etcd.lease_keepalive(lease), 0);

        std::int64_t second = co_await etcd.lease_grant(30);
        co_await etcd.put("/nodes/c", "alive", second);
        co_await etcd.lease_revoke(second);
        EXPECT_FALSE((co_await etcd.get("/nodes/c")).has_value());
        try {
            co_await etcd.lease_revoke(second);
            ADD_FAILURE() << "revoking a revoked lease succeeded";
        } catch (const EtcdUnavailable& e) {
            ADD_FAILURE() << e.what();
        } catch (const EtcdError& e) {
            EXPECT_EQ(e.grpc_code(), 5) << e.what();
            EXPECT_NE(std::string(e.what()).find("lease not found"), std::string::npos) << e.what();
        }
        try {
            co_await etcd.put("/nodes/d", "x", second);
            ADD_FAILURE() << "a put with a revoked lease succeeded";
        } catch (const EtcdError& e) {
            EXPECT_EQ(e.operation(), "put");
            EXPECT_EQ(e.key(), "/nodes/d");
            EXPECT_NE(std::string(e.what()).find("etcd put \"/nodes/d\""), std::string::npos)
                << e.what();
        }
    });
}

// Collects what a watch delivers.
struct Recorder {
    std::vector<WatchEvent> events;
    std::vector<WatchUpdate> ends;

    weft::WatchCallback callback() {
        return [this](const WatchUpdate& update) {
            for (const auto& e : update.events) {
                if (!events.empty()) {
                    EXPECT_GT(e.revision(), events.back().revision()) << "repeated or out of order";
                }
                events.push_back(e);
            }
            if (update.ended()) {
                ends.push_back(update);
            }
        };
    }
};

TEST(EtcdClient, WatchDeliversPutsAndDeletesInOrder) {
    EtcdCluster cluster;
    run([&](asio::any_io_executor ex) -> awaitable<void> {
        EtcdClient etcd(ex, cluster.endpoints());
        std::int64_t before = co_await etcd.put("/pods/old", "history");
        Recorder now;
        weft::EtcdWatch watch = etcd.watch_prefix("/pods/", 0, now.callback());
        EXPECT_TRUE(co_await eventually([&] { return watch.next_revision() != 0; }, 5s));
        co_await etcd.put("/elsewhere", "not watched");
        std::int64_t r1 = co_await etcd.put("/pods/a", "1");
        std::int64_t r2 = co_await etcd.put("/pods/b", "2");
        std::int64_t r3 = co_await etcd.put("/pods/a", "3");
        co_await etcd.del("/pods/b");
        EXPECT_TRUE(co_await eventually([&] { return now.events.size() == 4; }, 5s));
        EXPECT_EQ(now.events.size(), 4u);
        if (now.events.size() == 4) {
            EXPECT_EQ(now.events[0].kv.key, "/pods/a");
            EXPECT_EQ(now.events[0].kv.value, "1");
            EXPECT_EQ(now.events[0].revision(), r1);
            EXPECT_EQ(now.events[1].revision(), r2);
            EXPECT_EQ(now.events[2].type, WatchEvent::Type::Put);
            EXPECT_EQ(now.events[2].revision(), r3);
            EXPECT_EQ(now.events[2].kv.version, 2);
            EXPECT_EQ(now.events[3].type, WatchEvent::Type::Delete);
            EXPECT_EQ(now.events[3].kv.key, "/pods/b");
            EXPECT_EQ(now.events[3].revision(), r3 + 1);
        }

        // From a past revision: the history first.
        Recorder past;
        weft::EtcdWatch replay = etcd.watch_prefix("/pods/", before, past.callback());
        EXPECT_TRUE(co_await eventually([&] { return past.events.size() == 5; }, 5s));
        EXPECT_EQ(past.events.front().kv.value, "history");

        watch.stop();
        EXPECT_FALSE(watch.active());
        co_await etcd.put("/pods/c", "after stop");
        EXPECT_TRUE(co_await eventually([&] { return past.events.size() == 6; }, 5s));
        co_await sleep_for(100ms);
        EXPECT_EQ(now.events.size(), 4u);
        EXPECT_TRUE(now.ends.empty());
        EXPECT_TRUE(past.ends.empty());
    });
}

TEST(EtcdClient, WatchReportsCompaction) {
    EtcdCluster cluster;
    run([&](asio::any_io_executor ex) -> awaitable<void> {
        EtcdClient etcd(ex, cluster.endpoints());
        std::int64_t first = co_await etcd.put("/c/a", "1");
        co_await etcd.put("/c/a", "2");
        std::int64_t last = co_await etcd.put("/c/a", "3");
        cluster.compact(last);
        Recorder r;
        weft::EtcdWatch watch = etcd.watch_prefix("/c/", first, r.callback());
        EXPECT_TRUE(co_await eventually([&] { return !r.ends.empty(); }, 5s));
        EXPECT_TRUE(r.events.empty());
        if (!r.ends.empty()) {
            EXPECT_EQ(r.ends.front().compact_revision, last);
        }
        EXPECT_FALSE(watch.active());
    });
}

TEST(EtcdClient, WatchResumesAfterItsMemberIsKilled) {
    EtcdCluster cluster;
    run([&](asio::any_io_executor ex) -> awaitable<void> {
        EtcdOptions options;
        options.request_timeout = 1s;
        options.rounds = 10;
        EtcdClient etcd(ex, cluster.endpoints(), options);
        Recorder r;
        weft::EtcdWatch watch = etcd.watch_prefix("/w/", 0, r.callback());
        EXPECT_TRUE(co_await eventually([&] { return watch.endpoint().has_value(); }, 5s));
        std::vector<std::int64_t> written;
        for (int i = 0; i < 5; ++i) {
            written.push_back(co_await etcd.put("/w/" + std::to_string(i), "before"));
        }
        EXPECT_TRUE(co_await eventually([&] { return r.events.size() == 5; }, 5s));

        std::size_t victim = cluster.index_of(*watch.endpoint());
        cluster.kill(victim);
        // Written while the watch reconnects.
        for (int i = 5; i < 15; ++i) {
            written.push_back(co_await etcd.put("/w/" + std::to_string(i), "during"));
        }
        EXPECT_EQ(co_await etcd.del("/w/0"), 1);
        EXPECT_TRUE(co_await eventually([&] { return r.events.size() >= 16; }, 10s));
        co_await sleep_for(200ms);
        EXPECT_EQ(r.events.size(), 16u);
        for (std::size_t i = 0; i < r.events.size() && i < 15; ++i) {
            EXPECT_EQ(r.events[i].kv.key, "/w/" + std::to_string(i));
            EXPECT_EQ(r.events[i].revision(), written[i]);
        }
        if (r.events.size() == 16) {
            EXPECT_EQ(r.events[15].type, WatchEvent::Type::Delete);
            EXPECT_EQ(r.events[15].kv.key, "/w/0");
            EXPECT_EQ(r.events[15].revision(), written[14] + 1);
        }
        EXPECT_TRUE(watch.endpoint().has_value());
        if (watch.endpoint()) {
            EXPECT_NE(cluster.index_of(*watch.endpoint()), victim);
        }
        EXPECT_TRUE(r.ends.empty());
    });
}

TEST(EtcdClient, SurvivesKilledLeader) {
    EtcdCluster cluster;
    std::size_t leader = cluster.leader();
    // The leader first, so that the client is talking to it when it dies.
    std::vector<weft::EtcdEndpoint> endpoints = {cluster.endpoint(leader)};
    for (std::size_t i = 0; i < cluster.size(); ++i) {
        if (i != leader) {
            endpoints.push_back(cluster.endpoint(i));
        }
    }
    run([&](asio::any_io_executor ex) -> awaitable<void> {
        EtcdOptions options;
        options.request_timeout = 1s;
        options.rounds = 10;
        EtcdClient etcd(ex, endpoints, options);
        co_await etcd.put("/leader", "0");
        cluster.kill(leader);
        for (int i = 1; i <= 5; ++i) {
            co_await etcd.put("/leader", std::to_string(i));
            EXPECT_EQ((co_await etcd.get("/leader"))->value, std::to_string(i));
        }
        EXPECT_TRUE(co_await etcd.create_if_absent("/after", "x"));
    });
}

TEST(EtcdClient, AllMembersDownIsRetryable) {
    EtcdCluster cluster;
    run([&](asio::any_io_executor ex) -> awaitable<void> {
        EtcdClient etcd(ex, cluster.endpoints());
        co_await etcd.put("/k", "v");
        for (std::size_t i = 0; i < cluster.size(); ++i) {
            cluster.kill(i);
        }
        auto start = std::chrono::steady_clock::now();
        try {
            co_await etcd.get("/k");
            ADD_FAILURE() << "get succeeded with every member down";
        } catch (const EtcdUnavailable& e) {
            EXPECT_EQ(e.operation(), "get");
            EXPECT_NE(std::string(e.what()).find("no endpoint answered"), std::string::npos)
                << e.what();
        }
        EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);

        // A watch keeps trying, and stops at once when told (the test would
        // not end before it).
        Recorder r;
        weft::EtcdWatch watch = etcd.watch_prefix("/", 0, r.callback());
        co_await sleep_for(300ms);
        EXPECT_TRUE(watch.active());
        EXPECT_FALSE(watch.endpoint().has_value());
        watch.stop();
        EXPECT_TRUE(r.ends.empty());
    });
}

// A stand-in for the gateway that answers every request with `response`,
// raw bytes, then closes the connection.
class FakeGateway {
public:
    FakeGateway(asio::any_io_executor ex, std::string response)
        : acceptor_(ex, {asio::ip::make_address("127.0.0.1"), 0}),
          response_(std::make_shared<std::string>(std::move(response))) {
        asio::co_spawn(ex, serve(acceptor_, response_), asio::detached);
    }
    ~FakeGateway() { acceptor_.close(); }

    weft::EtcdEndpoint endpoint() const { return {"127.0.0.1", acceptor_.local_endpoint().port()}; }

private:
    static awaitable<void> serve(asio::ip::tcp::acceptor& acceptor,
                                 std::shared_ptr<std::string> response) {
        for (;;) {
            boost::system::error_code ec;
            auto socket = co_await acceptor.async_accept(asio::redirect_error(use_awaitable, ec));
            if (ec) {
                co_return;
            }
            boost::beast::flat_buffer buffer;
            boost::beast::http::request<boost::beast::http::string_body> request;
            co_await boost::beast::http::async_read(socket, buffer, request,
                                                    asio::redirect_error(use_awaitable, ec));
            if (!ec) {
                co_await asio::async_write(socket, asio::buffer(*response),
                                           asio::redirect_error(use_awaitable, ec));
            }
        }
    }

    asio::ip::tcp::acceptor acceptor_;
    std::shared_ptr<std::string> response_;
};

std::string http_response(const std::string& status, const std::string& body) {
    return "HTTP/1.1 " + status +
           "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\nConnection: close\r\n\r\n" + body;
}

// What an operation against a fake gateway answering `response` throws.
std::optional<EtcdError> error_from_fake(const std::string& response) {
    std::optional<EtcdError> caught;
    run([&](asio::any_io_executor ex) -> awaitable<void> {
        FakeGateway fake(ex, response);
        EtcdClient etcd(ex, {fake.endpoint()});
        try {
            co_await etcd.put("/k", "v");
        } catch (const EtcdUnavailable& e) {
            ADD_FAILURE() << "not a gateway failure: " << e.what();
        } catch (const EtcdError& e) {
            caught = e;
        }
    });
    return caught;
}

TEST(EtcdClient, MalformedAnswerIsAnError) {
    auto garbage = error_from_fake(http_response("200 OK", "<html>not json"));
    ASSERT_TRUE(garbage.has_value());
    EXPECT_EQ(garbage->http_status(), 200u);
    EXPECT_EQ(std::string(garbage->what()),
              "etcd put \"/k\": malformed answer \"<html>not json\" (HTTP 200)");

    auto bad_field = error_from_fake(http_response("200 OK", R"({"header":{"revision":"x1"}})"));
    ASSERT_TRUE(bad_field.has_value());
    EXPECT_NE(std::string(bad_field->what()).find("\"revision\" is not an int64"),
              std::string::npos)
        << bad_field->what();
}

TEST(EtcdClient, GatewayRejectionIsAnError) {
    auto rejected = error_from_fake(
        http_response("400 Bad Request", R"({"error":"bad key","message":"bad key","code":3})"));
    ASSERT_TRUE(rejected.has_value());
    EXPECT_EQ(rejected->http_status(), 400u);
    EXPECT_EQ(rejected->grpc_code(), 3);
    EXPECT_EQ(rejected->detail(), "bad key");
    EXPECT_EQ(std::string(rejected->what()), "etcd put \"/k\": bad key (HTTP 400, code 3)");

    auto broken = error_from_fake(http_response("500 Internal Server Error", "oops"));
    ASSERT_TRUE(broken.has_value());
    EXPECT_EQ(broken->http_status(), 500u);
    EXPECT_EQ(broken->detail(), "unexpected answer \"oops\"");
}

TEST(EtcdClient, MalformedWatchStreamEndsTheWatch) {
    run([&](asio::any_io_executor ex) -> awaitable<void> {
        const std::string stream = "{\"result\":{\"created\":true}}\n{\"result\":}";
        char size[16];
        std::snprintf(size, sizeof(size), "%zx", stream.size());
        FakeGateway fake(ex, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
                                 std::string(size) + "\r\n" + stream + "\r\n0\r\n\r\n");
        EtcdClient etcd(ex, {fake.endpoint()});
        Recorder r;
        weft::EtcdWatch watch = etcd.watch_prefix("/w/", 0, r.callback());
        EXPECT_TRUE(co_await eventually([&] { return !r.ends.empty(); }, 5s));
        EXPECT_FALSE(watch.active());
        if (!r.ends.empty()) {
            EXPECT_EQ(r.ends.front().compact_revision, 0);
            try {
                std::rethrow_exception(r.ends.front().error);
            } catch (const EtcdError& e) {
                EXPECT_NE(std::string(e.what()).find("etcd watch \"/w/\": malformed stream"),
                          std::string::npos)
                    << e.what();
            }
        }
    });
}

} // namespace
