// weftd-scale: the driver of the weftd scale benchmark (bench/weftd-scale.sh).
//
// It plays the rest of a large cluster against one real weftd: it writes
// simulated node registrations into etcd exactly as weftd's etcd datastore
// stores them (a block claim under blocks/v4/, then the node record under
// nodes/ on a lease) and watches weft.ko's route table through libweft to see
// when weftd has programmed each of them.
//
//   weftd-scale load   --nodes N [...] --result FILE [--hold]
//       Writes N nodes in batches (--batch nodes every --interval-ms) while
//       a second thread dumps the device's routes every --poll-ms (or four
//       times the last dump's duration, if longer) and notes when each
//       block's route first appears. Latency = route seen - the
//       moment the node record's put was sent. With --hold it then keeps
//       the leases alive until SIGTERM/SIGINT (the restart measurements
//       need the nodes to stay).
//   weftd-scale resync --http ADDR:PORT --result FILE [...] -- WEFTD ARGS...
//       Reads the cluster's nodes from etcd, then starts WEFTD ARGS...
//       (output to --log, its PID to --pid-file; it keeps running after the
//       driver exits) and measures from that instant when /readyz first
//       answers 200 and when every block of the nodes (all but --self's) is
//       in the route table, then reads weftd's /metrics.
//
// Results are JSON objects. Times are wall-clock seconds.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <exception>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <weft/client.hpp>
#include <weft/error.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "datastore.hpp"
#include "etcd.hpp"
#include "etcd_datastore.hpp"

namespace asio = boost::asio;
namespace po = boost::program_options;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace weft {
namespace {

struct Options {
    std::vector<EtcdEndpoint> endpoints;
    std::string prefix = "/weft/v1/";
    std::string device = "weft0";
    std::size_t nodes = 5000;
    std::size_t batch = 50;
    std::chrono::milliseconds interval{100};
    std::chrono::milliseconds poll{20};
    std::int64_t lease_ttl = 60;
    std::size_t nodes_per_lease = 500;
    Prefix cluster_cidr;
    std::uint8_t block_len = 24;
    std::chrono::seconds timeout{900};
    std::string result;
    bool hold = false;
    // resync
    std::vector<std::string> command;
    std::string log = "/dev/null";
    std::string pid_file;
    std::string http;
    std::string self;
};

double wall_now() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

double seconds(Clock::duration d) {
    return std::chrono::duration<double>(d).count();
}

// The value at quantile q (0..1) of sorted `v`, nearest rank.
double quantile(const std::vector<double>& v, double q) {
    if (v.empty()) {
        return 0;
    }
    auto rank = static_cast<std::size_t>(std::ceil(q * double(v.size())));
    return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

json summary(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    double sum = 0;
    for (double x : v) {
        sum += x;
    }
    return {{"count", v.size()},
            {"p50", quantile(v, 0.50)},
            {"p90", quantile(v, 0.90)},
            {"p99", quantile(v, 0.99)},
            {"max", v.empty() ? 0.0 : v.back()},
            {"mean", v.empty() ? 0.0 : sum / double(v.size())}};
}

void write_result(const std::string& path, const json& j) {
    std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp);
        out << j.dump(2) << '\n';
        if (!out) {
            throw std::runtime_error("cannot write " + tmp);
        }
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        throw std::runtime_error("cannot rename " + tmp + " to " + path);
    }
}

// ---------------------------------------------------------------- HTTP

// A socket closed when it goes out of scope.
class SocketFd {
public:
    explicit SocketFd(int fd) : fd_(fd) {}
    SocketFd(const SocketFd&) = delete;
    SocketFd& operator=(const SocketFd&) = delete;
    ~SocketFd() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    int get() const { return fd_; }

private:
    int fd_;
};

struct HttpAnswer {
    unsigned status = 0; // 0: no answer (refused, timed out)
    std::string body;
};

// GET `path` from weftd's HTTP listener ("127.0.0.1:9603"), HTTP/1.0, with
// a 5 s deadline on each socket operation.
HttpAnswer http_get(const std::string& listen, const std::string& path) {
    auto colon = listen.rfind(':');
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<std::uint16_t>(std::stoul(listen.substr(colon + 1))));
    if (inet_pton(AF_INET, listen.substr(0, colon).c_str(), &sa.sin_addr) != 1) {
        throw std::invalid_argument("--http: " + listen + " is not IPv4:port");
    }
    SocketFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) {
        return {};
    }
    timeval tv{5, 0};
    setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
        return {};
    }
    std::string request = "GET " + path + " HTTP/1.0\r\nHost: weftd\r\n\r\n";
    if (::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size())) {
        return {};
    }
    std::string answer;
    char buf[16384];
    for (;;) {
        ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
        if (n <= 0) {
            break;
        }
        answer.append(buf, std::size_t(n));
    }
    HttpAnswer out;
    if (answer.rfind("HTTP/1.", 0) == 0 && answer.size() > 12) {
        out.status = static_cast<unsigned>(std::stoul(answer.substr(9, 3)));
    }
    auto end = answer.find("\r\n\r\n");
    if (end != std::string::npos) {
        out.body = answer.substr(end + 4);
    }
    return out;
}

// The label-less samples of a Prometheus text page ("name value" lines).
std::map<std::string, double> scrape_metrics(const std::string& listen) {
    std::map<std::string, double> out;
    HttpAnswer a = http_get(listen, "/metrics");
    std::size_t pos = 0;
    while (pos < a.body.size()) {
        auto eol = a.body.find('\n', pos);
        std::string line =
            a.body.substr(pos, eol == std::string::npos ? std::string::npos : eol - pos);
        pos = eol == std::string::npos ? a.body.size() : eol + 1;
        if (line.empty() || line[0] == '#' || line.find('{') != std::string::npos) {
            continue;
        }
        auto space = line.find(' ');
        if (space == std::string::npos) {
            continue;
        }
        try {
            out[line.substr(0, space)] = std::stod(line.substr(space + 1));
        } catch (const std::exception&) {
        }
    }
    return out;
}

json metrics_json(const std::string& listen) {
    json j = json::object();
    if (listen.empty()) {
        return j;
    }
    for (const auto& [name, value] : scrape_metrics(listen)) {
        if (name.rfind("weft_reconcile_", 0) == 0 || name.rfind("weft_kernel_", 0) == 0 ||
            name == "weft_cluster_nodes") {
            j[name] = value;
        }
    }
    return j;
}

// ------------------------------------------------------- the route poller

// Dumps the device's routes every `period` on a thread of its own and notes
// when each prefix of `expected` first appears there.
class RoutePoller {
public:
    RoutePoller(std::string device, std::set<std::string> expected,
                std::chrono::milliseconds period)
        : device_(std::move(device)), expected_(std::move(expected)), period_(period),
          thread_([this](std::stop_token stop) { run(stop); }) {}
    RoutePoller(const RoutePoller&) = delete;
    RoutePoller& operator=(const RoutePoller&) = delete;
    ~RoutePoller() { stop(); }

    void stop() {
        thread_.request_stop();
        if (thread_.joinable()) {
            thread_.join();
        }
    }
    bool complete() const { return complete_.load(); }

    // After stop(): when each expected prefix was first seen.
    const std::map<std::string, Clock::time_point>& seen() const { return seen_; }
    std::optional<Clock::time_point> complete_at() const { return complete_at_; }
    std::size_t dumps() const { return dumps_; }
    std::size_t failed_dumps() const { return failed_dumps_; }
    std::size_t routes_in_last_dump() const { return last_count_; }
    const std::string& last_error() const { return last_error_; }
    double dump_seconds_max() const { return dump_max_; }

private:
    void run(std::stop_token stop) {
        Client client = Client::connect();
        DevRef dev = DevRef::by_name(device_);
        auto next = Clock::now();
        while (!stop.stop_requested()) {
            auto start = Clock::now();
            try {
                std::vector<Route> routes = client.route_dump(dev);
                auto now = Clock::now();
                ++dumps_;
                dump_max_ = std::max(dump_max_, seconds(now - start));
                last_count_ = routes.size();
                for (const Route& route : routes) {
                    std::string key = to_string(route.prefix);
                    if (expected_.contains(key)) {
                        seen_.try_emplace(std::move(key), now);
                    }
                }
                if (!complete_at_ && seen_.size() == expected_.size()) {
                    complete_at_ = now;
                    complete_.store(true);
                }
            } catch (const Error& e) {
                // An interrupted dump (EAGAIN) or the device being
                // re-created: try again at the next tick.
                ++failed_dumps_;
                last_error_ = e.what();
                if (e.errnum() == ENODEV) {
                    dev = DevRef::by_name(device_);
                }
            }
            // A dump of thousands of routes is not free: wait at least four
            // times as long as it took, so that the poller never takes more
            // than a fifth of a CPU from weftd and etcd.
            auto now = Clock::now();
            next = std::max(next + period_, now + 4 * (now - start));
            std::this_thread::sleep_until(next);
        }
    }

    std::string device_;
    std::set<std::string> expected_;
    std::chrono::milliseconds period_;
    // Written by the thread only; read after stop() (join orders it).
    std::map<std::string, Clock::time_point> seen_;
    std::optional<Clock::time_point> complete_at_;
    std::size_t dumps_ = 0;
    std::size_t failed_dumps_ = 0;
    std::size_t last_count_ = 0;
    double dump_max_ = 0;
    std::string last_error_;
    std::atomic<bool> complete_{false};
    std::jthread thread_; // last: starts after everything above exists
};

// ---------------------------------------------------------------- load

struct SimNode {
    NodeSpec spec;
    std::int64_t lease = 0;
    Clock::time_point sent{};  // the node record's put sent
    Clock::time_point acked{}; // and answered
};

NodeSpec sim_node(std::size_t i, const Prefix& block) {
    NodeSpec n;
    n.name = "sim-" + std::to_string(100000 + i).substr(1); // sim-00000
    // Underlay addresses from 100.64.0.0/10, VTEP MACs 02:5c:00:xx:xx:xx.
    std::uint32_t a = 0x64400000u + std::uint32_t(i) + 1;
    n.addr =
        Ipv4{std::uint8_t(a >> 24), std::uint8_t(a >> 16), std::uint8_t(a >> 8), std::uint8_t(a)};
    n.encap = Encap::vxlan;
    n.vtep_mac =
        Mac{0x02, 0x5c, 0x00, std::uint8_t(i >> 16), std::uint8_t(i >> 8), std::uint8_t(i)};
    n.block4 = block;
    return n;
}

asio::awaitable<void> pause(std::chrono::milliseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(asio::use_awaitable);
}

// Keeps `leases` alive every ttl/3 until `stop` is set.
asio::awaitable<void> keep_alive(EtcdClient& etcd, std::vector<std::int64_t> leases,
                                 std::int64_t ttl, const bool& stop, std::string& error) {
    auto period = std::chrono::milliseconds(std::max<std::int64_t>(ttl * 1000 / 3, 500));
    while (!stop) {
        co_await pause(period);
        for (std::int64_t id : leases) {
            if (stop) {
                co_return;
            }
            try {
                if (co_await etcd.lease_keepalive(id) == 0) {
                    error = "lease " + std::to_string(id) + " expired";
                }
            } catch (const std::exception& e) {
                error = std::string("keepalive: ") + e.what();
            }
        }
    }
}

// Claims the node's block and publishes its record, as weftd's join does.
asio::awaitable<void> register_node(EtcdClient& etcd, const Options& o, SimNode& node,
                                    std::size_t& pending, asio::steady_timer& done,
                                    std::vector<std::string>& errors) {
    try {
        if (!co_await etcd.create_if_absent(etcd_block_key(o.prefix, *node.spec.block4),
                                            node.spec.name)) {
            errors.push_back(node.spec.name + ": block " + to_string(*node.spec.block4) +
                             " already taken");
        }
        node.sent = Clock::now();
        co_await etcd.put(o.prefix + "nodes/" + node.spec.name, node_to_json(node.spec),
                          node.lease);
        node.acked = Clock::now();
    } catch (const std::exception& e) {
        errors.push_back(node.spec.name + ": " + e.what());
    }
    if (--pending == 0) {
        done.cancel();
    }
}

asio::awaitable<void> run_load(const Options& o, json& result) {
    auto ex = co_await asio::this_coro::executor;
    EtcdOptions eo;
    eo.request_timeout = std::chrono::milliseconds(10000);
    eo.rounds = 3;
    EtcdClient etcd(ex, o.endpoints, eo);

    // Blocks and names already in the cluster (weftd's own) are skipped.
    const std::string blocks_dir = o.prefix + "blocks/v4/";
    std::set<std::string> taken;
    for (const KeyValue& kv : (co_await etcd.range_prefix(blocks_dir)).kvs) {
        std::string text = kv.key.substr(blocks_dir.size());
        std::replace(text.begin(), text.end(), '_', '/');
        taken.insert(text);
    }
    std::vector<SimNode> nodes;
    std::uint64_t count = block_count(o.cluster_cidr, o.block_len);
    for (std::uint64_t b = 0; b < count && nodes.size() < o.nodes; ++b) {
        Prefix block = nth_block(o.cluster_cidr, o.block_len, b);
        if (!taken.contains(to_string(block))) {
            nodes.push_back({sim_node(nodes.size(), block)});
        }
    }
    if (nodes.size() < o.nodes) {
        throw std::runtime_error("--cluster-cidr " + to_string(o.cluster_cidr) + " has only " +
                                 std::to_string(nodes.size()) + " free /" +
                                 std::to_string(o.block_len) + " blocks");
    }
    std::vector<std::int64_t> leases;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        if (i % o.nodes_per_lease == 0) {
            leases.push_back(co_await etcd.lease_grant(o.lease_ttl));
        }
        nodes[i].lease = leases.back();
    }
    bool stop_keepalive = false;
    std::string keepalive_error;
    asio::co_spawn(ex, keep_alive(etcd, leases, o.lease_ttl, stop_keepalive, keepalive_error),
                   asio::detached);

    std::set<std::string> expected;
    for (const SimNode& n : nodes) {
        expected.insert(to_string(*n.spec.block4));
    }
    RoutePoller poller(o.device, expected, o.poll);

    std::vector<std::string> errors;
    const auto start = Clock::now();
    const double start_wall = wall_now();
    std::size_t late_batches = 0;
    for (std::size_t first = 0; first < nodes.size(); first += o.batch) {
        auto due = start + o.interval * (first / o.batch);
        if (Clock::now() > due + o.interval) {
            ++late_batches; // the previous batch took longer than the interval
        }
        asio::steady_timer pace(ex, due);
        co_await pace.async_wait(asio::use_awaitable);
        std::size_t last = std::min(first + o.batch, nodes.size());
        std::size_t pending = last - first;
        asio::steady_timer done(ex, Clock::time_point::max());
        for (std::size_t i = first; i < last; ++i) {
            asio::co_spawn(ex, register_node(etcd, o, nodes[i], pending, done, errors),
                           asio::detached);
        }
        boost::system::error_code ec;
        co_await done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    const auto written = Clock::now();

    const auto deadline = start + o.timeout;
    while (!poller.complete() && Clock::now() < deadline) {
        co_await pause(std::chrono::milliseconds(50));
    }
    poller.stop();

    std::vector<double> latency, put_time;
    std::size_t missing = 0, early = 0;
    for (const SimNode& n : nodes) {
        if (n.acked == Clock::time_point{}) {
            continue;
        }
        put_time.push_back(seconds(n.acked - n.sent));
        auto it = poller.seen().find(to_string(*n.spec.block4));
        if (it == poller.seen().end()) {
            ++missing;
        } else if (it->second < n.sent) {
            ++early; // cannot happen on a fresh cluster
        } else {
            latency.push_back(seconds(it->second - n.sent));
        }
    }
    result = {
        {"nodes", nodes.size()},
        {"batch", o.batch},
        {"interval_ms", o.interval.count()},
        {"poll_ms", o.poll.count()},
        {"leases", leases.size()},
        {"start_epoch", start_wall},
        {"write_seconds", seconds(written - start)},
        {"late_batches", late_batches},
        {"latency_seconds", summary(latency)},
        {"put_seconds", summary(put_time)},
        {"all_present_seconds",
         poller.complete_at() ? json(seconds(*poller.complete_at() - start)) : json(nullptr)},
        {"missing_routes", missing},
        {"seen_before_write", early},
        {"route_dumps", poller.dumps()},
        {"route_dump_mean_interval_seconds",
         poller.dumps() ? seconds(Clock::now() - start) / double(poller.dumps()) : 0.0},
        {"route_dumps_failed", poller.failed_dumps()},
        {"route_dump_seconds_max", poller.dump_seconds_max()},
        {"routes_in_kernel", poller.routes_in_last_dump()},
        {"errors", json(std::vector<std::string>(
                       errors.begin(), errors.begin() + std::min<std::size_t>(errors.size(), 10)))},
        {"error_count", errors.size()},
        {"metrics", metrics_json(o.http)},
    };
    if (!poller.last_error().empty()) {
        result["last_dump_error"] = poller.last_error();
    }
    write_result(o.result, result);
    std::cerr << "weftd-scale: load done: " << result.dump() << '\n';

    if (o.hold) {
        asio::signal_set signals(ex, SIGTERM, SIGINT);
        co_await signals.async_wait(asio::use_awaitable);
        if (!keepalive_error.empty()) {
            std::cerr << "weftd-scale: " << keepalive_error << '\n';
        }
    }
    stop_keepalive = true;
}

// --------------------------------------------------------------- resync

asio::awaitable<std::set<std::string>> cluster_blocks(const Options& o) {
    auto ex = co_await asio::this_coro::executor;
    // Thousands of records in one answer: more than the default deadline.
    EtcdOptions eo;
    eo.request_timeout = std::chrono::milliseconds(30000);
    EtcdClient etcd(ex, o.endpoints, eo);
    const std::string dir = o.prefix + "nodes/";
    std::set<std::string> blocks;
    for (const KeyValue& kv : (co_await etcd.range_prefix(dir)).kvs) {
        NodeSpec n = node_from_json(kv.key.substr(dir.size()), kv.value);
        if (n.name != o.self && n.block4) {
            blocks.insert(to_string(*n.block4));
        }
    }
    co_return blocks;
}

// Starts `command` with stdin /dev/null and stdout, stderr appended to `log`;
// returns its PID.
pid_t spawn(const std::vector<std::string>& command, const std::string& log) {
    std::vector<char*> argv;
    for (const std::string& arg : command) {
        argv.push_back(const_cast<char*>(arg.c_str()));
    }
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    pid_t pid = 0;
    int err = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (err != 0) {
        throw std::system_error(err, std::generic_category(), "starting " + command[0]);
    }
    return pid;
}

json run_resync(const Options& o, const std::set<std::string>& expected) {
    RoutePoller poller(o.device, expected, o.poll);
    const auto since = Clock::now();
    pid_t pid = spawn(o.command, o.log);
    if (!o.pid_file.empty()) {
        std::ofstream(o.pid_file) << pid << '\n';
    }
    std::optional<double> ready;
    const auto deadline = since + o.timeout;
    while (Clock::now() < deadline) {
        if (!ready && http_get(o.http, "/readyz").status == 200) {
            ready = seconds(Clock::now() - since);
        }
        if (ready && poller.complete()) {
            break;
        }
        std::this_thread::sleep_for(o.poll);
    }
    poller.stop();
    return {
        {"pid", pid},
        {"expected_routes", expected.size()},
        {"ready_seconds", ready ? json(*ready) : json(nullptr)},
        {"all_present_seconds",
         poller.complete_at() ? json(seconds(*poller.complete_at() - since)) : json(nullptr)},
        {"routes_seen", poller.seen().size()},
        {"routes_in_kernel", poller.routes_in_last_dump()},
        {"route_dumps", poller.dumps()},
        {"metrics", metrics_json(o.http)},
    };
}

// ---------------------------------------------------------------- main

std::vector<EtcdEndpoint> parse_endpoints(const std::string& text) {
    std::vector<EtcdEndpoint> out;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        auto comma = text.find(',', pos);
        std::string one = text.substr(pos, comma == std::string::npos ? comma : comma - pos);
        auto colon = one.rfind(':');
        if (colon == std::string::npos) {
            throw std::invalid_argument("--endpoints: " + one + " is not host:port");
        }
        out.push_back(
            {one.substr(0, colon), static_cast<std::uint16_t>(std::stoul(one.substr(colon + 1)))});
        if (comma == std::string::npos) {
            break;
        }
        pos = comma + 1;
    }
    return out;
}

int run(int argc, char** argv) {
    Options o;
    std::string mode, endpoints, cidr;
    long interval_ms = 100, poll_ms = 20, timeout_s = 900;
    unsigned block_len = 24;
    po::options_description desc("weftd-scale load|resync [options]");
    desc.add_options()("help,h", "this text")(
        "endpoints", po::value(&endpoints)->default_value("127.0.0.1:2379"), "etcd host:port,...")(
        "prefix", po::value(&o.prefix)->default_value(o.prefix), "weftd's --etcd-prefix")(
        "device", po::value(&o.device)->default_value(o.device), "the weft device weftd programs")(
        "nodes", po::value(&o.nodes)->default_value(o.nodes), "load: simulated nodes")(
        "batch", po::value(&o.batch)->default_value(o.batch), "load: nodes per batch")(
        "interval-ms", po::value(&interval_ms)->default_value(interval_ms),
        "load: between two batches")("poll-ms", po::value(&poll_ms)->default_value(poll_ms),
                                     "route dump period")(
        "lease-ttl", po::value(&o.lease_ttl)->default_value(o.lease_ttl), "load: seconds")(
        "nodes-per-lease", po::value(&o.nodes_per_lease)->default_value(o.nodes_per_lease),
        "load: nodes sharing one lease")(
        "cluster-cidr", po::value(&cidr)->default_value("10.0.0.0/8"), "weftd's --cluster-cidr")(
        "block-len", po::value(&block_len)->default_value(block_len), "weftd's --block-len")(
        "timeout", po::value(&timeout_s)->default_value(timeout_s),
        "seconds to wait for the routes")("result", po::value(&o.result), "JSON result file")(
        "hold", po::bool_switch(&o.hold), "load: keep the leases alive until SIGTERM")(
        "log", po::value(&o.log)->default_value(o.log), "resync: weftd's output (appended)")(
        "pid-file", po::value(&o.pid_file), "resync: where weftd's PID goes")(
        "http", po::value(&o.http), "weftd's --http-listen (IPv4)")(
        "self", po::value(&o.self)->default_value("bench-self"),
        "resync: weftd's node name")("mode", po::value(&mode), "load or resync");
    po::positional_options_description pos;
    pos.add("mode", 1);
    // Everything after "--" is weftd's command line, not ours.
    std::vector<std::string> args(argv + 1, argv + argc);
    if (auto dashes = std::find(args.begin(), args.end(), "--"); dashes != args.end()) {
        o.command.assign(dashes + 1, args.end());
        args.erase(dashes, args.end());
    }
    po::variables_map vm;
    po::store(po::command_line_parser(args).options(desc).positional(pos).run(), vm);
    po::notify(vm);
    if (vm.count("help") || (mode != "load" && mode != "resync") || o.result.empty()) {
        std::cerr << desc << '\n';
        return vm.count("help") ? 0 : 2;
    }
    o.endpoints = parse_endpoints(endpoints);
    o.interval = std::chrono::milliseconds(interval_ms);
    o.poll = std::chrono::milliseconds(poll_ms);
    o.timeout = std::chrono::seconds(timeout_s);
    o.block_len = static_cast<std::uint8_t>(block_len);
    auto parsed = parse_prefix(cidr);
    if (!parsed || !is_ipv4(parsed->addr) || host_bits_set(*parsed) || o.batch == 0 ||
        o.nodes_per_lease == 0) {
        throw std::invalid_argument("bad --cluster-cidr, --batch or --nodes-per-lease");
    }
    o.cluster_cidr = *parsed;

    asio::io_context io;
    std::exception_ptr failure;
    if (mode == "load") {
        json result;
        // The keepalive coroutine is still waiting: stop everything at once.
        asio::co_spawn(io, run_load(o, result), [&](std::exception_ptr e) {
            failure = e;
            io.stop();
        });
        io.run();
        if (failure) {
            std::rethrow_exception(failure);
        }
        return result["missing_routes"] == 0 && result["error_count"] == 0 ? 0 : 1;
    }
    if (o.http.empty() || o.command.empty()) {
        throw std::invalid_argument("resync needs --http and -- WEFTD ARGS...");
    }
    std::set<std::string> expected;
    asio::co_spawn(io, cluster_blocks(o), [&](std::exception_ptr e, std::set<std::string> b) {
        failure = e;
        expected = std::move(b);
    });
    io.run();
    if (failure) {
        std::rethrow_exception(failure);
    }
    json result = run_resync(o, expected);
    write_result(o.result, result);
    std::cerr << "weftd-scale: resync done: " << result.dump() << '\n';
    return result["all_present_seconds"].is_null() || result["ready_seconds"].is_null() ? 1 : 0;
}

} // namespace
} // namespace weft

int main(int argc, char** argv) {
    try {
        return weft::run(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "weftd-scale: " << e.what() << '\n';
        return 1;
    }
}
