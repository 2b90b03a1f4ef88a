// Building and parsing weft generic netlink messages. Everything here works on
// plain byte buffers and needs no socket, so it can be tested without a kernel.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <weft/addr.hpp>
#include <weft/error.hpp>
#include <weft/names.hpp>

struct nlmsghdr;

namespace weft {

using Bytes = std::vector<std::uint8_t>;

// Builds one netlink message into a buffer of fixed capacity (libmnl's
// builders write through raw pointers, so the buffer never reallocates).
// Throws weft::Error(EMSGSIZE) when an attribute does not fit.
class MessageBuilder {
public:
    static constexpr std::size_t default_capacity = 4096;

    MessageBuilder(std::uint16_t type, std::uint16_t flags,
                   std::size_t capacity = default_capacity);

    // Appends the generic netlink header.
    void put_genl(std::uint8_t cmd, std::uint8_t version);

    void put_u8(std::uint16_t type, std::uint8_t value);
    void put_u16(std::uint16_t type, std::uint16_t value);
    void put_u32(std::uint16_t type, std::uint32_t value);
    void put_u64(std::uint16_t type, std::uint64_t value);
    // A NUL-terminated string attribute.
    void put_strz(std::uint16_t type, const std::string& value);
    void put_binary(std::uint16_t type, std::span<const std::uint8_t> value);
    // A flag attribute (no payload).
    void put_flag(std::uint16_t type);

    // Opens a nest (NLA_F_NESTED is set); returns a token for end_nest().
    std::size_t begin_nest(std::uint16_t type);
    void end_nest(std::size_t token);

    std::size_t size() const;
    // The finished message, nlmsg_len bytes long.
    Bytes finish() &&;

private:
    nlmsghdr* header();
    void check_room(std::size_t payload_len);

    Bytes buf_;
};

// One attribute found while walking a buffer. `offset` is where its header
// starts, counted from the start of the walked buffer's message (see
// walk_attrs). The type is masked with NLA_TYPE_MASK.
struct Attr {
    std::uint16_t type = 0;
    bool nested_flag = false;
    std::span<const std::uint8_t> payload;
    std::size_t offset = 0;
};

// Splits `data` into attributes. A buffer that ends inside an attribute
// header, or an attribute whose length is shorter than its header or runs
// past the end, is malformed: MalformedMessage is thrown. `base_offset` is
// added to each Attr::offset.
std::vector<Attr> walk_attrs(std::span<const std::uint8_t> data, std::size_t base_offset = 0);

// Typed accessors; each checks the payload length the UAPI gives the
// attribute and throws MalformedMessage naming it otherwise.
std::uint8_t attr_u8(const Attr& a, AttrSpace space);
std::uint16_t attr_u16(const Attr& a, AttrSpace space);
std::uint32_t attr_u32(const Attr& a, AttrSpace space);
std::uint64_t attr_u64(const Attr& a, AttrSpace space);
std::string attr_string(const Attr& a, AttrSpace space, std::size_t max_len);

// Which device a command acts on: by index, by name or both (then the kernel
// checks that they name the same device).
struct DevRef {
    std::uint32_t ifindex = 0;
    std::string ifname;

    static DevRef by_index(std::uint32_t ifindex) { return DevRef{ifindex, {}}; }
    static DevRef by_name(std::string ifname) { return DevRef{0, std::move(ifname)}; }
    bool operator==(const DevRef&) const = default;
};

// WEFT_CMD_DEV_SET: the settings to change; the ones left empty keep their
// value in the kernel.
struct DevSetRequest {
    DevRef dev;
    std::optional<std::uint32_t> vni;
    std::optional<std::uint16_t> port;
    std::optional<Ipv4> local4;            // 0.0.0.0 clears
    std::optional<Ipv6> local6;            // :: clears
    std::optional<std::uint32_t> underlay; // ifindex, 0 for none
    std::optional<Mac> vtep_mac;
    std::optional<bool> crosssubnet;

    bool has_settings() const {
        return vni || port || local4 || local6 || underlay || vtep_mac || crosssubnet;
    }
    bool operator==(const DevSetRequest&) const = default;
};

struct DeviceSettings {
    std::uint32_t vni = 0;
    std::uint16_t port = 0;
    std::optional<Ipv4> local4; // empty when unset (the kernel's 0.0.0.0)
    std::optional<Ipv6> local6; // empty when unset (the kernel's ::)
    std::uint32_t underlay = 0; // ifindex, 0 for none
    std::optional<Mac> vtep_mac;
    bool crosssubnet = false;
    std::uint32_t generation = 0;
    std::uint32_t mtu = 0;

    bool operator==(const DeviceSettings&) const = default;
};

// Number of drop reasons libweft knows (enum weft_drop_reason).
inline constexpr std::size_t drop_reason_count = 11;

struct DeviceStats {
    std::uint64_t rx_packets = 0;
    std::uint64_t rx_bytes = 0;
    std::uint64_t tx_packets = 0;
    std::uint64_t tx_bytes = 0;
    std::uint64_t rx_drops = 0;
    std::uint64_t tx_drops = 0;
    // Indexed by enum weft_drop_reason. Reasons newer than this library are
    // ignored.
    std::array<std::uint64_t, drop_reason_count> drops{};

    bool operator==(const DeviceStats&) const = default;
};

struct DeviceInfo {
    std::uint32_t ifindex = 0;
    std::string ifname;
    DeviceSettings settings;
    std::optional<DeviceStats> stats; // present when the kernel sent WEFT_A_STATS

    bool operator==(const DeviceInfo&) const = default;
};

// Requests. `family` is the resolved id of the "weft" family; sequence number
// and port id are left 0 for the socket to fill in.
Bytes encode_dev_get(std::uint16_t family, const DevRef& dev);
Bytes encode_dev_dump(std::uint16_t family);
Bytes encode_dev_set(std::uint16_t family, const DevSetRequest& req);

// Parses one device message (nlmsghdr + genlmsghdr + attributes), as sent by
// WEFT_CMD_DEV_GET. Unknown attributes are ignored; malformed ones throw
// MalformedMessage.
DeviceInfo parse_device(std::span<const std::uint8_t> message);

// ---- nodes (WEFT_CMD_NODE_*) ------------------------------------------------

// WEFT_CMD_NODE_ADD. Settings left empty take the kernel's defaults (VXLAN,
// no VTEP MAC), also when `replace` updates an existing node.
struct NodeAddRequest {
    DevRef dev;
    IpAddr addr;
    std::optional<std::uint8_t> encap; // enum weft_encap
    std::optional<Mac> vtep_mac;
    bool replace = false;

    bool operator==(const NodeAddRequest&) const = default;
};

struct NodeInfo {
    std::uint32_t ifindex = 0; // the weft device
    IpAddr addr;
    std::uint8_t encap = 0;           // enum weft_encap
    std::optional<Mac> vtep_mac;      // empty when unset (the kernel's all-zero)
    std::optional<DeviceStats> stats; // the drops array stays zero

    bool operator==(const NodeInfo&) const = default;
};

Bytes encode_node_add(std::uint16_t family, const NodeAddRequest& req);
Bytes encode_node_del(std::uint16_t family, const DevRef& dev, const IpAddr& addr);
Bytes encode_node_get(std::uint16_t family, const DevRef& dev, const IpAddr& addr);
Bytes encode_node_dump(std::uint16_t family, const DevRef& dev);
// One node message of WEFT_CMD_NODE_GET.
NodeInfo parse_node(std::span<const std::uint8_t> message);

// ---- routes (WEFT_CMD_ROUTE_*) ----------------------------------------------

// A route: the prefix and, except in ROUTE_DEL and ROUTE_GET requests, the
// node it leads to.
struct Route {
    Prefix prefix;
    std::optional<IpAddr> node;

    bool operator==(const Route&) const = default;
};

// ROUTE_ADD and ROUTE_DEL requests stay below 64 KiB (the UAPI asks
// userspace to fragment large sets): at most this many bytes.
inline constexpr std::size_t route_request_max = 64 * 1024 - 4;

// A ROUTE_ADD (`add`) or ROUTE_DEL request with as many of `routes`, from
// the first, as fit in `max_size` bytes; `count` says how many. Throws
// weft::Error(EMSGSIZE) if not even one fits.
struct RouteChunk {
    Bytes message;
    std::size_t count = 0;
};
RouteChunk encode_route_change(std::uint16_t family, bool add, const DevRef& dev,
                               std::span<const Route> routes, bool replace,
                               std::size_t max_size = route_request_max);
Bytes encode_route_get(std::uint16_t family, const DevRef& dev, const Prefix& prefix);
Bytes encode_route_dump(std::uint16_t family, const DevRef& dev);

// A route message: the device and its WEFT_A_ROUTE nests (many in a dump).
struct RouteMessage {
    std::uint32_t ifindex = 0;
    std::vector<Route> routes;
};
RouteMessage parse_routes(std::span<const std::uint8_t> message);

// Which WEFT_A_ROUTE nest of `request` (0 for the first) starts at or
// contains `offset`, an extended ACK's offset. Empty if none does.
std::optional<std::size_t> route_index_at(std::span<const std::uint8_t> request,
                                          std::uint32_t offset);

// ---- endpoints (WEFT_CMD_ENDPOINT_*) ----------------------------------------

// WEFT_CMD_ENDPOINT_ADD: a local pod, keyed by its host-side interface.
struct EndpointAddRequest {
    DevRef dev;
    std::uint32_t host_ifindex = 0;
    std::vector<IpAddr> addrs; // 1..WEFT_ENDPOINT_MAX_ADDRS
    std::optional<std::uint32_t> identity;
    bool replace = false;

    bool operator==(const EndpointAddRequest&) const = default;
};

// Names an endpoint for DEL and GET: by host interface, or by one of its
// addresses.
struct EndpointKey {
    std::uint32_t host_ifindex = 0; // 0: by address
    std::optional<IpAddr> addr;

    bool operator==(const EndpointKey&) const = default;
};

struct EndpointInfo {
    std::uint32_t ifindex = 0; // the weft device
    std::uint32_t host_ifindex = 0;
    std::vector<IpAddr> addrs;
    std::uint32_t identity = 0;

    bool operator==(const EndpointInfo&) const = default;
};

Bytes encode_endpoint_add(std::uint16_t family, const EndpointAddRequest& req);
Bytes encode_endpoint_del(std::uint16_t family, const DevRef& dev, const EndpointKey& key);
Bytes encode_endpoint_get(std::uint16_t family, const DevRef& dev, const EndpointKey& key);
Bytes encode_endpoint_dump(std::uint16_t family, const DevRef& dev);
EndpointInfo parse_endpoint(std::span<const std::uint8_t> message);

// The extended ACK carried by an NLMSG_ERROR message, or by the NLMSG_DONE
// that ends a failed dump.
struct ExtAck {
    int error = 0; // positive errno, 0 for a plain ACK
    std::string message;
    std::optional<std::uint32_t> offset;    // NLMSGERR_ATTR_OFFS
    std::optional<std::uint32_t> miss_type; // NLMSGERR_ATTR_MISS_TYPE
    std::optional<std::uint32_t> miss_nest; // NLMSGERR_ATTR_MISS_NEST
};

// Parses an NLMSG_ERROR message (the whole message, header included),
// capped (NLM_F_CAPPED) or not, with or without TLVs (NLM_F_ACK_TLVS).
ExtAck parse_error_message(std::span<const std::uint8_t> message);
// Parses an NLMSG_DONE message: an int error, then TLVs if NLM_F_ACK_TLVS.
ExtAck parse_done_message(std::span<const std::uint8_t> message);

// Names the attribute that starts at (or, failing that, contains) `offset`
// in `request`, a weft generic netlink message. Offsets count from the
// start of the nlmsghdr, as NLMSGERR_ATTR_OFFS does. Empty if the offset is
// outside every attribute.
std::string attribute_at(std::span<const std::uint8_t> request, std::uint32_t offset);
// The space of the nest starting at `offset` in `request` (for MISS_NEST).
std::optional<AttrSpace> nest_space_at(std::span<const std::uint8_t> request, std::uint32_t offset);

// The weft::Error for a failed ACK, with attribute names resolved against
// the request that was sent.
Error make_error(const ExtAck& ack, std::span<const std::uint8_t> request);

} // namespace weft
