#include "agent.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <set>
#include <string_view>

#include <net/if.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <weft/client.hpp>
#include <weft/error.hpp>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "etcd_datastore.hpp"
#include "host.hpp"
#include "nat.hpp"

namespace asio = boost::asio;
using nlohmann::json;

namespace weft {

namespace {

constexpr std::string_view not_programmed = "weft.ko not fully programmed: ";

json addr_list(const std::vector<IpAddr>& addrs) {
    json out = json::array();
    for (const auto& a : addrs) {
        out.push_back(to_string(a));
    }
    return out;
}

std::vector<IpAddr> parse_addrs(const json& list) {
    std::vector<IpAddr> out;
    for (const auto& item : list) {
        auto addr = item.is_string() ? parse_ip(item.get<std::string>()) : std::nullopt;
        if (!addr) {
            throw ApiError(api_code::invalid_config,
                           "attach: \"addrs\" holds " + item.dump() + ", not an IP address");
        }
        out.push_back(*addr);
    }
    if (out.empty()) {
        throw ApiError(api_code::invalid_config, "attach: \"addrs\" is empty");
    }
    return out;
}

AttachmentKey key_of(const json& request) {
    return {request.at("container_id").get<std::string>(), request.at("ifname").get<std::string>()};
}

} // namespace

Agent::Agent(asio::io_context& io, Config config)
    : io_(io), config_(std::move(config)), wake_timer_(io), batch_timer_(io) {}

Agent::~Agent() = default;

// The weft device: it must exist (created by 'ip link add NAME type weft' or
// the node's network setup); weftd sets its tunnel settings and brings it
// up.
void Agent::setup_device() {
    if (config_.underlay_dev.empty()) {
        auto dev = default_route_device();
        if (!dev) {
            throw ConfigError("--underlay-dev: not given and there is no default route");
        }
        config_.underlay_dev = *dev;
    }
    unsigned underlay = if_nametoindex(config_.underlay_dev.c_str());
    if (underlay == 0) {
        throw ConfigError("--underlay-dev: no device " + config_.underlay_dev);
    }
    if (!config_.node_addr) {
        config_.node_addr = first_address(config_.underlay_dev, AF_INET);
        if (!config_.node_addr) {
            config_.node_addr = first_address(config_.underlay_dev, AF_INET6);
        }
        if (!config_.node_addr) {
            throw ConfigError("--node-addr: not given and " + config_.underlay_dev +
                              " has no address");
        }
    }

    if (config_.encap == Encap::ipip && !is_ipv4(*config_.node_addr)) {
        throw ConfigError("--encap: ipip needs an IPv4 node address, and " + config_.underlay_dev +
                          "'s is " + to_string(*config_.node_addr));
    }

    if (ensure_weft_device(config_.device)) {
        spdlog::info("created {} (type weft)", config_.device);
    }
    client_ = std::make_unique<Client>(Client::connect());
    kernel_ = std::make_unique<LibweftKernel>(*client_, DevRef::by_name(config_.device));
    DevSetRequest set;
    set.dev = kernel_->dev();
    set.vni = config_.vni;
    set.port = config_.port;
    set.underlay = underlay;
    set.crosssubnet = config_.crosssubnet;
    if (auto* v4 = std::get_if<Ipv4>(&*config_.node_addr)) {
        set.local4 = *v4;
    } else {
        set.local6 = std::get<Ipv6>(*config_.node_addr);
    }
    client_->dev_set(set);
    vtep_mac_ = client_->dev_get(kernel_->dev()).settings.vtep_mac;
    set_interface_up(config_.device);
}

// The host's side of the pod network: the cluster route into the weft device
// and, unless --nat false, the masquerade of pod traffic leaving it.
void Agent::setup_host() {
    if (config_.nat) {
        nat_ = std::make_unique<Nat>();
    } else if (Nat().remove()) {
        spdlog::info("NAT is off: removed weft's nftables tables");
    }
    host_errors_ = sync_host();
}

// The node's own stack reaches the pod network through the weft device, and
// pods reach the outside world through NAT. Both are checked at start-up and
// on every resync (not on the passes datastore events cause: reading the
// routing table and the ruleset is the costly part of a pass), so a route or
// rule deleted behind weftd's back comes back within one resync interval.
std::vector<ReconcileError> Agent::sync_host() {
    std::vector<ReconcileError> errors;
    std::vector<Prefix> cidrs{config_.cluster_cidr4};
    if (config_.cluster_cidr6) {
        cidrs.push_back(*config_.cluster_cidr6);
    }
    for (const auto& cidr : cidrs) {
        try {
            if (ensure_device_route(cidr, config_.device)) {
                spdlog::info("route {} dev {} installed", to_string(cidr), config_.device);
            }
        } catch (const Error& e) {
            errors.push_back({"route " + to_string(cidr), e.errnum(), e.what()});
        }
    }
    if (nat_) {
        try {
            if (nat_->ensure({cidrs, config_.device})) {
                spdlog::info("NAT rules for the pod network written (nftables table weft)");
            }
        } catch (const Error& e) {
            errors.push_back({"nat", e.errnum(), e.what()});
        }
    }
    return errors;
}

void Agent::setup_metrics() {
    reconcile_seconds_ = &metrics_.histogram(
        "weft_reconcile_duration_seconds",
        "Time to bring weft.ko's tables in line with the cluster, per pass", latency_buckets());
    reconcile_errors_ = &metrics_.counter("weft_reconcile_errors_total",
                                          "Kernel writes that failed (retried on the next pass)");
    reconcile_writes_ = &metrics_.counter("weft_reconcile_writes_total",
                                          "Kernel objects added, changed or removed");
    metrics_.gauge_callback("weft_cluster_nodes",
                            "Nodes of the cluster this node knows, itself included",
                            [this] { return double(store_ ? store_->known_nodes().size() : 0); });
    metrics_.gauge_callback("weft_endpoints", "Pod interfaces registered in weft.ko",
                            [this] { return double(endpoints_.size()); });
    metrics_.gauge_callback("weft_datastore_up", "1 while the datastore answers, else 0",
                            [this] { return store_ && store_->status().ok ? 1.0 : 0.0; });
    // The sizes of weft.ko's tables on the device, as the last pass left
    // them (NaN until a pass has read them).
    auto held = [this](auto dumped, auto changes) {
        return [this, dumped, changes] {
            if (!last_) {
                return std::nan("");
            }
            auto n = ReconcileResult::held((*last_).*dumped, (*last_).*changes);
            return n ? double(*n) : std::nan("");
        };
    };
    metrics_.gauge_callback("weft_kernel_nodes", "Nodes in weft.ko's table of the weft device",
                            held(&ReconcileResult::dumped_nodes, &ReconcileResult::nodes));
    metrics_.gauge_callback("weft_kernel_routes", "Routes in weft.ko's table of the weft device",
                            held(&ReconcileResult::dumped_routes, &ReconcileResult::routes));
    metrics_.gauge_callback("weft_kernel_endpoints",
                            "Endpoints in weft.ko's table of the weft device",
                            held(&ReconcileResult::dumped_endpoints, &ReconcileResult::endpoints));
    metrics_.gauge_callback("weft_ipam_addresses_in_use", "Pod addresses handed out on this node",
                            [this] { return double(ipam_ ? ipam_->list().size() : 0); });
}

Agent::Conditions Agent::conditions() const {
    Conditions c;
    // run() sets self_ and ipam_ in one step of the event loop: no handler
    // sees the one without the other.
    if (!self_ || !ipam_) {
        c.joined = {false, "not joined to the cluster yet"};
    }
    // Until run() opens the datastore there is nothing to report of it (and
    // the node has not joined).
    if (store_) {
        auto status = store_->status();
        if (!status.ok) {
            c.datastore = {false, status.reason};
        }
    }
    if (last_ && !last_->ok()) {
        c.kernel = {false, last_->errors.front().message};
    }
    return c;
}

Readiness Agent::Conditions::readiness() const {
    if (!joined.ok) {
        return {false, joined.reason};
    }
    if (!datastore.ok) {
        return {false, "datastore: " + datastore.reason};
    }
    if (!kernel.ok) {
        return {false, std::string(not_programmed) + kernel.reason};
    }
    return {true, ""};
}

Readiness Agent::readiness() const {
    return conditions().readiness();
}

asio::awaitable<void> Agent::run() {
    namespace fs = std::filesystem;
    fs::create_directories(config_.state_dir);
    ::chmod(config_.state_dir.c_str(), 0700);
    db_ = std::make_unique<Db>(config_.state_dir + "/state.db");
    load_endpoints();
    setup_device();
    setup_host();
    setup_metrics();

    api_ = std::make_unique<ApiServer>(
        io_.get_executor(), config_.socket_path,
        [this](const std::string& op, const json& request) { return handle(op, request); });
    HttpServerOptions http;
    http.address = config_.http_listen.host;
    http.port = config_.http_listen.port;
    http_ = std::make_unique<HttpServer>(
        io_.get_executor(), http, metrics_, [this] { return readiness(); },
        [](std::string_view line) { spdlog::warn("http: {}", line); });
    http_->start();

    if (config_.datastore == DatastoreKind::etcd) {
        EtcdDatastoreOptions options;
        options.prefix = config_.etcd_prefix;
        options.lease_ttl = config_.lease_ttl;
        store_ =
            std::make_unique<EtcdDatastore>(io_.get_executor(), config_.etcd_endpoints, options);
    } else {
        store_ = std::make_unique<EmbeddedDatastore>(*db_);
    }
    NodeSpec self;
    self.name = config_.node_name;
    self.addr = *config_.node_addr;
    self.encap = config_.encap;
    self.vtep_mac = vtep_mac_;
    ClusterConfig cluster;
    cluster.cidr4 = config_.cluster_cidr4;
    cluster.cidr6 = config_.cluster_cidr6;
    cluster.block_len4 = static_cast<std::uint8_t>(config_.block_len4);
    cluster.block_len6 = static_cast<std::uint8_t>(config_.block_len6);
    spdlog::info("joining the cluster as {} ({}, {})", self.name, to_string(self.addr),
                 to_string(self.encap));
    NodeSpec joined = co_await store_->join(self, cluster);
    if (stopping_) {
        co_return;
    }
    self_ = joined;
    std::vector<Prefix> blocks;
    for (const auto& block : {joined.block4, joined.block6}) {
        if (block) {
            blocks.push_back(*block);
            spdlog::info("pod block {}", to_string(*block));
        }
    }
    ipam_ = std::make_unique<Ipam>(*db_, blocks, config_.ipam_cooldown.count());
    watch_ = store_->watch([this](const NodeUpdate& update) {
        for (const auto& e : update.events) {
            spdlog::info("node {} {}", e.node.name,
                         e.type == NodeEvent::Type::added     ? "joined"
                         : e.type == NodeEvent::Type::removed ? "left"
                                                              : "changed");
        }
        for (const auto& error : update.errors) {
            spdlog::warn("datastore: {}", error);
        }
        wake();
    });
    co_await reconcile_loop();
}

void Agent::stop() {
    if (stopping_) {
        return;
    }
    stopping_ = true;
    watch_.stop();
    if (api_) {
        api_->stop();
    }
    if (http_) {
        http_->stop();
    }
    wake_timer_.cancel();
    batch_timer_.cancel();
    // The datastore lives on until the agent is destroyed (a join may be
    // under way); its keepalive and watch end with it, and the node's
    // record stays until its lease runs out or this node starts again.
}

void Agent::wake() {
    dirty_ = true;
    wake_timer_.cancel();
}

asio::awaitable<void> Agent::reconcile_loop() {
    while (!stopping_) {
        if (dirty_) {
            // A pass starts min_pass_gap after the previous one ended: in
            // that time the loop takes in every datastore event that queued
            // up during the pass, so a burst (a cluster starting, thousands
            // of nodes resyncing) becomes a few passes that each apply many
            // events, not one full pass per event.
            auto next = last_pass_end_ + min_pass_gap;
            if (std::chrono::steady_clock::now() < next) {
                batch_timer_.expires_at(next);
                boost::system::error_code ec;
                co_await batch_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
                if (stopping_) {
                    break;
                }
            }
            dirty_ = false;
            reconcile_now();
            last_pass_end_ = std::chrono::steady_clock::now();
        }
        // A failed pass is retried soon; otherwise a full pass every
        // resync interval catches changes made behind weftd's back.
        auto wait = last_ && !last_->ok() ? std::chrono::seconds(1) : config_.resync_interval;
        wake_timer_.expires_after(wait);
        boost::system::error_code ec;
        co_await wake_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (!ec) {
            dirty_ = true; // the resync interval passed (or a retry is due)
            host_due_ = true;
        }
    }
}

Desired Agent::desired() const {
    Desired d;
    d.nodes = store_->known_nodes();
    // The local record decides each pair's encapsulation (pair_encap): it is
    // there even while the datastore has not shown it back yet.
    if (self_ && std::none_of(d.nodes.begin(), d.nodes.end(),
                              [&](const NodeSpec& n) { return n.name == self_->name; })) {
        d.nodes.push_back(*self_);
    }
    for (const auto& [key, ep] : endpoints_) {
        unsigned ifindex = if_nametoindex(ep.host_ifname.c_str());
        if (ifindex == 0) {
            continue; // the pod's veth is gone; release will forget it
        }
        d.endpoints.push_back({ifindex, ep.addrs, std::nullopt});
    }
    return d;
}

void Agent::reconcile_now() {
    auto start = std::chrono::steady_clock::now();
    auto result = reconcile(*kernel_, desired(), config_.node_name);
    if (host_due_) {
        host_errors_ = sync_host();
        host_due_ = false;
    }
    result.errors.insert(result.errors.end(), host_errors_.begin(), host_errors_.end());
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    reconcile_seconds_->observe(took.count());
    reconcile_writes_->inc(double(result.writes()));
    reconcile_errors_->inc(double(result.errors.size()));
    if (result.writes() > 0 || !result.errors.empty()) {
        spdlog::info("reconciled in {:.1f} ms: nodes +{} ~{} -{}, routes +{} ~{} -{}, "
                     "endpoints +{} ~{} -{}, {} errors",
                     took.count() * 1e3, result.nodes.added, result.nodes.changed,
                     result.nodes.removed, result.routes.added, result.routes.changed,
                     result.routes.removed, result.endpoints.added, result.endpoints.changed,
                     result.endpoints.removed, result.errors.size());
    }
    for (const auto& e : result.errors) {
        spdlog::warn("{}: {}", e.object, e.message);
    }
    last_ = std::move(result);
}

// Endpoints live in the state database (table endpoints), so a restarted
// weftd reconciles them like the rest.
void Agent::load_endpoints() {
    for (const auto& rec : db_->list_endpoints()) {
        endpoints_[{rec.container_id, rec.ifname}] = {rec.host_ifname, rec.addrs};
    }
}

void Agent::forget_endpoint(const AttachmentKey& key) {
    auto it = endpoints_.find(key);
    if (it == endpoints_.end()) {
        return;
    }
    unsigned ifindex = if_nametoindex(it->second.host_ifname.c_str());
    endpoints_.erase(it);
    db_->remove_endpoint(key.container_id, key.ifname);
    if (ifindex == 0) {
        return; // gone with its veth: the kernel dropped the endpoint
    }
    try {
        kernel_->endpoint_del(ifindex);
    } catch (const Error& e) {
        if (e.errnum() != ENOENT) {
            throw;
        }
    }
}

void Agent::require_joined() const {
    auto c = conditions();
    if (!c.joined.ok) {
        throw ApiError(api_code::try_again,
                       "weftd has not joined the cluster yet: " + c.readiness().reason);
    }
}

json Agent::handle(const std::string& op, const json& request) {
    if (op == "status") {
        auto c = conditions();
        auto r = c.readiness();
        json out = {{"ready", r.ready}, {"reason", r.reason}, {"node", config_.node_name}};
        if (ipam_) {
            json blocks = json::array();
            for (const auto& b : ipam_->blocks()) {
                blocks.push_back(to_string(b));
            }
            out["blocks"] = blocks;
            out["gateways"] = addr_list(ipam_->gateways());
        }
        // What weft-cni's STATUS reports: whether an ADD can succeed now,
        // and whether pods that exist may be degraded.
        std::string add_reason;
        if (!c.joined.ok) {
            add_reason = "weftd has not joined the cluster yet";
        } else if (if_nametoindex(config_.device.c_str()) == 0) {
            add_reason = "the weft device " + config_.device + " is missing";
        }
        out["can_add"] = add_reason.empty();
        out["can_add_reason"] = add_reason;
        std::string degraded;
        if (!c.datastore.ok) {
            degraded =
                "datastore unreachable, routes to other nodes may be stale: " + c.datastore.reason;
        } else if (!c.kernel.ok) {
            degraded = std::string(not_programmed) + c.kernel.reason;
        }
        out["degraded"] = !degraded.empty();
        out["degraded_reason"] = degraded;
        return out;
    }
    require_joined();
    if (op == "endpoint") {
        // One attachment as weftd holds it and as weft.ko has it, for CHECK.
        auto key = key_of(request);
        auto found = ipam_->find(key.container_id, key.ifname);
        if (!found) {
            throw ApiError(api_code::unknown_container,
                           "weftd knows no attachment " + key.container_id + "/" + key.ifname);
        }
        json out = {{"addrs", addr_list(found->addrs)}, {"kernel", nullptr}};
        auto ep = endpoints_.find(key);
        if (ep == endpoints_.end()) {
            return out;
        }
        out["host_ifname"] = ep->second.host_ifname;
        unsigned ifindex = if_nametoindex(ep->second.host_ifname.c_str());
        if (ifindex == 0) {
            return out;
        }
        try {
            auto info = client_->endpoint_get(kernel_->dev(), EndpointKey{ifindex, std::nullopt});
            out["kernel"] = {{"host_ifindex", info.host_ifindex}, {"addrs", addr_list(info.addrs)}};
        } catch (const Error& e) {
            if (e.errnum() != ENOENT) {
                throw;
            }
        }
        return out;
    }
    if (op == "allocate") {
        auto key = key_of(request);
        auto addrs = ipam_->allocate(key.container_id, key.ifname);
        return {{"addrs", addr_list(addrs)}, {"gateways", addr_list(ipam_->gateways())}};
    }
    if (op == "attach") {
        auto key = key_of(request);
        auto host = request.at("host_ifname").get<std::string>();
        auto addrs = parse_addrs(request.at("addrs"));
        unsigned ifindex = if_nametoindex(host.c_str());
        if (ifindex == 0) {
            throw ApiError(api_code::internal, "attach: no host interface " + host);
        }
        EndpointAddRequest add;
        add.dev = kernel_->dev();
        add.host_ifindex = ifindex;
        add.addrs = addrs;
        add.replace = true;
        kernel_->endpoint_add(add);
        endpoints_[key] = {host, addrs};
        db_->put_endpoint({key.container_id, key.ifname, host, addrs});
        wake(); // a pass confirms the tables (and the metrics of their sizes)
        return json::object();
    }
    if (op == "release") {
        auto key = key_of(request);
        forget_endpoint(key);
        wake();
        return {{"addrs", addr_list(ipam_->release(key.container_id, key.ifname))}};
    }
    if (op == "list") {
        json list = json::array();
        for (const auto& a : ipam_->list()) {
            json item = {{"container_id", a.container_id},
                         {"ifname", a.ifname},
                         {"addrs", addr_list(a.addrs)}};
            auto ep = endpoints_.find({a.container_id, a.ifname});
            if (ep != endpoints_.end()) {
                item["host_ifname"] = ep->second.host_ifname;
            }
            list.push_back(item);
        }
        return {{"attachments", list}};
    }
    // gc
    std::set<AttachmentKey> valid;
    for (const auto& item : request.at("valid")) {
        if (!item.is_object() || !item.contains("container_id") || !item.contains("ifname")) {
            throw ApiError(api_code::invalid_config, "gc: \"valid\" holds " + item.dump() +
                                                         ", not {\"container_id\", \"ifname\"}");
        }
        valid.insert(key_of(item));
    }
    std::vector<AttachmentKey> stale;
    for (const auto& [key, ep] : endpoints_) {
        if (!valid.count(key)) {
            stale.push_back(key);
        }
    }
    for (const auto& key : stale) {
        forget_endpoint(key);
    }
    json released = json::array();
    for (const auto& a : ipam_->gc(valid)) {
        released.push_back({{"container_id", a.container_id},
                            {"ifname", a.ifname},
                            {"addrs", addr_list(a.addrs)}});
    }
    return {{"released", released}};
}

} // namespace weft
