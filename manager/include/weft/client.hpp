// The typed client of the weft generic netlink family.
#pragma once

#include <vector>

#include <weft/message.hpp>
#include <weft/socket.hpp>

namespace weft {

class Client {
public:
    // How many times dev_dump() restarts a dump the kernel marked with
    // NLM_F_DUMP_INTR before it gives up with EAGAIN.
    static constexpr int dump_tries = 8;

    // Opens a socket in the caller's network namespace.
    static Client connect() { return Client(Socket::open()); }
    explicit Client(Socket socket) : socket_(std::move(socket)) {}

    DeviceInfo dev_get(const DevRef& dev);
    // All weft devices of the netns, in ifindex order, from one consistent
    // dump.
    std::vector<DeviceInfo> dev_dump();
    void dev_set(const DevSetRequest& request);

    Socket& socket() { return socket_; }

private:
    Socket socket_;
};

} // namespace weft
