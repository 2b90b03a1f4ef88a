// FakeWeftd: a test double of weftd for weft-cni's tests. It answers over
// weftd's real API server (api.hpp), so the framing and the request checks
// are weftd's own; only the operations are fakes: addresses come from a
// counter, attach records the host interface (and a fake kernel endpoint),
// and the test can make weftd refuse attach, report that it cannot add pods
// or that pods are degraded, or lose an endpoint from its fake kernel. (The
// real weftd needs weft.ko.)
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "api.hpp"

namespace weft::cni {

class FakeWeftd {
public:
    using json = nlohmann::json;
    using Key = std::pair<std::string, std::string>; // container ID, ifname

    struct Attachment {
        std::vector<std::string> addrs;
        std::string host_ifname; // empty until attach
        bool in_kernel = false;  // the fake kernel's endpoint
    };

    explicit FakeWeftd(std::string socket_path) : work_(io_.get_executor()) {
        server_ = std::make_unique<ApiServer>(
            io_.get_executor(), std::move(socket_path),
            [this](const std::string& op, const json& request) { return handle(op, request); });
        thread_ = std::thread([this] { io_.run(); });
    }
    ~FakeWeftd() {
        boost::asio::post(io_, [this] { server_->stop(); });
        work_.reset();
        thread_.join();
    }
    FakeWeftd(const FakeWeftd&) = delete;
    FakeWeftd& operator=(const FakeWeftd&) = delete;

    // Behaviour switches.
    void refuse_attach(bool on) {
        std::lock_guard lock(mutex_);
        refuse_attach_ = on;
    }
    void cannot_add(std::optional<std::string> reason) {
        std::lock_guard lock(mutex_);
        cannot_add_ = std::move(reason);
    }
    void degraded(std::optional<std::string> reason) {
        std::lock_guard lock(mutex_);
        degraded_ = std::move(reason);
    }
    void drop_kernel_endpoint(const Key& key) {
        std::lock_guard lock(mutex_);
        attachments_.at(key).in_kernel = false;
    }
    void dual_stack(bool on) {
        std::lock_guard lock(mutex_);
        dual_stack_ = on;
    }

    // What weftd was told.
    std::map<Key, Attachment> attachments() {
        std::lock_guard lock(mutex_);
        return attachments_;
    }
    int calls(const std::string& op) {
        std::lock_guard lock(mutex_);
        return calls_[op];
    }
    json last_gc_valid() {
        std::lock_guard lock(mutex_);
        return last_gc_valid_;
    }

private:
    json handle(const std::string& op, const json& request) {
        std::lock_guard lock(mutex_);
        ++calls_[op];
        if (op == "status") {
            bool ready = !cannot_add_ && !degraded_;
            return {{"ready", ready},
                    {"reason", cannot_add_.value_or(degraded_.value_or(""))},
                    {"node", "n1"},
                    {"can_add", !cannot_add_},
                    {"can_add_reason", cannot_add_.value_or("")},
                    {"degraded", bool(degraded_)},
                    {"degraded_reason", degraded_.value_or("")}};
        }
        if (op == "list") {
            json list = json::array();
            for (const auto& [key, a] : attachments_) {
                json item = {
                    {"container_id", key.first}, {"ifname", key.second}, {"addrs", a.addrs}};
                if (!a.host_ifname.empty()) {
                    item["host_ifname"] = a.host_ifname;
                }
                list.push_back(item);
            }
            return {{"attachments", list}};
        }
        if (op == "gc") {
            last_gc_valid_ = request["valid"];
            json released = json::array();
            for (auto it = attachments_.begin(); it != attachments_.end();) {
                bool valid = false;
                for (const auto& v : request["valid"]) {
                    valid = valid || (v["container_id"] == it->first.first &&
                                      v["ifname"] == it->first.second);
                }
                if (valid) {
                    ++it;
                    continue;
                }
                released.push_back({{"container_id", it->first.first},
                                    {"ifname", it->first.second},
                                    {"addrs", it->second.addrs}});
                it = attachments_.erase(it);
            }
            return {{"released", released}};
        }
        Key key{request["container_id"], request["ifname"]};
        if (op == "allocate") {
            auto& a = attachments_[key];
            if (a.addrs.empty()) {
                ++next_;
                a.addrs.push_back("10.244.1." + std::to_string(next_));
                if (dual_stack_) {
                    a.addrs.push_back("fd00:10:244:1::" + std::to_string(next_));
                }
            }
            return {{"addrs", a.addrs}, {"gateways", {"10.244.1.1"}}};
        }
        if (op == "attach") {
            if (refuse_attach_) {
                throw ApiError(api_code::internal, "attach: the kernel refused the endpoint");
            }
            attachments_[key].host_ifname = request["host_ifname"];
            attachments_[key].in_kernel = true;
            return json::object();
        }
        if (op == "endpoint") {
            auto it = attachments_.find(key);
            if (it == attachments_.end()) {
                throw ApiError(api_code::unknown_container,
                               "weftd knows no attachment " + key.first + "/" + key.second);
            }
            json out = {{"addrs", it->second.addrs}, {"kernel", nullptr}};
            if (!it->second.host_ifname.empty()) {
                out["host_ifname"] = it->second.host_ifname;
            }
            if (it->second.in_kernel) {
                out["kernel"] = {{"host_ifindex", 1}, {"addrs", it->second.addrs}};
            }
            return out;
        }
        // release
        json released = json::array();
        if (auto it = attachments_.find(key); it != attachments_.end()) {
            released = it->second.addrs;
            attachments_.erase(it);
        }
        return {{"addrs", released}};
    }

    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    std::unique_ptr<ApiServer> server_;
    std::thread thread_;

    std::mutex mutex_;
    bool refuse_attach_ = false;
    bool dual_stack_ = false;
    std::optional<std::string> cannot_add_;
    std::optional<std::string> degraded_;
    int next_ = 1;
    std::map<Key, Attachment> attachments_;
    std::map<std::string, int> calls_;
    json last_gc_valid_;
};

} // namespace weft::cni
