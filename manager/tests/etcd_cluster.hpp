// A real etcd cluster for the tests: members of Debian's etcd-server on
// 127.0.0.1, on ports picked at run time (tests run in parallel), with data
// in a temporary directory. The destructor kills every member and removes the
// directory; the members also die with the test process (PR_SET_PDEATHSIG).
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "etcd.hpp"

namespace weft::test {

inline constexpr const char* kEtcdBinary = "/usr/bin/etcd";

// Ports nobody listens on right now: bound to port 0 all at once (so they
// differ), then released for etcd to take.
inline std::vector<std::uint16_t> free_ports(std::size_t count) {
    std::vector<int> fds;
    std::vector<std::uint16_t> ports;
    for (std::size_t i = 0; i < count; ++i) {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof(addr);
        if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
            throw std::runtime_error(std::string("free port: ") + std::strerror(errno));
        }
        fds.push_back(fd);
        ports.push_back(ntohs(addr.sin_port));
    }
    for (int fd : fds) {
        ::close(fd);
    }
    return ports;
}

// A blocking HTTP/1.0 POST (or GET without body) to 127.0.0.1:port; the
// answer's body, or nothing if there was no answer within `timeout`.
inline std::optional<std::string>
http_call(std::uint16_t port, const std::string& path, const std::optional<std::string>& body,
          std::chrono::milliseconds timeout = std::chrono::milliseconds(1000)) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return std::nullopt;
    }
    timeval limit{timeout.count() / 1000, (timeout.count() % 1000) * 1000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    std::string answer;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
        std::string request = (body ? "POST " : "GET ") + path + " HTTP/1.0\r\n";
        if (body) {
            request += "Content-Type: application/json\r\nContent-Length: " +
                       std::to_string(body->size()) + "\r\n\r\n" + *body;
        } else {
            request += "\r\n";
        }
        if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == ssize_t(request.size())) {
            char buf[4096];
            ssize_t n;
            while ((n = ::recv(fd, buf, sizeof(buf), 0)) > 0) {
                answer.append(buf, std::size_t(n));
            }
        }
    }
    ::close(fd);
    auto end = answer.find("\r\n\r\n");
    if (answer.rfind("HTTP/1.", 0) != 0 || end == std::string::npos) {
        return std::nullopt;
    }
    return answer.substr(end + 4);
}

class EtcdCluster {
public:
    explicit EtcdCluster(std::size_t size = 3) {
        if (::access(kEtcdBinary, X_OK) != 0) {
            throw std::runtime_error(std::string(kEtcdBinary) +
                                     " is missing: install etcd-server (apt-get install "
                                     "etcd-server) to run the etcd tests");
        }
        const char* tmp = std::getenv("TMPDIR");
        std::string pattern =
            std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/weft-etcd-XXXXXX";
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error("mkdtemp " + pattern + ": " + std::strerror(errno));
        }
        dir_ = pattern;
        // A port taken by someone else between free_ports() and etcd's bind
        // makes a member exit: start again on other ports.
        std::string failure;
        for (int attempt = 0; attempt < 3; ++attempt) {
            try {
                start(size, attempt);
                return;
            } catch (const std::exception& e) {
                failure = e.what();
                stop_all();
            }
        }
        std::filesystem::remove_all(dir_);
        throw std::runtime_error("etcd cluster did not start: " + failure);
    }

    ~EtcdCluster() {
        stop_all();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    EtcdCluster(const EtcdCluster&) = delete;
    EtcdCluster& operator=(const EtcdCluster&) = delete;

    std::size_t size() const { return members_.size(); }
    EtcdEndpoint endpoint(std::size_t i) const { return {"127.0.0.1", members_.at(i).client}; }
    std::vector<EtcdEndpoint> endpoints() const {
        std::vector<EtcdEndpoint> all;
        for (std::size_t i = 0; i < size(); ++i) {
            all.push_back(endpoint(i));
        }
        return all;
    }
    std::size_t index_of(const EtcdEndpoint& endpoint) const {
        for (std::size_t i = 0; i < size(); ++i) {
            if (members_[i].client == endpoint.port) {
                return i;
            }
        }
        throw std::out_of_range("not a member: " + endpoint.to_string());
    }

    // SIGKILLs member i and reaps it.
    void kill(std::size_t i) {
        Member& m = members_.at(i);
        if (m.pid > 0) {
            ::kill(m.pid, SIGKILL);
            ::waitpid(m.pid, nullptr, 0);
            m.pid = -1;
        }
    }

    // The member that leads now (waits up to 5 s for one).
    std::size_t leader() const {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        do {
            for (std::size_t i = 0; i < size(); ++i) {
                if (members_[i].pid <= 0) {
                    continue;
                }
                auto status = http_call(members_[i].client, "/v3/maintenance/status", "{}");
                if (!status) {
                    continue;
                }
                auto json = nlohmann::json::parse(*status, nullptr, false);
                if (json.is_object() && json.contains("leader") &&
                    json["leader"] == json["header"]["member_id"]) {
                    return i;
                }
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        } while (std::chrono::steady_clock::now() < deadline);
        throw std::runtime_error("etcd cluster has no leader");
    }

    // Compacts the key-value history up to `revision` (through member i).
    void compact(std::int64_t revision, std::size_t i = 0) const {
        auto body =
            http_call(members_.at(i).client, "/v3/kv/compaction",
                      R"({"revision":")" + std::to_string(revision) + R"(","physical":true})");
        if (!body) {
            throw std::runtime_error("compaction failed");
        }
    }

private:
    struct Member {
        std::string name;
        std::uint16_t client = 0;
        std::uint16_t peer = 0;
        pid_t pid = -1;
        std::string log;
    };

    void start(std::size_t size, int attempt) {
        auto ports = free_ports(2 * size);
        members_.assign(size, {});
        std::string initial_cluster;
        for (std::size_t i = 0; i < size; ++i) {
            Member& m = members_[i];
            m.name = "m" + std::to_string(i);
            m.client = ports[2 * i];
            m.peer = ports[2 * i + 1];
            m.log = dir_ + "/" + m.name + "-" + std::to_string(attempt) + ".log";
            initial_cluster += (i ? "," : "") + m.name + "=" + url(m.peer);
        }
        for (std::size_t i = 0; i < size; ++i) {
            Member& m = members_[i];
            std::vector<std::string> args = {
                kEtcdBinary,
                "--name=" + m.name,
                "--data-dir=" + dir_ + "/" + m.name + "-" + std::to_string(attempt),
                "--listen-client-urls=" + url(m.client),
                "--advertise-client-urls=" + url(m.client),
                "--listen-peer-urls=" + url(m.peer),
                "--initial-advertise-peer-urls=" + url(m.peer),
                "--initial-cluster=" + initial_cluster,
                "--initial-cluster-state=new",
                "--initial-cluster-token=" + dir_ + std::to_string(attempt),
                "--heartbeat-interval=50",
                "--election-timeout=500",
                "--logger=zap",
                "--log-outputs=stderr",
                "--log-level=warn",
            };
            m.pid = spawn(args, m.log);
            // Started together, members wait a second for each peer whose
            // listener is open but not serving yet: start them in turn.
            wait_serving(m);
        }
        wait_healthy();
    }

    static std::string url(std::uint16_t port) {
        return "http://127.0.0.1:" + std::to_string(port);
    }

    static pid_t spawn(const std::vector<std::string>& args, const std::string& log) {
        std::vector<char*> argv;
        for (const auto& a : args) {
            argv.push_back(const_cast<char*>(a.c_str()));
        }
        argv.push_back(nullptr);
        int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (out < 0) {
            throw std::runtime_error("open " + log + ": " + std::strerror(errno));
        }
        pid_t parent = ::getpid();
        pid_t pid = ::fork();
        if (pid == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (::getppid() != parent) {
                ::_exit(1);
            }
            ::dup2(out, STDOUT_FILENO);
            ::dup2(out, STDERR_FILENO);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
        ::close(out);
        if (pid < 0) {
            throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
        }
        return pid;
    }

    void wait_serving(Member& m) {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!http_call(m.peer, "/members", std::nullopt, std::chrono::milliseconds(100))) {
            check_running(m);
            if (std::chrono::steady_clock::now() > deadline) {
                throw std::runtime_error("member " + m.name +
                                         " does not serve after 10 s: " + tail(m.log));
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }

    static void check_running(Member& m) {
        int status = 0;
        if (::waitpid(m.pid, &status, WNOHANG) == m.pid) {
            m.pid = -1;
            throw std::runtime_error("member " + m.name + " exited: " + tail(m.log));
        }
    }

    void wait_healthy() {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
        for (;;) {
            std::size_t healthy = 0;
            for (Member& m : members_) {
                check_running(m);
                // /health waits for a leader up to 1 s: ask again instead.
                auto health =
                    http_call(m.client, "/health", std::nullopt, std::chrono::milliseconds(250));
                if (health && health->find(R"("health":"true")") != std::string::npos) {
                    ++healthy;
                }
            }
            if (healthy == members_.size()) {
                return;
            }
            if (std::chrono::steady_clock::now() > deadline) {
                throw std::runtime_error("members not healthy after 15 s; " + members_[0].name +
                                         ": " + tail(members_[0].log));
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }

    static std::string tail(const std::string& path) {
        std::ifstream in(path);
        std::stringstream text;
        text << in.rdbuf();
        std::string s = text.str();
        return s.size() > 2000 ? s.substr(s.size() - 2000) : s;
    }

    void stop_all() {
        for (std::size_t i = 0; i < members_.size(); ++i) {
            kill(i);
        }
    }

    std::string dir_;
    std::vector<Member> members_;
};

} // namespace weft::test
