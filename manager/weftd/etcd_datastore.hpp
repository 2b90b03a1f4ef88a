// weftd's cluster datastore on etcd v3.
//
// Keys, under a prefix (default "/weft/v1/"):
//   nodes/<name>               the node's record, JSON (node_to_json()),
//                              attached to the node's lease
//   blocks/v4/<block>          the name of the node owning an IPv4 block,
//   blocks/v6/<block>          <block> being its CIDR with '/' written '_'
//                              ("blocks/v4/10.244.3.0_24")
//
// A block is claimed by creating its key in a transaction that requires the
// key to be absent, so two nodes joining at the same instant never get the
// same block. Blocks are not attached to the lease: a node keeps its blocks
// across a restart or an outage of any length, and only leave() (or an
// operator deleting the key) frees them. The node record is on the lease, so
// a node that stops renewing it (dead, or cut off from etcd) disappears from
// the others' watches once its TTL has passed, and comes back when it renews
// again.
//
// After join() the datastore renews the lease every TTL/3. When the lease has
// expired (etcd unreachable for longer than the TTL) it grants a new one and
// writes the record again. It watches nodes/ and resumes the watch where it
// broke; when the history it needs was compacted it reads nodes/ afresh. While
// etcd is unreachable status() says so and the known nodes stay as they were;
// everything retries with a backoff (capped) and recovers by itself.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "datastore.hpp"
#include "etcd.hpp"

namespace weft {

struct EtcdDatastoreOptions {
    // Every key of the cluster starts with it.
    std::string prefix = "/weft/v1/";
    // The node record's lease.
    std::chrono::seconds lease_ttl{15};
    // The first and the longest wait between two retries of a failed
    // operation (join, renewal, resync); renewals retry at least every TTL/3.
    std::chrono::milliseconds retry_initial{250};
    std::chrono::milliseconds retry_max{5000};
};

// The key of a block: blocks/v4/10.244.3.0_24 under the prefix.
std::string etcd_block_key(const std::string& prefix, const Prefix& block);

class EtcdDatastore final : public Datastore {
public:
    EtcdDatastore(boost::asio::any_io_executor executor, std::vector<EtcdEndpoint> endpoints,
                  EtcdDatastoreOptions options = {}, EtcdOptions etcd_options = {});
    // Stops renewing the lease and watching, without leaving: the record
    // goes away after the TTL, the blocks stay this node's.
    ~EtcdDatastore() override;

    // While etcd is unreachable join() keeps retrying (status() says why);
    // it throws std::system_error (operation_canceled) if the datastore is
    // destroyed meanwhile.
    boost::asio::awaitable<NodeSpec> join(NodeSpec self, ClusterConfig cluster) override;
    // Throws EtcdUnavailable if etcd cannot be reached; leave() can be
    // called again then.
    boost::asio::awaitable<void> leave() override;
    // Throws EtcdUnavailable if etcd cannot be reached (known_nodes() still
    // has the last known nodes then).
    boost::asio::awaitable<std::vector<NodeSpec>> nodes() override;

    // The lease of the node record (0 before join()).
    std::int64_t lease() const noexcept;
    // The member the node watch streams from now, if it is connected.
    std::optional<EtcdEndpoint> watch_endpoint() const;

private:
    struct State;
    std::shared_ptr<State> state_;
};

} // namespace weft
