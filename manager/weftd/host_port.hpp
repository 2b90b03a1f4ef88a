// A TCP endpoint weftd talks to or listens on: an etcd member's client
// address, the HTTP listener.
#pragma once

#include <cstdint>
#include <string>

namespace weft {

// Written "host:port", or "[v6-address]:port"; the host is kept without
// brackets.
struct HostPort {
    std::string host;
    std::uint16_t port = 0;

    bool operator==(const HostPort&) const = default;
    // "host:port", the host bracketed when it holds a colon (an IPv6
    // address): as in a URL's authority and an HTTP Host header.
    std::string to_string() const {
        bool v6 = host.find(':') != std::string::npos;
        return (v6 ? "[" + host + "]" : host) + ':' + std::to_string(port);
    }
};

} // namespace weft
