#include "host.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <weft/error.hpp>
#include <weft/fd.hpp>

namespace weft {

std::optional<std::string> default_route_device() {
    std::ifstream routes("/proc/net/route");
    std::string line;
    std::getline(routes, line); // the header
    while (std::getline(routes, line)) {
        std::istringstream fields(line);
        std::string ifname, destination, gateway, flags, refcnt, use, metric, mask;
        fields >> ifname >> destination >> gateway >> flags >> refcnt >> use >> metric >> mask;
        if (destination == "00000000" && mask == "00000000") {
            return ifname;
        }
    }
    return std::nullopt;
}

std::optional<IpAddr> first_address(const std::string& ifname, int family) {
    struct ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) {
        throw Error(errno, "listing interface addresses");
    }
    std::unique_ptr<struct ifaddrs, decltype(&freeifaddrs)> owner(list, freeifaddrs);
    for (auto* ifa = list; ifa; ifa = ifa->ifa_next) {
        if (!ifa->ifa_addr || ifa->ifa_addr->sa_family != family || ifname != ifa->ifa_name) {
            continue;
        }
        if (family == AF_INET) {
            Ipv4 a{};
            std::memcpy(a.data(), &reinterpret_cast<sockaddr_in*>(ifa->ifa_addr)->sin_addr, 4);
            return a;
        }
        const auto* in6 = &reinterpret_cast<sockaddr_in6*>(ifa->ifa_addr)->sin6_addr;
        if (IN6_IS_ADDR_LINKLOCAL(in6)) {
            continue;
        }
        Ipv6 a{};
        std::memcpy(a.data(), in6, 16);
        return a;
    }
    return std::nullopt;
}

std::optional<Mac> interface_mac(const std::string& ifname) {
    std::ifstream file("/sys/class/net/" + ifname + "/address");
    std::string text;
    if (!(file >> text)) {
        return std::nullopt;
    }
    return parse_mac(text);
}

void set_interface_up(const std::string& ifname) {
    UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!sock) {
        throw Error(errno, "socket for " + ifname);
    }
    struct ifreq req {};
    std::strncpy(req.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
    if (::ioctl(sock.get(), SIOCGIFFLAGS, &req) != 0) {
        throw Error(errno, "reading the flags of " + ifname);
    }
    if (req.ifr_flags & IFF_UP) {
        return;
    }
    req.ifr_flags = static_cast<short>(req.ifr_flags | IFF_UP);
    if (::ioctl(sock.get(), SIOCSIFFLAGS, &req) != 0) {
        throw Error(errno, "setting " + ifname + " up");
    }
}

} // namespace weft
