// weftd's agent: joins the cluster through a datastore, keeps weft.ko's
// nodes, routes and endpoints equal to what the cluster says, and serves
// weft-cni (the local API) and the health and metrics endpoints. Everything
// runs on one Asio event loop.
#pragma once

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "api.hpp"
#include "config.hpp"
#include "datastore.hpp"
#include "http_server.hpp"
#include "ipam.hpp"
#include "kernel.hpp"
#include "metrics.hpp"
#include "reconcile.hpp"
#include "state.hpp"

namespace weft {

class Client;
class Nat;

class Agent {
public:
    Agent(boost::asio::io_context& io, Config config);
    ~Agent();
    Agent(const Agent&) = delete;
    Agent& operator=(const Agent&) = delete;

    // Sets the weft device up, starts the API and HTTP servers, joins the
    // cluster and reconciles until stop(). Throws on a setup failure (no
    // weft device, state directory unusable, socket in use).
    boost::asio::awaitable<void> run();
    // Ends run(): the servers stop, the node stays registered (a restart
    // takes its place again; leaving is for a node being removed).
    void stop();

    // The answer to one local API operation (the ApiServer's handler).
    nlohmann::json handle(const std::string& op, const nlohmann::json& request);

private:
    // A pod interface weftd registered in weft.ko.
    struct Endpoint {
        std::string host_ifname;
        std::vector<IpAddr> addrs;
    };

    void setup_device();
    void setup_host();
    void setup_metrics();
    std::vector<ReconcileError> sync_host();
    boost::asio::awaitable<void> reconcile_loop();
    void reconcile_now();
    void wake();
    Desired desired() const;
    void load_endpoints();
    void forget_endpoint(const AttachmentKey& key);
    // The node's health comes down to three conditions, each with why it
    // fails. readiness() (/readyz), require_joined() (every API operation
    // but status) and the API's status answer are views of this one check.
    struct Condition {
        bool ok = true;
        std::string reason; // why not ok
    };
    struct Conditions {
        Condition joined;    // joined the cluster and holding its pod blocks
        Condition datastore; // the datastore answers
        Condition kernel;    // the last pass left weft.ko fully programmed

        // The first failing condition, as /readyz and status's "reason" say
        // it.
        Readiness readiness() const;
    };
    Conditions conditions() const;
    void require_joined() const;
    Readiness readiness() const;

    boost::asio::io_context& io_;
    Config config_;
    std::unique_ptr<Db> db_;
    std::unique_ptr<Client> client_;
    std::unique_ptr<KernelTables> kernel_;
    std::unique_ptr<Nat> nat_;
    std::unique_ptr<Datastore> store_;
    std::unique_ptr<Ipam> ipam_;
    std::unique_ptr<ApiServer> api_;
    std::unique_ptr<HttpServer> http_;
    MetricsRegistry metrics_;
    NodeWatch watch_;
    boost::asio::steady_timer wake_timer_;
    boost::asio::steady_timer batch_timer_;
    std::chrono::steady_clock::time_point last_pass_end_{};
    static constexpr std::chrono::milliseconds min_pass_gap{100};
    std::map<AttachmentKey, Endpoint> endpoints_;
    std::optional<Mac> vtep_mac_;
    std::optional<NodeSpec> self_;
    std::optional<ReconcileResult> last_;
    bool dirty_ = true;
    // sync_host() is due on the next pass; its errors count until it runs
    // again.
    bool host_due_ = false;
    std::vector<ReconcileError> host_errors_;
    bool stopping_ = false;

    Histogram* reconcile_seconds_ = nullptr;
    Counter* reconcile_errors_ = nullptr;
    Counter* reconcile_writes_ = nullptr;
};

} // namespace weft
