// weftd's datastores: the block arithmetic and node records, the embedded
// single-node backend over a temporary state database, and the etcd backend
// against a real three-member etcd cluster (with a TCP proxy in front of it
// where a test needs etcd to vanish and come back).
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include "datastore.hpp"
#include "etcd.hpp"
#include "etcd_cluster.hpp"
#include "etcd_datastore.hpp"

namespace {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using namespace std::chrono_literals;
using weft::BlocksExhausted;
using weft::ClusterConfig;
using weft::EtcdDatastore;
using weft::EtcdDatastoreOptions;
using weft::EtcdEndpoint;
using weft::EtcdOptions;
using weft::NodeEvent;
using weft::NodeSpec;
using weft::NodeUpdate;
using weft::Prefix;
using weft::test::EtcdCluster;

Prefix prefix(const char* text) {
    auto p = weft::parse_prefix(text);
    if (!p) {
        throw std::invalid_argument(text);
    }
    return *p;
}

ClusterConfig dual_stack() {
    ClusterConfig cluster;
    cluster.cidr4 = prefix("10.244.0.0/16");
    cluster.cidr6 = prefix("fd00:244::/48");
    return cluster;
}

NodeSpec node(const std::string& name, std::uint8_t host = 1) {
    NodeSpec n;
    n.name = name;
    n.addr = weft::Ipv4{192, 168, 0, host};
    n.encap = weft::Encap::vxlan;
    n.vtep_mac = weft::Mac{0x02, 0, 0, 0, 0, host};
    return n;
}

// The body runs as a coroutine on a fresh event loop; the test fails if it
// throws or is not done after `limit`.
template <typename Body>
void on_loop(Body&& body, std::chrono::seconds limit = 30s) {
    asio::io_context io;
    std::optional<std::exception_ptr> outcome;
    asio::co_spawn(io, body(io.get_executor()), [&](std::exception_ptr e) { outcome = e; });
    io.run_for(limit);
    ASSERT_TRUE(outcome.has_value()) << "not done after " << limit.count() << " s";
    if (*outcome) {
        std::rethrow_exception(*outcome);
    }
}

awaitable<void> pause(std::chrono::milliseconds duration) {
    asio::steady_timer timer(co_await asio::this_coro::executor, duration);
    co_await timer.async_wait(use_awaitable);
}

// Waits until `condition` holds (true) or `limit` has passed (false).
template <typename Condition>
awaitable<bool> wait_until(Condition condition, std::chrono::milliseconds limit) {
    auto give_up = std::chrono::steady_clock::now() + limit;
    for (;;) {
        if (condition()) {
            co_return true;
        }
        if (std::chrono::steady_clock::now() >= give_up) {
            co_return false;
        }
        co_await pause(20ms);
    }
}

// What a datastore watch delivered.
struct Seen {
    std::map<std::string, NodeSpec> nodes;
    std::vector<NodeEvent> events;
    std::vector<std::string> errors;

    weft::NodeCallback callback() {
        return [this](const NodeUpdate& update) {
            nodes.clear();
            for (const NodeSpec& n : update.nodes) {
                nodes.emplace(n.name, n);
            }
            events.insert(events.end(), update.events.begin(), update.events.end());
            errors.insert(errors.end(), update.errors.begin(), update.errors.end());
        };
    }
    bool has(const std::string& name) const { return nodes.contains(name); }
    bool saw(NodeEvent::Type type, const std::string& name) const {
        return std::any_of(events.begin(), events.end(), [&](const NodeEvent& e) {
            return e.type == type && e.node.name == name;
        });
    }
};

// A TCP relay to one etcd member that can be cut (listener closed,
// connections reset) and restored on the same port: etcd unreachable for
// the datastore behind it while everyone else still reaches it.
class Relay {
public:
    Relay(asio::any_io_executor ex, std::uint16_t upstream)
        : impl_(std::make_shared<Impl>(ex, upstream)) {
        impl_->listen(0);
    }
    ~Relay() { impl_->cut(); }
    Relay(const Relay&) = delete;
    Relay& operator=(const Relay&) = delete;

    EtcdEndpoint endpoint() const { return {"127.0.0.1", impl_->port}; }
    void cut() { impl_->cut(); }
    void restore() { impl_->listen(impl_->port); }

private:
    struct Link {
        tcp::socket near;
        tcp::socket far;
        void close() {
            boost::system::error_code ec;
            near.close(ec);
            far.close(ec);
        }
    };

    struct Impl : std::enable_shared_from_this<Impl> {
        Impl(asio::any_io_executor e, std::uint16_t up) : ex(e), upstream(up), acceptor(e) {}

        asio::any_io_executor ex;
        std::uint16_t upstream;
        std::uint16_t port = 0;
        tcp::acceptor acceptor;
        std::vector<std::weak_ptr<Link>> links;

        void listen(std::uint16_t at) {
            tcp::endpoint local(asio::ip::make_address_v4("127.0.0.1"), at);
            acceptor.open(local.protocol());
            acceptor.set_option(tcp::acceptor::reuse_address(true));
            acceptor.bind(local);
            acceptor.listen();
            port = acceptor.local_endpoint().port();
            asio::co_spawn(ex, accept(shared_from_this()), asio::detached);
        }

        void cut() {
            boost::system::error_code ec;
            acceptor.close(ec);
            for (auto& weak : links) {
                if (auto link = weak.lock()) {
                    link->close();
                }
            }
            links.clear();
        }

        static awaitable<void> accept(std::shared_ptr<Impl> self) {
            for (;;) {
                boost::system::error_code ec;
                tcp::socket near =
                    co_await self->acceptor.async_accept(asio::redirect_error(use_awaitable, ec));
                if (ec) {
                    co_return;
                }
                auto link = std::make_shared<Link>(Link{std::move(near), tcp::socket(self->ex)});
                self->links.push_back(link);
                asio::co_spawn(self->ex, connect(self, link), asio::detached);
            }
        }

        static awaitable<void> connect(std::shared_ptr<Impl> self, std::shared_ptr<Link> link) {
            boost::system::error_code ec;
            tcp::endpoint member(asio::ip::make_address_v4("127.0.0.1"), self->upstream);
            co_await link->far.async_connect(member, asio::redirect_error(use_awaitable, ec));
            if (ec) {
                link->close();
                co_return;
            }
            asio::co_spawn(self->ex, copy(link, link->near, link->far), asio::detached);
            asio::co_spawn(self->ex, copy(link, link->far, link->near), asio::detached);
        }

        static awaitable<void> copy(std::shared_ptr<Link> link, tcp::socket& from,
                                    tcp::socket& to) {
            std::array<char, 16384> buffer;
            for (;;) {
                boost::system::error_code ec;
                std::size_t n = co_await from.async_read_some(
                    asio::buffer(buffer), asio::redirect_error(use_awaitable, ec));
                if (ec) {
                    break;
                }
                co_await asio::async_write(to, asio::buffer(buffer.data(), n),
                                           asio::redirect_error(use_awaitable, ec));
                if (ec) {
                    break;
                }
            }
            link->close();
        }
    };

    std::shared_ptr<Impl> impl_;
};

// --- block arithmetic and node records ---

TEST(Blocks, CountAndNth) {
    EXPECT_EQ(weft::block_count(prefix("10.244.0.0/16"), 24), 256u);
    EXPECT_EQ(weft::block_count(prefix("10.0.0.0/30"), 31), 2u);
    EXPECT_EQ(weft::block_count(prefix("fd00::/48"), 128), UINT64_MAX);
    EXPECT_EQ(weft::nth_block(prefix("10.244.0.0/16"), 24, 0), prefix("10.244.0.0/24"));
    EXPECT_EQ(weft::nth_block(prefix("10.244.0.0/16"), 24, 255), prefix("10.244.255.0/24"));
    EXPECT_EQ(weft::nth_block(prefix("10.0.0.0/30"), 31, 1), prefix("10.0.0.2/31"));
    EXPECT_EQ(weft::nth_block(prefix("fd00:244::/48"), 64, 0x102), prefix("fd00:244:0:102::/64"));
    EXPECT_EQ(weft::nth_block(prefix("10.1.0.0/16"), 16, 0), prefix("10.1.0.0/16"));

    EXPECT_TRUE(weft::is_block_of(prefix("10.244.7.0/24"), prefix("10.244.0.0/16"), 24));
    EXPECT_FALSE(weft::is_block_of(prefix("10.245.7.0/24"), prefix("10.244.0.0/16"), 24));
    EXPECT_FALSE(weft::is_block_of(prefix("10.244.7.0/25"), prefix("10.244.0.0/16"), 24));
    EXPECT_FALSE(weft::is_block_of(prefix("fd00::/24"), prefix("10.244.0.0/16"), 24));

    weft::BlockFamily v4{"v4", prefix("10.0.0.0/30"), 31, &NodeSpec::block4};
    EXPECT_EQ(weft::first_free_block(v4, {}), prefix("10.0.0.0/31"));
    EXPECT_EQ(weft::first_free_block(v4, {"10.0.0.0/31"}), prefix("10.0.0.2/31"));
    EXPECT_FALSE(weft::first_free_block(v4, {"10.0.0.0/31", "10.0.0.2/31"}));
    EXPECT_EQ(weft::etcd_block_key("/weft/v1/", prefix("10.244.3.0/24")),
              "/weft/v1/blocks/v4/10.244.3.0_24");
    EXPECT_EQ(weft::etcd_block_key("/p/", prefix("fd00:244:0:3::/64")),
              "/p/blocks/v6/fd00:244:0:3::_64");
}

TEST(Blocks, ClusterConfigIsValidated) {
    EXPECT_NO_THROW(weft::validate(dual_stack()));
    auto rejects = [](ClusterConfig c, const std::string& words) {
        try {
            weft::validate(c);
            ADD_FAILURE() << "accepted; expected: " << words;
        } catch (const std::invalid_argument& e) {
            EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
        }
    };
    rejects(ClusterConfig{}, "neither");
    ClusterConfig c = dual_stack();
    c.cidr4 = prefix("10.244.0.1/16");
    rejects(c, "host bits");
    c = dual_stack();
    c.cidr4 = prefix("fd00::/16");
    rejects(c, "not an IPv4");
    c = dual_stack();
    c.block_len4 = 8;
    rejects(c, "does not fit");
    c = dual_stack();
    c.block_len6 = 129;
    rejects(c, "does not fit");
}

TEST(NodeRecords, JsonRoundTripAndErrors) {
    NodeSpec n = node("a", 7);
    n.block4 = prefix("10.244.1.0/24");
    n.block6 = prefix("fd00:244:0:1::/64");
    std::string text = weft::node_to_json(n);
    EXPECT_EQ(weft::node_from_json("a", text), n);
    EXPECT_EQ(nlohmann::json::parse(text)["block4"], "10.244.1.0/24");

    NodeSpec bare = node("b");
    bare.vtep_mac.reset();
    bare.encap = weft::Encap::ipip;
    EXPECT_EQ(weft::node_from_json("b", weft::node_to_json(bare)), bare);
    EXPECT_EQ(weft::node_from_record(weft::node_to_record(n)), n);

    auto rejects = [](const std::string& json, const std::string& words) {
        try {
            weft::node_from_json("x", json);
            ADD_FAILURE() << json << " accepted";
        } catch (const std::invalid_argument& e) {
            EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
        }
    };
    rejects("{not json", "not JSON");
    rejects("[1]", "not a JSON object");
    rejects("{}", "\"addr\" is missing");
    rejects(R"({"addr":"10.0.0.300"})", "\"addr\" is not valid");
    rejects(R"({"addr":"10.0.0.1","encap":"gre"})", "\"encap\"");
    rejects(R"({"addr":"10.0.0.1","vtep_mac":5})", "not a string");
    rejects(R"({"addr":"10.0.0.1","block4":"fd00::/64"})", "\"block4\"");
    rejects(R"({"addr":"10.0.0.1","block6":"fd00::1/64"})", "\"block6\"");
}

// --- the embedded datastore ---

class EmbeddedDatastoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = std::filesystem::temp_directory_path() / "weft-ds-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::string db_path() const { return dir_ + "/state.db"; }

    std::string dir_;
};

TEST_F(EmbeddedDatastoreTest, RestartKeepsBlockAndNodesIsSelf) {
    NodeSpec first;
    on_loop([&](asio::any_io_executor) -> awaitable<void> {
        weft::Db db(db_path());
        weft::EmbeddedDatastore ds(db);
        EXPECT_FALSE(ds.status().ok);
        first = co_await ds.join(node("solo"), dual_stack());
        EXPECT_EQ(first.block4, prefix("10.244.0.0/24"));
        EXPECT_EQ(first.block6, prefix("fd00:244::/64"));
        std::vector<NodeSpec> all = co_await ds.nodes();
        EXPECT_EQ(all.size(), 1u);
        EXPECT_TRUE(!all.empty() && all.front() == first);
        EXPECT_TRUE(ds.status().ok);
    });
    on_loop([&](asio::any_io_executor) -> awaitable<void> {
        weft::Db db(db_path());
        weft::EmbeddedDatastore ds(db);
        NodeSpec again = co_await ds.join(node("solo"), dual_stack());
        EXPECT_EQ(again, first);
        Seen seen;
        auto watch = ds.watch(seen.callback());
        EXPECT_TRUE(seen.has("solo"));
        ds.add_node(node("static", 3));
        EXPECT_TRUE(seen.has("static"));
        EXPECT_TRUE(seen.saw(NodeEvent::Type::added, "static"));
        EXPECT_EQ((co_await ds.nodes()).size(), 2u);

        co_await ds.leave();
        EXPECT_FALSE(seen.has("solo"));
        EXPECT_FALSE(ds.status().ok);
        // Another node now gets the first block; the static node's are kept out.
        NodeSpec holder = node("static", 3);
        holder.block4 = prefix("10.244.0.0/24");
        ds.add_node(holder);
        NodeSpec other = co_await ds.join(node("other", 4), dual_stack());
        EXPECT_EQ(other.block4, prefix("10.244.1.0/24"));
        EXPECT_TRUE(ds.remove_node("static"));
        EXPECT_FALSE(ds.remove_node("static"));
    });
}

TEST_F(EmbeddedDatastoreTest, ExhaustionIsAnError) {
    on_loop([&](asio::any_io_executor) -> awaitable<void> {
        weft::Db db(db_path());
        weft::EmbeddedDatastore ds(db);
        ClusterConfig tiny;
        tiny.cidr4 = prefix("10.0.0.0/31");
        tiny.block_len4 = 31;
        NodeSpec taken = node("static", 2);
        taken.block4 = prefix("10.0.0.0/31");
        ds.add_node(taken);
        EXPECT_THROW(co_await ds.join(node("solo"), tiny), BlocksExhausted);
        EXPECT_FALSE(ds.status().ok);
    });
}

// --- the etcd datastore ---

class EtcdDatastoreTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { shared_ = std::make_unique<EtcdCluster>(); }
    static void TearDownTestSuite() { shared_.reset(); }

    // Keys of each test under their own prefix.
    static std::string key_prefix() {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        return std::string("/t/") + info->name() + "/";
    }

    static std::unique_ptr<EtcdDatastore> datastore(asio::any_io_executor ex,
                                                    std::vector<EtcdEndpoint> endpoints,
                                                    std::chrono::seconds ttl = 15s) {
        EtcdDatastoreOptions options;
        options.prefix = key_prefix();
        options.lease_ttl = ttl;
        options.retry_initial = 100ms;
        options.retry_max = 500ms;
        EtcdOptions etcd;
        etcd.request_timeout = 1s;
        etcd.watch_max_backoff = 300ms;
        return std::make_unique<EtcdDatastore>(ex, std::move(endpoints), options, etcd);
    }
    static std::unique_ptr<EtcdDatastore> datastore(asio::any_io_executor ex,
                                                    std::chrono::seconds ttl = 15s) {
        return datastore(ex, shared_->endpoints(), ttl);
    }

    static std::unique_ptr<EtcdCluster> shared_;
};

std::unique_ptr<EtcdCluster> EtcdDatastoreTest::shared_;

TEST_F(EtcdDatastoreTest, ConcurrentJoinsGetDistinctBlocks) {
    on_loop([&](asio::any_io_executor ex) -> awaitable<void> {
        constexpr std::size_t count = 8;
        std::vector<std::unique_ptr<EtcdDatastore>> stores;
        std::vector<std::optional<NodeSpec>> joined(count);
        std::size_t done = 0;
        for (std::size_t i = 0; i < count; ++i) {
            stores.push_back(datastore(ex));
        }
        for (std::size_t i = 0; i < count; ++i) {
            NodeSpec self = node("n" + std::to_string(i), std::uint8_t(i + 1));
            asio::co_spawn(ex, stores[i]->join(self, dual_stack()),
                           [&, i](std::exception_ptr e, NodeSpec result) {
                               ++done;
                               if (e) {
                                   ADD_FAILURE() << "n" << i << " did not join";
                               } else {
                                   joined[i] = result;
                               }
                           });
        }
        EXPECT_TRUE(co_await wait_until([&] { return done == count; }, 15s));
        std::set<std::string> blocks4, blocks6;
        for (const auto& n : joined) {
            if (n) {
                blocks4.insert(weft::to_string(*n->block4));
                blocks6.insert(weft::to_string(*n->block6));
            }
        }
        std::set<std::string> first4, first6;
        for (std::uint64_t i = 0; i < count; ++i) {
            first4.insert(weft::to_string(weft::nth_block(*dual_stack().cidr4, 24, i)));
            first6.insert(weft::to_string(weft::nth_block(*dual_stack().cidr6, 64, i)));
        }
        EXPECT_EQ(blocks4, first4);
        EXPECT_EQ(blocks6, first6);
        EXPECT_EQ((co_await stores[0]->nodes()).size(), count);
        EXPECT_TRUE(co_await wait_until(
            [&] {
                return std::all_of(stores.begin(), stores.end(), [&](const auto& s) {
                    return s->known_nodes().size() == count && s->status().ok;
                });
            },
            5s));

        // The layout: blocks without a lease, records on the node's lease.
        weft::EtcdClient raw(ex, shared_->endpoints());
        if (!joined[3]) {
            co_return;
        }
        auto block = co_await raw.get(weft::etcd_block_key(key_prefix(), *joined[3]->block4));
        EXPECT_TRUE(block && block->value == "n3" && block->lease == 0);
        auto record = co_await raw.get(key_prefix() + "nodes/n3");
        EXPECT_TRUE(record && record->lease == stores[3]->lease() && record->lease != 0);
        if (record) {
            EXPECT_EQ(weft::node_from_json("n3", record->value), *joined[3]);
        }
    });
}

TEST_F(EtcdDatastoreTest, RestartedNodeKeepsItsBlock) {
    on_loop([&](asio::any_io_executor ex) -> awaitable<void> {
        auto a = datastore(ex);
        NodeSpec first = co_await a->join(node("a"), dual_stack());
        a.reset(); // stops without leaving
        auto b = datastore(ex);
        NodeSpec bj = co_await b->join(node("b", 2), dual_stack());
        EXPECT_NE(bj.block4, first.block4);
        EXPECT_NE(bj.block6, first.block6);

        auto again = datastore(ex);
        EXPECT_EQ(co_await again->join(node("a"), dual_stack()), first);

        // Asking for a block another node owns does not get it.
        NodeSpec greedy = node("c", 3);
        greedy.block4 = bj.block4;
        NodeSpec cj = co_await datastore(ex)->join(greedy, dual_stack());
        EXPECT_NE(cj.block4, bj.block4);
        EXPECT_NE(cj.block4, first.block4);
    });
}

TEST_F(EtcdDatastoreTest, DeadNodeVanishesAndNewNodeAppears) {
    on_loop([&](asio::any_io_executor ex) -> awaitable<void> {
        auto w = datastore(ex, 2s);
        co_await w->join(node("w"), dual_stack());
        Seen seen;
        auto watch = w->watch(seen.callback());
        EXPECT_TRUE(seen.has("w"));

        auto a = datastore(ex, 2s);
        co_await a->join(node("a", 2), dual_stack());
        EXPECT_TRUE(co_await wait_until([&] { return seen.has("a"); }, 5s));
        // Longer than the TTL: the keepalive holds the record.
        co_await pause(2500ms);
        EXPECT_TRUE(seen.has("a"));

        auto killed = std::chrono::steady_clock::now();
        a.reset();
        EXPECT_TRUE(co_await wait_until([&] { return !seen.has("a"); }, 6s));
        EXPECT_GE(std::chrono::steady_clock::now() - killed, 1s);
        EXPECT_TRUE(seen.saw(NodeEvent::Type::removed, "a"));

        auto late = datastore(ex, 2s);
        NodeSpec lj = co_await late->join(node("late", 3), dual_stack());
        EXPECT_TRUE(co_await wait_until([&] { return seen.has("late"); }, 5s));
        EXPECT_EQ(seen.nodes["late"], lj);
        EXPECT_TRUE(w->status().ok);
    });
}

TEST_F(EtcdDatastoreTest, LeaveFreesTheBlockAndExhaustionIsAnError) {
    on_loop([&](asio::any_io_executor ex) -> awaitable<void> {
        ClusterConfig tiny;
        tiny.cidr4 = prefix("10.0.0.0/30");
        tiny.block_len4 = 31;
        auto a = datastore(ex);
        auto b = datastore(ex);
        auto c = datastore(ex);
        NodeSpec aj = co_await a->join(node("a"), tiny);
        NodeSpec bj = co_await b->join(node("b", 2), tiny);
        EXPECT_EQ(aj.block4, prefix("10.0.0.0/31"));
        EXPECT_EQ(bj.block4, prefix("10.0.0.2/31"));
        EXPECT_FALSE(aj.block6);
        std::string error;
        try {
            co_await c->join(node("c", 3), tiny);
        } catch (const BlocksExhausted& e) {
            error = e.what();
        }
        EXPECT_EQ(error, "no free /31 block left in 10.0.0.0/30 for node \"c\" (2 blocks, "
                         "all owned)");

        Seen seen;
        auto watch = b->watch(seen.callback());
        EXPECT_TRUE(co_await wait_until([&] { return seen.has("a"); }, 5s));
        co_await a->leave();
        EXPECT_FALSE(a->status().ok);
        EXPECT_EQ(a->status().reason, "not joined");
        EXPECT_TRUE(co_await wait_until([&] { return !seen.has("a"); }, 5s));
        weft::EtcdClient raw(ex, shared_->endpoints());
        EXPECT_FALSE(co_await raw.get(weft::etcd_block_key(key_prefix(), *aj.block4)));

        NodeSpec cj = co_await c->join(node("c", 3), tiny);
        EXPECT_EQ(cj.block4, aj.block4);
    });
}

TEST_F(EtcdDatastoreTest, MalformedRecordIsSkipped) {
    on_loop([&](asio::any_io_executor ex) -> awaitable<void> {
        weft::EtcdClient raw(ex, shared_->endpoints());
        co_await raw.put(key_prefix() + "nodes/early", "{not json");
        auto w = datastore(ex);
        co_await w->join(node("w"), dual_stack());
        Seen seen;
        auto watch = w->watch(seen.callback());
        EXPECT_EQ(seen.nodes.size(), 1u);
        EXPECT_NE(w->status().last_error.find("nodes/early"), std::string::npos);

        co_await raw.put(key_prefix() + "nodes/bad", "{not json");
        co_await raw.put(key_prefix() + "nodes/worse", R"({"addr":"no address"})");
        auto c = datastore(ex);
        co_await c->join(node("c", 3), dual_stack());
        EXPECT_TRUE(co_await wait_until([&] { return seen.has("c"); }, 5s));
        EXPECT_FALSE(seen.has("bad"));
        EXPECT_FALSE(seen.has("worse"));
        EXPECT_EQ(seen.errors.size(), 2u);
        if (seen.errors.size() == 2) {
            EXPECT_NE(seen.errors[0].find("nodes/bad is not valid (not JSON)"), std::string::npos)
                << seen.errors[0];
            EXPECT_NE(seen.errors[1].find("\"addr\" is not valid"), std::string::npos)
                << seen.errors[1];
        }
        EXPECT_EQ((co_await w->nodes()).size(), 2u);

        // A valid node turning invalid is gone; the watch goes on.
        co_await raw.put(key_prefix() + "nodes/c", "garbage");
        EXPECT_TRUE(co_await wait_until([&] { return !seen.has("c"); }, 5s));
        co_await c->leave();
        auto d = datastore(ex);
        co_await d->join(node("d", 4), dual_stack());
        EXPECT_TRUE(co_await wait_until([&] { return seen.has("d"); }, 5s));
        EXPECT_TRUE(w->status().ok);
    });
}

TEST(EtcdDatastoreFailover, WatchSurvivesItsMemberKilled) {
    EtcdCluster cluster;
    on_loop([&](asio::any_io_executor ex) -> awaitable<void> {
        EtcdDatastoreOptions options;
        options.lease_ttl = 3s;
        EtcdOptions etcd;
        etcd.request_timeout = 1s;
        EtcdDatastore w(ex, cluster.endpoints(), options, etcd);
        co_await w.join(node("w"), dual_stack());
        Seen seen;
        auto watch = w.watch(seen.callback());
        EXPECT_TRUE(co_await wait_until([&] { return w.watch_endpoint().has_value(); }, 5s));
        cluster.kill(cluster.index_of(*w.watch_endpoint()));

        EtcdDatastore b(ex, cluster.endpoints(), options, etcd);
        co_await b.join(node("b", 2), dual_stack());
        EXPECT_TRUE(co_await wait_until([&] { return seen.has("b"); }, 10s));
        co_await pause(1500ms); // a renewal or two through the failover
        EXPECT_TRUE(w.status().ok) << w.status().reason;
        EXPECT_TRUE(seen.has("w"));
    });
}

TEST(EtcdDatastoreFailover, UnreachableThenRecovers) {
    EtcdCluster cluster;
    on_loop([&](asio::any_io_executor ex) -> awaitable<void> {
        std::vector<std::unique_ptr<Relay>> relays;
        std::vector<EtcdEndpoint> relayed;
        for (const EtcdEndpoint& member : cluster.endpoints()) {
            relays.push_back(std::make_unique<Relay>(ex, member.port));
            relayed.push_back(relays.back()->endpoint());
        }
        EtcdDatastoreOptions options;
        options.lease_ttl = 2s;
        options.retry_initial = 100ms;
        options.retry_max = 400ms;
        EtcdOptions etcd;
        etcd.request_timeout = 500ms;
        etcd.rounds = 1;
        etcd.watch_max_backoff = 200ms;
        EtcdDatastore a(ex, relayed, options, etcd);
        EtcdDatastore b(ex, cluster.endpoints(), options, etcd);
        NodeSpec aj = co_await a.join(node("a"), dual_stack());
        co_await b.join(node("b", 2), dual_stack());
        Seen at_a, at_b;
        auto watch_a = a.watch(at_a.callback());
        auto watch_b = b.watch(at_b.callback());
        EXPECT_TRUE(co_await wait_until([&] { return at_a.has("b") && at_b.has("a"); }, 5s));

        for (auto& relay : relays) {
            relay->cut();
        }
        EXPECT_TRUE(co_await wait_until([&] { return !a.status().ok; }, 5s));
        EXPECT_NE(a.status().reason.find("etcd unreachable"), std::string::npos)
            << a.status().reason;

        // Meanwhile: a's lease runs out, c joins, and the history a's watch
        // would resume from is compacted away.
        EtcdDatastore c(ex, cluster.endpoints(), options, etcd);
        co_await c.join(node("c", 3), dual_stack());
        EXPECT_TRUE(co_await wait_until([&] { return !at_b.has("a"); }, 6s));
        weft::EtcdClient raw(ex, cluster.endpoints());
        cluster.compact(co_await raw.put("/elsewhere", "x"));
        EXPECT_TRUE(at_a.has("b"));
        EXPECT_FALSE(at_a.has("c"));
        EXPECT_EQ(a.known_nodes().size(), 2u);

        for (auto& relay : relays) {
            relay->restore();
        }
        EXPECT_TRUE(co_await wait_until([&] { return a.status().ok; }, 10s)) << a.status().reason;
        EXPECT_TRUE(co_await wait_until([&] { return at_a.has("c"); }, 10s));
        EXPECT_TRUE(co_await wait_until([&] { return at_b.has("a"); }, 10s));
        EXPECT_EQ(at_b.nodes["a"], aj);
        EXPECT_NE(a.status().last_error, "");
    });
}

} // namespace
