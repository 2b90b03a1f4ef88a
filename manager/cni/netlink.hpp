// The kernel side of a pod's interface: veth pairs, addresses, routes and
// sysctls, through rtnetlink (libnl-route). Every Rtnl talks to the network
// namespace its creating thread was in; in_netns() runs code in a pod's
// namespace and brings the thread back to its own afterwards.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <weft/addr.hpp>
#include <weft/fd.hpp>

struct nl_sock;

namespace weft::cni {

// Opens a network namespace file (CNI_NETNS). Throws CniError code 4 if it
// cannot be opened.
UniqueFd open_netns(const std::string& path);

// Runs `fn` with the calling thread in the namespace `netns_fd`, then puts
// the thread back where it was (also when `fn` throws; what it threw is
// rethrown). Throws CniError code 4 if the namespace cannot be entered;
// aborts if the thread cannot return, since everything after would act on
// the wrong namespace.
void in_netns(int netns_fd, const std::function<void()>& fn);

struct LinkInfo {
    int ifindex = 0;
    std::string name;
    std::string mac;
    unsigned mtu = 0;
    bool up = false;
};

struct RouteInfo {
    Prefix dst;
    std::optional<IpAddr> gateway;
    int ifindex = 0;
};

// An rtnetlink connection in the calling thread's namespace. Failures throw
// CniError code 100 (setup_failed) naming what was being done.
class Rtnl {
public:
    Rtnl();
    ~Rtnl();
    Rtnl(const Rtnl&) = delete;
    Rtnl& operator=(const Rtnl&) = delete;

    std::optional<LinkInfo> link(const std::string& name);
    std::vector<LinkInfo> links();
    // A veth pair: `host` here, `peer` created directly inside the namespace
    // `peer_netns_fd`, both with `mtu`. Fails with EEXIST naming the pod side
    // when that name is taken in the pod's namespace.
    void add_veth(const std::string& host, const std::string& peer, int peer_netns_fd,
                  unsigned mtu);
    // Returns false if there was no such link.
    bool del_link(const std::string& name);
    void set_up(const LinkInfo& link);
    // ADDR/LEN on the link; IPv6 addresses skip duplicate address detection
    // (they are unique by allocation, and must work at once).
    void add_address(int ifindex, const Prefix& prefix);
    std::vector<Prefix> addresses(int ifindex);
    // A main-table route; `onlink` for a gateway that is not on any subnet
    // of the link (169.254.1.1 on a /32).
    void add_route(const Prefix& dst, int ifindex, const std::optional<IpAddr>& gateway,
                   bool onlink);
    std::vector<RouteInfo> routes(int family);

private:
    struct Deleter {
        void operator()(nl_sock* sock) const;
    };
    std::unique_ptr<nl_sock, Deleter> sock_;
};

// The network settings under /proc/sys/net of the calling thread's
// namespace, opened once. Looking up the "net" step of that path costs the
// kernel O(namespaces that have used their sysctls): each such namespace
// leaves a "net" entry of its own under the one /proc/sys directory, all
// with the same name, and a lookup compares against each (on a node that is
// one per pod). Everything below "net" is cheap, so weft-cni takes that step
// once per process and opens each setting relative to it.
class NetSysctl {
public:
    // Throws CniError code 100 if /proc/sys/net cannot be opened.
    NetSysctl();

    // `rel` is relative to /proc/sys/net, e.g. "ipv4/conf/eth0/proxy_arp".
    // Throws CniError code 100 if the value cannot be written.
    void write(const std::string& rel, std::string_view value) const;
    // The first line of the setting; nullopt if it cannot be read (for
    // instance, because it does not exist).
    std::optional<std::string> read(const std::string& rel) const;
    bool exists(const std::string& rel) const;

private:
    UniqueFd dir_;
};

} // namespace weft::cni
