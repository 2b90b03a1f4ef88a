// Programming weft.ko from weftd's desired state: read the device's tables
// back, compare them with what the cluster wants, and write the difference
// only. When the kernel already holds the desired state (weftd restarted,
// nothing changed meanwhile) a pass makes no write at all, so established pod
// traffic is never disturbed.
//
// From the cluster's nodes the reconciler derives, for every node but the
// local one, a weft node (its underlay address, the encapsulation the pair
// uses (pair_encap of the two nodes' own) and its VTEP MAC)
// and one route per pod block of that node (block4, block6) leading to it.
// The local node is recognised by name and skipped: its own block is reached
// through the pods' veths, not through weft0. The local pods are endpoints.
//
// Writes happen in an order that never leaves a route without its node, and
// never interrupts traffic that keeps its path:
//   1. new nodes are added, changed ones replaced (their routes stay);
//   2. routes that are no longer wanted are removed;
//   3. routes that lead to another node are replaced in place (ROUTE_ADD
//      with replace, not a delete and an add), then new routes are added,
//      each batch in bulk requests;
//   4. nodes that are no longer wanted are removed (after their routes);
//   5. endpoints: the unwanted ones are removed, then the changed ones
//      replaced, then the new ones added (so an address that moves from a
//      removed pod to a new one is free when the new one is added).
//
// A failed write does not stop the others: it is reported in
// ReconcileResult::errors and the next pass retries it. Desired objects that
// are invalid or conflict (two nodes claiming one block or one address, two
// pods claiming one interface or address) are reported too and not
// programmed; whatever the kernel holds for them is left as it is, neither
// changed nor removed, until the conflict is resolved. Everything else the
// kernel holds on the device and the desired state lacks is removed; other
// weft devices are never looked at.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <weft/addr.hpp>

#include "kernel.hpp"
#include "model.hpp"

namespace weft {

// A local pod: its host-side interface and its addresses.
struct EndpointSpec {
    std::uint32_t host_ifindex = 0;
    std::vector<IpAddr> addrs;             // in any order; 1..WEFT_ENDPOINT_MAX_ADDRS
    std::optional<std::uint32_t> identity; // none: the kernel's default, 0

    bool operator==(const EndpointSpec&) const = default;
};

// What weft.ko should hold. `nodes` may include the local node (see
// reconcile()).
struct Desired {
    std::vector<NodeSpec> nodes;
    std::vector<EndpointSpec> endpoints;
};

// The successful writes of one table in a pass, by kind.
struct TableChanges {
    std::size_t added = 0;
    std::size_t changed = 0; // replaced in place
    std::size_t removed = 0;

    std::size_t total() const { return added + changed + removed; }
    bool operator==(const TableChanges&) const = default;
};

// Something a pass could not do. `object` names it the way the weft CLI
// does ("node 192.0.2.7 (worker-3)", "route 10.244.3.0/24", "endpoint 12",
// the number being the host interface index); `errnum` is the kernel's
// errno for a failed write or dump, EINVAL for an invalid desired object and
// EEXIST for a conflict; `message` says what went wrong.
struct ReconcileError {
    std::string object;
    int errnum = 0;
    std::string message;
};

struct ReconcileResult {
    TableChanges nodes;
    TableChanges routes;
    TableChanges endpoints;
    std::vector<ReconcileError> errors;
    // How many objects each table held when the pass read it; none when
    // its dump failed. See held().
    std::optional<std::size_t> dumped_nodes, dumped_routes, dumped_endpoints;

    // What a table holds after the pass: what it held, plus the additions
    // and minus the removals that took.
    static std::optional<std::size_t> held(std::optional<std::size_t> dumped,
                                           const TableChanges& changes) {
        if (!dumped) {
            return std::nullopt;
        }
        return *dumped + changes.added - changes.removed;
    }

    bool ok() const { return errors.empty(); }
    std::size_t writes() const { return nodes.total() + routes.total() + endpoints.total(); }
};

// One pass: dumps `kernel`'s tables, compares them with `desired` and applies
// the difference as described above. The node named `local_node_name` is
// skipped. Never throws for a kernel failure (a failed dump is reported and
// the tables that depend on it are left alone); only std::bad_alloc escapes.
ReconcileResult reconcile(KernelTables& kernel, const Desired& desired,
                          std::string_view local_node_name);

} // namespace weft
