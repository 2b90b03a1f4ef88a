#include "etcd_datastore.hpp"

#include <algorithm>
#include <exception>
#include <system_error>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace weft {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;

namespace {

// The block a key names, given the key without its blocks/vN/ directory.
std::optional<Prefix> block_from_key(std::string_view rest) {
    std::string text(rest);
    std::replace(text.begin(), text.end(), '_', '/');
    auto block = parse_prefix(text);
    if (!block || host_bits_set(*block)) {
        return std::nullopt;
    }
    return block;
}

std::string error_text(const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "unknown error";
    }
}

} // namespace

std::string etcd_block_key(const std::string& prefix, const Prefix& block) {
    std::string text = to_string(block);
    std::replace(text.begin(), text.end(), '/', '_');
    return prefix + "blocks/" + (is_ipv4(block.addr) ? "v4/" : "v6/") + text;
}

// Everything the datastore's coroutines use. They hold it by shared_ptr, so
// it outlives the EtcdDatastore while one of them is suspended; `session`
// tells them whether what they were started for is still current.
struct EtcdDatastore::State : std::enable_shared_from_this<State> {
    State(asio::any_io_executor ex, std::vector<EtcdEndpoint> endpoints, EtcdDatastoreOptions opts,
          EtcdOptions etcd_options, std::shared_ptr<detail::NodeHub> node_hub)
        : executor(ex), etcd(ex, std::move(endpoints), etcd_options), options(std::move(opts)),
          hub(std::move(node_hub)), renew_timer(ex) {}

    asio::any_io_executor executor;
    EtcdClient etcd;
    EtcdDatastoreOptions options;
    std::shared_ptr<detail::NodeHub> hub;
    asio::steady_timer renew_timer;
    EtcdWatch watch;
    std::optional<NodeSpec> self; // set while joined
    std::int64_t lease = 0;
    // Changes on join, leave and stop; a coroutine of an older one ends.
    std::uint64_t session = 0;
    bool stopped = false;

    std::string nodes_dir() const { return options.prefix + "nodes/"; }
    bool live(std::uint64_t s) const noexcept { return !stopped && session == s; }

    void check_running() const {
        if (stopped) {
            throw std::system_error(std::make_error_code(std::errc::operation_canceled),
                                    "etcd datastore stopped");
        }
    }

    void stop() noexcept {
        stopped = true;
        ++session;
        watch.stop();
        renew_timer.cancel();
    }

    std::chrono::milliseconds backoff_after(std::chrono::milliseconds backoff) const {
        return std::min(backoff * 2, options.retry_max);
    }

    awaitable<void> pause(std::chrono::milliseconds duration) {
        asio::steady_timer timer(executor, duration);
        co_await timer.async_wait(use_awaitable);
    }

    // The valid node records of `kvs` by name; the invalid ones described in
    // `errors`.
    std::map<std::string, NodeSpec> parse_nodes(const std::vector<KeyValue>& kvs,
                                                std::vector<std::string>& errors) const {
        std::map<std::string, NodeSpec> nodes;
        for (const KeyValue& kv : kvs) {
            if (auto node = parse_node(kv, errors)) {
                nodes.emplace(node->name, std::move(*node));
            }
        }
        return nodes;
    }

    std::optional<NodeSpec> parse_node(const KeyValue& kv, std::vector<std::string>& errors) const {
        try {
            return node_from_json(kv.key.substr(nodes_dir().size()), kv.value);
        } catch (const std::invalid_argument& e) {
            errors.push_back("node record " + kv.key + " is not valid (" + e.what() + "); skipped");
            return std::nullopt;
        }
    }

    // Claims `block` for `name`; true if it is the node's now.
    awaitable<bool> claim(const Prefix& block, const std::string& name) {
        std::string key = etcd_block_key(options.prefix, block);
        if (co_await etcd.create_if_absent(key, name)) {
            co_return true;
        }
        // A create that timed out and was retried may have been applied.
        std::optional<KeyValue> kv = co_await etcd.get(key);
        co_return kv && kv->value == name;
    }

    // Finds or claims the block of `family` for `name` (see Datastore::join).
    awaitable<Prefix> claim_block(const BlockFamily& family, const std::string& name,
                                  std::optional<Prefix> wanted) {
        const std::string dir = options.prefix + "blocks/" + family.name + "/";
        RangeResult range = co_await etcd.range_prefix(dir);
        std::set<std::string> taken;
        std::vector<std::pair<Prefix, std::int64_t>> mine; // block, mod_revision
        for (const KeyValue& kv : range.kvs) {
            auto block = block_from_key(std::string_view(kv.key).substr(dir.size()));
            if (!block) {
                continue;
            }
            taken.insert(to_string(*block));
            if (kv.value == name && is_block_of(*block, family.cidr, family.block_len)) {
                mine.emplace_back(*block, kv.mod_revision);
            }
        }
        std::optional<Prefix> chosen;
        if (wanted && is_block_of(*wanted, family.cidr, family.block_len)) {
            bool owned = std::any_of(mine.begin(), mine.end(),
                                     [&](const auto& entry) { return entry.first == *wanted; });
            if (!owned && !taken.contains(to_string(*wanted))) {
                owned = co_await claim(*wanted, name);
            }
            if (owned) {
                chosen = wanted;
            }
        }
        if (!chosen && !mine.empty()) {
            chosen = mine.front().first;
        }
        while (!chosen) {
            auto candidate = first_free_block(family, taken);
            if (!candidate) {
                throw BlocksExhausted(family, name);
            }
            if (co_await claim(*candidate, name)) {
                chosen = candidate;
            } else {
                taken.insert(to_string(*candidate)); // another node was quicker
            }
        }
        // A node holds one block of a family: give back any other one (left
        // by a retried claim, or by a block `self` asked for instead).
        for (const auto& [block, revision] : mine) {
            if (block != *chosen) {
                co_await etcd.delete_if_unchanged(etcd_block_key(options.prefix, block), revision);
            }
        }
        co_return *chosen;
    }

    awaitable<NodeSpec> try_join(const NodeSpec& wanted, const ClusterConfig& cluster) {
        NodeSpec node = wanted;
        node.block4.reset();
        node.block6.reset();
        for (const BlockFamily& family : block_families(cluster)) {
            node.*family.field = co_await claim_block(family, node.name, wanted.*family.field);
        }
        std::int64_t new_lease = co_await etcd.lease_grant(options.lease_ttl.count());
        co_await etcd.put(nodes_dir() + node.name, node_to_json(node), new_lease);
        RangeResult range = co_await etcd.range_prefix(nodes_dir());
        check_running();
        ++session;
        self = node;
        lease = new_lease;
        hub->set_ok();
        resynced(range, session);
        asio::co_spawn(executor, renew(shared_from_this(), session), asio::detached);
        co_return node;
    }

    static awaitable<NodeSpec> join(std::shared_ptr<State> s, NodeSpec self,
                                    ClusterConfig cluster) {
        validate(cluster);
        if (self.name.empty() || self.name.find('/') != std::string::npos) {
            throw std::invalid_argument("node name \"" + self.name +
                                        "\" is empty or contains a '/'");
        }
        auto backoff = s->options.retry_initial;
        for (;;) {
            s->check_running();
            std::string failure;
            try {
                co_return co_await s->try_join(self, cluster);
            } catch (const EtcdUnavailable& e) {
                failure = e.what();
            }
            s->check_running();
            s->hub->set_down("etcd unreachable: " + failure);
            co_await s->pause(backoff);
            backoff = s->backoff_after(backoff);
        }
    }

    // Keeps the lease of session `s` alive; writes the record again with a
    // new lease if it expired.
    static awaitable<void> renew(std::shared_ptr<State> s, std::uint64_t session) {
        const auto interval = std::max<std::chrono::milliseconds>(
            std::chrono::duration_cast<std::chrono::milliseconds>(s->options.lease_ttl) / 3,
            std::chrono::milliseconds(100));
        auto wait = interval;
        auto backoff = s->options.retry_initial;
        while (s->live(session)) {
            boost::system::error_code ec;
            s->renew_timer.expires_after(wait);
            co_await s->renew_timer.async_wait(asio::redirect_error(use_awaitable, ec));
            if (!s->live(session)) {
                co_return;
            }
            std::string failure;
            try {
                std::int64_t ttl = co_await s->etcd.lease_keepalive(s->lease);
                if (ttl == 0 && s->live(session)) {
                    std::int64_t lease = co_await s->etcd.lease_grant(s->options.lease_ttl.count());
                    if (!s->live(session)) {
                        co_return;
                    }
                    s->lease = lease;
                    co_await s->etcd.put(s->nodes_dir() + s->self->name, node_to_json(*s->self),
                                         lease);
                }
            } catch (const EtcdUnavailable& e) {
                failure = "etcd unreachable: " + std::string(e.what());
            } catch (const std::exception& e) {
                failure = "renewing the node's lease: " + std::string(e.what());
            }
            if (!s->live(session)) {
                co_return;
            }
            if (failure.empty()) {
                s->hub->set_ok();
                wait = interval;
                backoff = s->options.retry_initial;
            } else {
                s->hub->set_down(failure);
                wait = std::min(backoff, interval);
                backoff = s->backoff_after(backoff);
            }
        }
    }

    // Publishes the nodes of `range` and watches from the revision after it.
    void resynced(const RangeResult& range, std::uint64_t s) {
        std::vector<std::string> errors;
        auto nodes = parse_nodes(range.kvs, errors);
        hub->publish(std::move(nodes), std::move(errors));
        std::weak_ptr<State> weak = shared_from_this();
        watch = etcd.watch_prefix(nodes_dir(), range.revision + 1,
                                  [weak, s](const WatchUpdate& update) {
                                      auto state = weak.lock();
                                      if (state && state->live(s)) {
                                          state->on_watch(update, s);
                                      }
                                  });
    }

    void on_watch(const WatchUpdate& update, std::uint64_t s) {
        if (update.ended()) {
            if (update.error) {
                hub->note_error("node watch ended: " + error_text(update.error));
            } else {
                hub->note_error("node watch lost history (compacted at revision " +
                                std::to_string(update.compact_revision) + "); nodes read again");
            }
            asio::co_spawn(executor, resync(shared_from_this(), s), asio::detached);
            return;
        }
        auto next = hub->nodes();
        std::vector<std::string> errors;
        for (const WatchEvent& event : update.events) {
            next.erase(event.kv.key.substr(nodes_dir().size()));
            if (event.type == WatchEvent::Type::Put) {
                if (auto node = parse_node(event.kv, errors)) {
                    next.insert_or_assign(node->name, std::move(*node));
                }
            }
        }
        hub->publish(std::move(next), std::move(errors));
    }

    // Reads nodes/ afresh (the watch lost history) until it succeeds.
    static awaitable<void> resync(std::shared_ptr<State> s, std::uint64_t session) {
        auto backoff = s->options.retry_initial;
        while (s->live(session)) {
            std::string failure;
            try {
                RangeResult range = co_await s->etcd.range_prefix(s->nodes_dir());
                if (s->live(session)) {
                    s->resynced(range, session);
                }
                co_return;
            } catch (const std::exception& e) {
                failure = e.what();
            }
            if (!s->live(session)) {
                co_return;
            }
            s->hub->note_error("reading the nodes again: " + failure);
            co_await s->pause(backoff);
            backoff = s->backoff_after(backoff);
        }
    }

    static awaitable<void> leave(std::shared_ptr<State> s) {
        if (!s->self) {
            co_return;
        }
        ++s->session;
        s->watch.stop();
        s->renew_timer.cancel();
        const NodeSpec node = *s->self;
        co_await s->etcd.del(s->nodes_dir() + node.name);
        std::vector<Prefix> blocks;
        for (const auto& block : {node.block4, node.block6}) {
            if (block) {
                blocks.push_back(*block);
            }
        }
        for (const Prefix& block : blocks) {
            std::string key = etcd_block_key(s->options.prefix, block);
            std::optional<KeyValue> kv = co_await s->etcd.get(key);
            if (kv && kv->value == node.name) {
                co_await s->etcd.delete_if_unchanged(key, kv->mod_revision);
            }
        }
        try {
            co_await s->etcd.lease_revoke(s->lease);
        } catch (const EtcdUnavailable&) {
            throw;
        } catch (const EtcdError& e) {
            if (e.grpc_code() != 5) { // not found: it expired already
                throw;
            }
        }
        s->self.reset();
        s->lease = 0;
        s->hub->set_down("not joined");
    }

    static awaitable<std::vector<NodeSpec>> nodes(std::shared_ptr<State> s) {
        RangeResult range = co_await s->etcd.range_prefix(s->nodes_dir());
        std::vector<std::string> errors;
        auto nodes = s->parse_nodes(range.kvs, errors);
        for (std::string& error : errors) {
            s->hub->note_error(std::move(error));
        }
        co_return detail::sorted_nodes(nodes);
    }
};

EtcdDatastore::EtcdDatastore(asio::any_io_executor executor, std::vector<EtcdEndpoint> endpoints,
                             EtcdDatastoreOptions options, EtcdOptions etcd_options)
    : state_(std::make_shared<State>(executor, std::move(endpoints), std::move(options),
                                     etcd_options, hub())) {}

EtcdDatastore::~EtcdDatastore() {
    state_->stop();
}

awaitable<NodeSpec> EtcdDatastore::join(NodeSpec self, ClusterConfig cluster) {
    return State::join(state_, std::move(self), std::move(cluster));
}

awaitable<void> EtcdDatastore::leave() {
    return State::leave(state_);
}

awaitable<std::vector<NodeSpec>> EtcdDatastore::nodes() {
    return State::nodes(state_);
}

std::int64_t EtcdDatastore::lease() const noexcept {
    return state_->lease;
}

std::optional<EtcdEndpoint> EtcdDatastore::watch_endpoint() const {
    return state_->watch.endpoint();
}

} // namespace weft
