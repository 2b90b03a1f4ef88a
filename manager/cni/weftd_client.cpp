#include "weftd_client.hpp"

#include <cerrno>
#include <cstring>

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include "cni.hpp"

namespace weft::cni {

namespace {

// How long weftd may take to answer one request: an allocation is one
// datastore transaction, so anything near this means weftd is stuck.
constexpr int timeout_seconds = 60;

CniError down(const std::string& path, int err) {
    return CniError(code::try_again,
                    "weftd is not running (nothing answers on " + path + "); start weftd, or " +
                        "set \"socket\" in the network configuration to where it listens",
                    std::strerror(err));
}

} // namespace

WeftdClient::WeftdClient(const std::string& socket_path) : path_(socket_path) {
    sockaddr_un addr{};
    if (path_.size() >= sizeof addr.sun_path) {
        throw CniError(code::invalid_config, "\"socket\" path is too long: " + path_);
    }
    fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd_) {
        throw CniError(code::try_again, "creating a unix socket", std::strerror(errno));
    }
    timeval tv{timeout_seconds, 0};
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
    if (::connect(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
        int err = errno;
        if (err == ECONNREFUSED || err == ENOENT) {
            throw down(path_, err);
        }
        throw CniError(code::try_again, "cannot connect to weftd at " + path_, std::strerror(err));
    }
}

nlohmann::json WeftdClient::call(const nlohmann::json& request) {
    std::string line = request.dump() + "\n";
    std::size_t sent = 0;
    while (sent < line.size()) {
        ssize_t n = ::send(fd_.get(), line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            throw CniError(code::try_again, "sending to weftd at " + path_ + " failed",
                           std::strerror(errno));
        }
        sent += static_cast<std::size_t>(n);
    }
    std::size_t end;
    while ((end = buffer_.find('\n')) == std::string::npos) {
        char chunk[4096];
        ssize_t n = ::recv(fd_.get(), chunk, sizeof chunk, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            throw CniError(code::try_again,
                           "weftd at " + path_ + " closed the connection without answering " +
                               request.value("op", "?"),
                           n < 0 ? std::strerror(errno) : "end of stream");
        }
        buffer_.append(chunk, static_cast<std::size_t>(n));
    }
    std::string answer_text = buffer_.substr(0, end);
    buffer_.erase(0, end + 1);
    auto answer = nlohmann::json::parse(answer_text, nullptr, false);
    if (!answer.is_object() || !answer.contains("ok") || !answer["ok"].is_boolean()) {
        throw CniError(code::try_again,
                       "weftd answered " + request.value("op", "?") +
                           " with something that is not an API answer",
                       answer_text);
    }
    if (!answer["ok"].get<bool>()) {
        int c = answer.value("code", code::try_again);
        throw CniError(c, "weftd: " + answer.value("error", std::string("failed")));
    }
    answer.erase("ok");
    return answer;
}

} // namespace weft::cni
