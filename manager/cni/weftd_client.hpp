// weft-cni's side of weftd's local API (manager/weftd/api.hpp): one JSON
// object per line each way over weftd's unix socket.
#pragma once

#include <string>

#include <weft/fd.hpp>

#include <nlohmann/json.hpp>

namespace weft::cni {

class WeftdClient {
public:
    // Connects to weftd's socket. Throws CniError code 11 when nothing
    // listens there (no socket file, or the connection is refused: "weftd is
    // not running") or the connection fails otherwise.
    explicit WeftdClient(const std::string& socket_path);

    // Sends one request and returns the answer's fields. An answer with
    // "ok": false becomes CniError with weftd's code and message.
    nlohmann::json call(const nlohmann::json& request);

private:
    std::string path_;
    UniqueFd fd_;
    std::string buffer_;
};

} // namespace weft::cni
