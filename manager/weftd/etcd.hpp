// weftd's etcd client: etcd v3 through its JSON gateway (/v3/...), over
// HTTP/1.1 on the caller's event loop.
//
// Every operation is an Asio coroutine run on the executor given to the
// client. The client is not thread-safe: use it from the thread (or strand)
// that runs that executor. Keys and values are arbitrary bytes.
//
// Failover: an operation is sent to the endpoint that answered last. A
// connection failure, a timeout or a gateway answer of 503/504 (etcd without a
// leader, a request timed out inside etcd) moves it to the next endpoint.
// When every endpoint failed `rounds` times the operation throws
// EtcdUnavailable, which the caller retries later with backoff. A request that
// timed out may still have been applied by etcd: a retried create_if_absent()
// can then report false for the key it created itself.
#pragma once

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "host_port.hpp"

namespace weft {

// One member's client address (plain HTTP).
using EtcdEndpoint = HostPort;

struct EtcdOptions {
    // The deadline of one attempt at one endpoint: connecting, sending the
    // request and reading the whole answer.
    std::chrono::milliseconds request_timeout{2000};
    // A prefix is read in pages of this many keys, all at the revision of
    // the first page (one consistent snapshot): a single answer holding a
    // large cluster's nodes could take longer than request_timeout to build
    // and send on a slow machine.
    std::int64_t range_page = 500;
    // How many times an operation tries every endpoint before it throws
    // EtcdUnavailable; between two rounds it waits round_delay.
    unsigned rounds = 2;
    std::chrono::milliseconds round_delay{250};
    // A watch that hears nothing for this long reconnects (resuming where it
    // was), so that a member that vanished without closing the connection is
    // noticed.
    std::chrono::milliseconds watch_idle_timeout{60000};
    // The longest wait between two reconnection attempts of a watch when no
    // endpoint answers.
    std::chrono::milliseconds watch_max_backoff{1000};
};

// An etcd request failed: etcd (or its gateway) rejected it, or its answer did
// not make sense. what() reads like
//   etcd put "/weft/nodes/a": etcdserver: requested lease not found (HTTP 404, code 5)
class EtcdError : public std::runtime_error {
public:
    // `http_status` is 0 when no HTTP answer was involved, `grpc_code` -1 when
    // the gateway gave none.
    EtcdError(std::string operation, std::string key, std::string detail, unsigned http_status = 0,
              int grpc_code = -1);

    const std::string& operation() const noexcept { return operation_; }
    const std::string& key() const noexcept { return key_; }
    // The gateway's message, or what was wrong with its answer.
    const std::string& detail() const noexcept { return detail_; }
    unsigned http_status() const noexcept { return http_status_; }
    int grpc_code() const noexcept { return grpc_code_; }

private:
    std::string operation_;
    std::string key_;
    std::string detail_;
    unsigned http_status_;
    int grpc_code_;
};

// No endpoint answered (all down, unreachable, timing out or without a
// leader). detail() names the last failure. Worth retrying with backoff.
class EtcdUnavailable : public EtcdError {
public:
    EtcdUnavailable(std::string operation, std::string key, std::string detail);
};

struct KeyValue {
    std::string key;
    std::string value;
    std::int64_t create_revision = 0;
    std::int64_t mod_revision = 0;
    std::int64_t version = 0;
    std::int64_t lease = 0;
};

struct RangeResult {
    std::vector<KeyValue> kvs; // sorted by key
    std::int64_t revision = 0; // the store's revision the range was read at
};

struct WatchEvent {
    enum class Type { Put, Delete };
    Type type = Type::Put;
    // For a Delete, only key and mod_revision (the deletion's revision) are set.
    KeyValue kv;

    std::int64_t revision() const noexcept { return kv.mod_revision; }
};

// What a watch hands its callback: either a batch of events, or the end of the
// watch (compacted or failed). After an end no callback follows.
struct WatchUpdate {
    // In revision order; events of one revision (a transaction) come together.
    std::vector<WatchEvent> events;
    // Non-zero: the revision the watch had to resume from was compacted away,
    // events were lost and the watch ended. Resync with range_prefix() and
    // watch again from its revision + 1.
    std::int64_t compact_revision = 0;
    // Set: the watch ended on an error retrying cannot fix (a rejection by
    // etcd, an answer that is not the gateway's).
    std::exception_ptr error;

    bool ended() const noexcept { return compact_revision != 0 || error != nullptr; }
};

// Must not throw; if it does, the watch ends (active() turns false) without
// another call.
using WatchCallback = std::function<void(const WatchUpdate&)>;

namespace detail {
struct EtcdState;
struct WatchState;
} // namespace detail

// A running watch; stops when destroyed. Move-only.
class EtcdWatch {
public:
    EtcdWatch() = default;
    EtcdWatch(EtcdWatch&&) noexcept = default;
    EtcdWatch& operator=(EtcdWatch&& other) noexcept;
    EtcdWatch(const EtcdWatch&) = delete;
    EtcdWatch& operator=(const EtcdWatch&) = delete;
    ~EtcdWatch() { stop(); }

    // Closes the stream; the callback is not called again, not even from an
    // update being delivered when stop() is called from the callback.
    void stop() noexcept;
    // Whether the watch still runs (not stopped, not ended).
    bool active() const noexcept;
    // The member the watch streams from now, if it is connected.
    std::optional<EtcdEndpoint> endpoint() const;
    // The revision the watch resumes from if its stream breaks: the last
    // revision delivered + 1 (or the start revision).
    std::int64_t next_revision() const noexcept;

private:
    friend class EtcdClient;
    explicit EtcdWatch(std::shared_ptr<detail::WatchState> state) : state_(std::move(state)) {}

    std::shared_ptr<detail::WatchState> state_;
};

class EtcdClient {
public:
    // Throws std::invalid_argument if `endpoints` is empty.
    EtcdClient(boost::asio::any_io_executor executor, std::vector<EtcdEndpoint> endpoints,
               EtcdOptions options = {});
    EtcdClient(EtcdClient&&) noexcept = default;
    EtcdClient& operator=(EtcdClient&&) noexcept = default;
    EtcdClient(const EtcdClient&) = delete;
    EtcdClient& operator=(const EtcdClient&) = delete;
    ~EtcdClient();

    // Operations below throw EtcdUnavailable when no endpoint answers and
    // EtcdError when etcd rejects the request or answers nonsense.

    // Returns the revision of the write.
    boost::asio::awaitable<std::int64_t> put(std::string key, std::string value,
                                             std::int64_t lease = 0);
    boost::asio::awaitable<std::optional<KeyValue>> get(std::string key);
    // Every key starting with `prefix` (every key if `prefix` is empty).
    boost::asio::awaitable<RangeResult> range_prefix(std::string prefix);
    // Return how many keys were deleted.
    boost::asio::awaitable<std::int64_t> del(std::string key);
    boost::asio::awaitable<std::int64_t> del_prefix(std::string prefix);

    // Writes `key` if it does not exist; false if it does.
    boost::asio::awaitable<bool> create_if_absent(std::string key, std::string value,
                                                  std::int64_t lease = 0);
    // Writes `key` if its mod_revision is `expected_mod_revision` (0: the key
    // does not exist); false otherwise. The lease of the key is dropped.
    boost::asio::awaitable<bool>
    compare_and_swap(std::string key, std::int64_t expected_mod_revision, std::string value);
    // Deletes `key` if its mod_revision is `expected_mod_revision`; false
    // if the key changed or does not exist.
    boost::asio::awaitable<bool> delete_if_unchanged(std::string key,
                                                     std::int64_t expected_mod_revision);

    // Returns the new lease's id.
    boost::asio::awaitable<std::int64_t> lease_grant(std::int64_t ttl_seconds);
    // Renews the lease; returns its TTL in seconds, 0 if it has expired.
    boost::asio::awaitable<std::int64_t> lease_keepalive(std::int64_t id);
    // Throws EtcdError with grpc_code 5 (not found) for an unknown lease.
    boost::asio::awaitable<void> lease_revoke(std::int64_t id);

    // Watches every key starting with `prefix` from `start_revision` (0: from
    // now on). Returns at once; `callback` runs on the client's executor. A
    // broken stream is resumed on another endpoint from the revision after
    // the last one delivered, so no event is lost or repeated; while no
    // endpoint answers the watch keeps trying. The watch may outlive the
    // client.
    EtcdWatch watch_prefix(std::string prefix, std::int64_t start_revision, WatchCallback callback);

    const std::vector<EtcdEndpoint>& endpoints() const noexcept;

private:
    std::shared_ptr<detail::EtcdState> state_;
};

} // namespace weft
