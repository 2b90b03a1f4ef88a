// weftd's datastore: cluster membership. A node joins the cluster (publishes
// itself and obtains its pod blocks), watches the other nodes to reconcile
// its routes and tunnels, and leaves when it is decommissioned.
//
// Two backends implement the interface: EmbeddedDatastore (below, over the
// local SQLite state, for a single node) and EtcdDatastore
// (etcd_datastore.hpp, for clusters).
//
// A datastore runs on the caller's event loop and is not thread-safe: use it
// from the thread (or strand) that runs its executor. One join() or leave()
// at a time.
#pragma once

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "model.hpp"
#include "state.hpp"

namespace weft {

// The cluster's pod address space and how it is cut into node blocks. At
// least one family must be set. Each node gets one block of each family set.
struct ClusterConfig {
    std::optional<Prefix> cidr4;  // e.g. 10.244.0.0/16
    std::optional<Prefix> cidr6;  // e.g. fd00:244::/48
    std::uint8_t block_len4 = 24; // 10.244.N.0/24
    std::uint8_t block_len6 = 64; // fd00:244:0:N::/64
};

// Throws std::invalid_argument naming what is wrong: no family, a CIDR of
// the wrong family or with host bits set, a block longer than the family's
// addresses or shorter than its CIDR.
void validate(const ClusterConfig& cluster);

// One address family of a ClusterConfig, as the allocators walk them.
struct BlockFamily {
    const char* name;                       // "v4" or "v6"
    Prefix cidr;                            // the cluster CIDR of that family
    std::uint8_t block_len;                 // the length of a node block
    std::optional<Prefix> NodeSpec::*field; // where a node keeps its block
};
// The families set in `cluster`, v4 first.
std::vector<BlockFamily> block_families(const ClusterConfig& cluster);

// How many blocks of `block_len` fit into `cidr` (saturating at 2^64 - 1).
std::uint64_t block_count(const Prefix& cidr, std::uint8_t block_len);
// The index-th block of `cidr` (index < block_count()), in address order.
Prefix nth_block(const Prefix& cidr, std::uint8_t block_len, std::uint64_t index);
// Whether `block` is one of the blocks `cidr` is cut into.
bool is_block_of(const Prefix& block, const Prefix& cidr, std::uint8_t block_len);
// The first block of `family` whose text form is not in `taken`, if any.
std::optional<Prefix> first_free_block(const BlockFamily& family,
                                       const std::set<std::string>& taken);

// join() found every block of a cluster CIDR owned by other nodes. what()
// reads like
//   no free /31 block left in 10.244.0.0/30 for node "c" (2 blocks, all owned)
class BlocksExhausted : public std::runtime_error {
public:
    BlocksExhausted(const BlockFamily& family, const std::string& node);
};

// A node as the datastores store it: JSON with the fields "addr", "encap",
// "vtep_mac", "block4" and "block6" (absent optional fields are left out);
// the name is not part of it (it is the record's key).
std::string node_to_json(const NodeSpec& node);
// Throws std::invalid_argument saying which field is wrong.
NodeSpec node_from_json(const std::string& name, std::string_view json);
// Between NodeSpec and the state database's text row (state.hpp).
NodeRecord node_to_record(const NodeSpec& node);
NodeSpec node_from_record(const NodeRecord& record); // std::invalid_argument

// A change to the set of nodes.
struct NodeEvent {
    enum class Type { added, updated, removed };
    Type type = Type::added;
    NodeSpec node; // for `removed`, the node as it was last known
};

// What a watch hands its callback.
struct NodeUpdate {
    // The whole set of nodes after this update, sorted by name.
    std::vector<NodeSpec> nodes;
    // What changed since the callback's previous update (on the first
    // update: every node, as added).
    std::vector<NodeEvent> events;
    // Node records that were skipped because they are not valid, each a
    // sentence naming the record (a record that turns invalid counts as
    // removed).
    std::vector<std::string> errors;
};
using NodeCallback = std::function<void(const NodeUpdate&)>;

// For /readyz and STATUS.
struct DatastoreStatus {
    // Joined and in touch with the store.
    bool ok = false;
    // Why not ok: "not joined", "etcd unreachable: ...". Empty when ok.
    std::string reason;
    // The latest invalid record or failed operation; kept after recovery.
    std::string last_error;
};

namespace detail {

// The nodes of a map, in name order.
std::vector<NodeSpec> sorted_nodes(const std::map<std::string, NodeSpec>& nodes);

// The known nodes, the watchers and the status of one datastore. Shared with
// the backend's coroutines, which may outlive the datastore object.
class NodeHub {
public:
    const std::map<std::string, NodeSpec>& nodes() const noexcept { return nodes_; }
    // Replaces the known set, and tells every watcher what changed (if
    // anything did, or if there are errors to report).
    void publish(std::map<std::string, NodeSpec> next, std::vector<std::string> errors = {});

    std::uint64_t subscribe(NodeCallback callback);
    void unsubscribe(std::uint64_t id) noexcept;

    const DatastoreStatus& status() const noexcept { return status_; }
    void set_ok();
    void set_down(std::string reason);
    void note_error(std::string error);

private:
    std::map<std::string, NodeSpec> nodes_;
    std::map<std::uint64_t, NodeCallback> callbacks_;
    std::uint64_t next_id_ = 1;
    DatastoreStatus status_{false, "not joined", ""};
};

} // namespace detail

// A watcher; its callback is not called again once it is destroyed or
// stopped (it may be stopped from inside the callback). Move-only.
class NodeWatch {
public:
    NodeWatch() = default;
    NodeWatch(NodeWatch&& other) noexcept
        : hub_(std::move(other.hub_)), id_(std::exchange(other.id_, 0)) {}
    NodeWatch& operator=(NodeWatch&& other) noexcept;
    NodeWatch(const NodeWatch&) = delete;
    NodeWatch& operator=(const NodeWatch&) = delete;
    ~NodeWatch() { stop(); }

    void stop() noexcept;

private:
    friend class Datastore;
    NodeWatch(std::weak_ptr<detail::NodeHub> hub, std::uint64_t id)
        : hub_(std::move(hub)), id_(id) {}

    std::weak_ptr<detail::NodeHub> hub_;
    std::uint64_t id_ = 0;
};

class Datastore {
public:
    Datastore();
    Datastore(const Datastore&) = delete;
    Datastore& operator=(const Datastore&) = delete;
    virtual ~Datastore();

    // Registers this node in the cluster and gives it one block of each
    // family of `cluster`: the block that `self` names if it is still free or
    // its own, else the one the store remembers for this node (a restart),
    // else the first free one. Returns `self` with its blocks set. Throws
    // BlocksExhausted, std::invalid_argument for a bad `cluster` or name.
    virtual boost::asio::awaitable<NodeSpec> join(NodeSpec self, ClusterConfig cluster) = 0;
    // Removes this node's registration and releases its blocks (for a node
    // being decommissioned; a node that merely stops keeps its blocks).
    virtual boost::asio::awaitable<void> leave() = 0;
    // The nodes as the store holds them now (invalid records left out).
    virtual boost::asio::awaitable<std::vector<NodeSpec>> nodes() = 0;

    // Calls `callback` at once with the nodes known now, then whenever they
    // change. The known nodes stay as they were while the store is
    // unreachable.
    [[nodiscard]] NodeWatch watch(NodeCallback callback);
    // The nodes known now, sorted by name.
    std::vector<NodeSpec> known_nodes() const;
    DatastoreStatus status() const { return hub_->status(); }

protected:
    const std::shared_ptr<detail::NodeHub>& hub() const noexcept { return hub_; }

private:
    std::shared_ptr<detail::NodeHub> hub_;
};

// The single-node datastore, over weftd's state database. The node's own
// record (with its blocks) lives in the nodes table, so a restarted weftd
// gets the same blocks back. Every other row of that table is a static node
// that an operator added (add_node()); their blocks are never given to this
// node. Its status is ok once joined.
class EmbeddedDatastore final : public Datastore {
public:
    // `db` must outlive the datastore.
    explicit EmbeddedDatastore(Db& db) : db_(db) {}

    boost::asio::awaitable<NodeSpec> join(NodeSpec self, ClusterConfig cluster) override;
    boost::asio::awaitable<void> leave() override;
    boost::asio::awaitable<std::vector<NodeSpec>> nodes() override;

    // Adds or replaces a static node; removes one (false if there was none).
    void add_node(const NodeSpec& node);
    bool remove_node(const std::string& name);

private:
    // The rows of the nodes table; invalid ones are left out and described
    // in `errors`.
    std::map<std::string, NodeSpec> load(std::vector<std::string>& errors);
    // Tells the watchers about the table's rows.
    void refresh();

    Db& db_;
    std::optional<std::string> self_;
};

} // namespace weft
