// Building and parsing weft's generic netlink messages on plain buffers.
#include <algorithm>
#include <cerrno>
#include <cstring>

#include <net/if.h>
#include <sys/socket.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/weft.h>

#include <weft/message.hpp>

#include <libmnl/libmnl.h>

// Older UAPI headers lack the extended-ACK flags.
#ifndef NLM_F_CAPPED
#define NLM_F_CAPPED 0x100
#endif
#ifndef NLM_F_ACK_TLVS
#define NLM_F_ACK_TLVS 0x200
#endif

namespace weft {

static_assert(drop_reason_count == WEFT_DROP_MAX + 1,
              "libweft's DeviceStats::drops must cover enum weft_drop_reason");

namespace {

// enum nlmsgerr_attrs. MISS_TYPE and MISS_NEST (Linux 5.19) are missing from
// older headers, and enum values cannot be probed by the preprocessor, so
// libweft uses the kernel's numbers directly.
constexpr std::uint16_t ext_ack_msg = 1;
constexpr std::uint16_t ext_ack_offs = 2;
constexpr std::uint16_t ext_ack_miss_type = 5;
constexpr std::uint16_t ext_ack_miss_nest = 6;
static_assert(NLMSGERR_ATTR_MSG == ext_ack_msg && NLMSGERR_ATTR_OFFS == ext_ack_offs);

constexpr std::size_t nlmsg_hdrlen = NLMSG_HDRLEN;
constexpr std::size_t genl_hdrlen = GENL_HDRLEN;
constexpr std::size_t nla_hdrlen = NLA_HDRLEN;

// Reads a header from a buffer of any alignment.
template <typename T>
T read_struct(std::span<const std::uint8_t> data, std::size_t offset) {
    T value;
    std::memcpy(&value, data.data() + offset, sizeof(T));
    return value;
}

// Splits `data` into attributes. Strict: damage throws MalformedMessage;
// otherwise the walk stops before it and returns what came first.
std::vector<Attr> walk(std::span<const std::uint8_t> data, std::size_t base_offset, bool strict) {
    std::vector<Attr> out;
    std::size_t pos = 0;
    while (pos < data.size()) {
        std::size_t left = data.size() - pos;
        std::string damage;
        nlattr nla{};
        if (left < nla_hdrlen) {
            damage = "truncated attribute header at offset " + std::to_string(base_offset + pos);
        } else {
            nla = read_struct<nlattr>(data, pos);
            if (nla.nla_len < nla_hdrlen || nla.nla_len > left) {
                damage = "attribute at offset " + std::to_string(base_offset + pos) +
                         " has length " + std::to_string(nla.nla_len) + " but " +
                         std::to_string(left) + " bytes are left";
            }
        }
        if (!damage.empty()) {
            if (strict) {
                throw MalformedMessage(damage);
            }
            break;
        }
        out.push_back(Attr{static_cast<std::uint16_t>(nla.nla_type & NLA_TYPE_MASK),
                           (nla.nla_type & NLA_F_NESTED) != 0,
                           data.subspan(pos + nla_hdrlen, nla.nla_len - nla_hdrlen),
                           base_offset + pos});
        pos += std::min<std::size_t>(NLA_ALIGN(nla.nla_len), left);
    }
    return out;
}

nlmsghdr read_header(std::span<const std::uint8_t> message) {
    if (message.size() < nlmsg_hdrlen) {
        throw MalformedMessage("shorter than a netlink header");
    }
    auto nlh = read_struct<nlmsghdr>(message, 0);
    if (nlh.nlmsg_len < nlmsg_hdrlen || nlh.nlmsg_len > message.size()) {
        throw MalformedMessage("netlink header length " + std::to_string(nlh.nlmsg_len) +
                               " does not match the " + std::to_string(message.size()) +
                               " bytes received");
    }
    return nlh;
}

// The attributes of a generic netlink message, after its genlmsghdr.
std::vector<Attr> genl_attrs(std::span<const std::uint8_t> message) {
    auto nlh = read_header(message);
    if (nlh.nlmsg_len < nlmsg_hdrlen + genl_hdrlen) {
        throw MalformedMessage("no generic netlink header");
    }
    auto body =
        message.subspan(nlmsg_hdrlen + genl_hdrlen, nlh.nlmsg_len - nlmsg_hdrlen - genl_hdrlen);
    return walk_attrs(body, nlmsg_hdrlen + genl_hdrlen);
}

std::vector<Attr> nested_attrs(const Attr& a) {
    return walk_attrs(a.payload, a.offset + nla_hdrlen);
}

void check_len(const Attr& a, AttrSpace space, std::size_t expected) {
    if (a.payload.size() != expected) {
        throw MalformedMessage(attr_name(space, a.type) + " has " +
                               std::to_string(a.payload.size()) + " bytes, expected " +
                               std::to_string(expected));
    }
}

template <typename T>
T attr_int(const Attr& a, AttrSpace space) {
    check_len(a, space, sizeof(T));
    return read_struct<T>(a.payload, 0);
}

template <std::size_t N>
std::array<std::uint8_t, N> attr_array(const Attr& a, AttrSpace space) {
    check_len(a, space, N);
    std::array<std::uint8_t, N> out{};
    std::copy(a.payload.begin(), a.payload.end(), out.begin());
    return out;
}

void put_dev_ref(MessageBuilder& b, const DevRef& dev) {
    if (dev.ifindex == 0 && dev.ifname.empty()) {
        throw Error(EINVAL, "no device given (neither ifindex nor name)");
    }
    if (dev.ifindex != 0) {
        b.put_u32(WEFT_A_IFINDEX, dev.ifindex);
    }
    if (!dev.ifname.empty()) {
        if (dev.ifname.size() >= IFNAMSIZ) {
            throw Error(EINVAL, "device name \"" + dev.ifname + "\" is too long");
        }
        b.put_strz(WEFT_A_IFNAME, dev.ifname);
    }
}

// A request for `cmd` on `dev`: a dump, or a do that wants its ACK.
MessageBuilder weft_request(std::uint16_t family, std::uint8_t cmd, const DevRef& dev,
                            bool dump = false,
                            std::size_t capacity = MessageBuilder::default_capacity) {
    MessageBuilder b(family, NLM_F_REQUEST | (dump ? NLM_F_DUMP : NLM_F_ACK), capacity);
    b.put_genl(cmd, WEFT_GENL_VERSION);
    put_dev_ref(b, dev);
    return b;
}

void put_addr(MessageBuilder& b, std::uint16_t type4, std::uint16_t type6, const IpAddr& addr) {
    b.put_binary(is_ipv4(addr) ? type4 : type6, addr_bytes(addr));
}

// The address in an attribute of type `type4` (4 bytes) or else 16 bytes.
IpAddr attr_addr(const Attr& a, AttrSpace space, std::uint16_t type4) {
    if (a.type == type4) {
        return attr_array<4>(a, space);
    }
    return attr_array<16>(a, space);
}

void require(bool present, const std::string& what) {
    if (!present) {
        throw MalformedMessage(what);
    }
}

// Walks a reply made of WEFT_A_IFINDEX and `nest` nests: returns the ifindex
// (required; `what` names the message) and calls on_nest(attr) for each nest.
template <typename F>
std::uint32_t walk_reply(std::span<const std::uint8_t> message, std::uint16_t nest,
                         const std::string& what, F&& on_nest) {
    std::optional<std::uint32_t> ifindex;
    for (const auto& a : genl_attrs(message)) {
        if (a.type == WEFT_A_IFINDEX) {
            ifindex = attr_u32(a, AttrSpace::Top);
        } else if (a.type == nest) {
            on_nest(a);
        }
    }
    require(ifindex.has_value(), what + " message without WEFT_A_IFINDEX");
    return *ifindex;
}

DeviceSettings parse_settings(const Attr& nest) {
    constexpr auto sp = AttrSpace::Dev;
    DeviceSettings s;
    for (const auto& a : nested_attrs(nest)) {
        switch (a.type) {
        case WEFT_DEV_A_VNI:
            s.vni = attr_u32(a, sp);
            break;
        case WEFT_DEV_A_PORT:
            s.port = attr_u16(a, sp);
            break;
        case WEFT_DEV_A_LOCAL4: {
            auto addr = attr_array<4>(a, sp);
            s.local4 = is_zero(addr) ? std::nullopt : std::optional<Ipv4>(addr);
            break;
        }
        case WEFT_DEV_A_LOCAL6: {
            auto addr = attr_array<16>(a, sp);
            s.local6 = is_zero(addr) ? std::nullopt : std::optional<Ipv6>(addr);
            break;
        }
        case WEFT_DEV_A_UNDERLAY:
            s.underlay = attr_u32(a, sp);
            break;
        case WEFT_DEV_A_VTEP_MAC:
            s.vtep_mac = attr_array<6>(a, sp);
            break;
        case WEFT_DEV_A_CROSSSUBNET:
            s.crosssubnet = attr_u8(a, sp) != 0;
            break;
        case WEFT_DEV_A_GENERATION:
            s.generation = attr_u32(a, sp);
            break;
        case WEFT_DEV_A_MTU:
            s.mtu = attr_u32(a, sp);
            break;
        default:
            // Padding and settings newer than this library.
            break;
        }
    }
    return s;
}

DeviceStats parse_stats(const Attr& nest) {
    constexpr auto sp = AttrSpace::Stats;
    DeviceStats st;
    for (const auto& a : nested_attrs(nest)) {
        switch (a.type) {
        case WEFT_STATS_A_RX_PACKETS:
            st.rx_packets = attr_u64(a, sp);
            break;
        case WEFT_STATS_A_RX_BYTES:
            st.rx_bytes = attr_u64(a, sp);
            break;
        case WEFT_STATS_A_TX_PACKETS:
            st.tx_packets = attr_u64(a, sp);
            break;
        case WEFT_STATS_A_TX_BYTES:
            st.tx_bytes = attr_u64(a, sp);
            break;
        case WEFT_STATS_A_RX_DROPS:
            st.rx_drops = attr_u64(a, sp);
            break;
        case WEFT_STATS_A_TX_DROPS:
            st.tx_drops = attr_u64(a, sp);
            break;
        case WEFT_STATS_A_DROPS:
            for (const auto& d : nested_attrs(a)) {
                // Type is reason + 1; 0 is left for padding.
                if (d.type >= 1 && d.type <= drop_reason_count) {
                    st.drops[d.type - 1] = attr_u64(d, AttrSpace::Drops);
                }
            }
            break;
        default:
            break;
        }
    }
    return st;
}

// Fills an ExtAck from the TLVs at `offset` (counted from the start of the
// message, before alignment) up to the message's end. The walk stops at
// damaged TLVs and keeps what came before: the errno matters more than the
// decoration.
void parse_ack_tlvs(std::span<const std::uint8_t> message, std::size_t offset, ExtAck& ack) {
    std::size_t start = nlmsg_hdrlen + NLMSG_ALIGN(offset - nlmsg_hdrlen);
    if (start >= message.size()) {
        return;
    }
    for (const auto& a : walk(message.subspan(start), start, false)) {
        switch (a.type) {
        case ext_ack_msg: {
            auto end = std::find(a.payload.begin(), a.payload.end(), std::uint8_t{0});
            ack.message.assign(a.payload.begin(), end);
            break;
        }
        case ext_ack_offs:
            if (a.payload.size() == 4) {
                ack.offset = read_struct<std::uint32_t>(a.payload, 0);
            }
            break;
        case ext_ack_miss_type:
            if (a.payload.size() == 4) {
                ack.miss_type = read_struct<std::uint32_t>(a.payload, 0);
            }
            break;
        case ext_ack_miss_nest:
            if (a.payload.size() == 4) {
                ack.miss_nest = read_struct<std::uint32_t>(a.payload, 0);
            }
            break;
        default:
            break;
        }
    }
}

struct Found {
    AttrSpace space;
    std::uint16_t type;
};

// The deepest attribute of `attrs` (in `space`) starting at `offset`, or, if
// none starts there, the innermost one containing it.
std::optional<Found> find_attr(const std::vector<Attr>& attrs, AttrSpace space,
                               std::uint32_t offset) {
    for (const auto& a : attrs) {
        std::size_t end = a.offset + nla_hdrlen + a.payload.size();
        if (offset < a.offset || offset >= end) {
            continue;
        }
        if (offset == a.offset) {
            return Found{space, a.type};
        }
        if (auto inner_space = nested_space(space, a.type)) {
            try {
                if (auto inner = find_attr(nested_attrs(a), *inner_space, offset)) {
                    return inner;
                }
            } catch (const MalformedMessage&) {
            }
        }
        return Found{space, a.type};
    }
    return std::nullopt;
}

std::optional<Found> find_in_request(std::span<const std::uint8_t> request, std::uint32_t offset) {
    try {
        return find_attr(genl_attrs(request), AttrSpace::Top, offset);
    } catch (const MalformedMessage&) {
        return std::nullopt;
    }
}

} // namespace

// ---- MessageBuilder ---------------------------------------------------------

MessageBuilder::MessageBuilder(std::uint16_t type, std::uint16_t flags, std::size_t capacity)
    : buf_(std::max(capacity, nlmsg_hdrlen), 0) {
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf_.data());
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = flags;
}

nlmsghdr* MessageBuilder::header() {
    return reinterpret_cast<nlmsghdr*>(buf_.data());
}

std::size_t MessageBuilder::size() const {
    return reinterpret_cast<const nlmsghdr*>(buf_.data())->nlmsg_len;
}

void MessageBuilder::check_room(std::size_t payload_len) {
    if (size() + NLMSG_ALIGN(payload_len) > buf_.size()) {
        throw Error(EMSGSIZE,
                    "netlink request does not fit in " + std::to_string(buf_.size()) + " bytes");
    }
}

void MessageBuilder::put_genl(std::uint8_t cmd, std::uint8_t version) {
    check_room(sizeof(genlmsghdr));
    auto* genl = static_cast<genlmsghdr*>(mnl_nlmsg_put_extra_header(header(), sizeof(genlmsghdr)));
    genl->cmd = cmd;
    genl->version = version;
}

void MessageBuilder::put_u8(std::uint16_t type, std::uint8_t value) {
    check_room(nla_hdrlen + sizeof(value));
    mnl_attr_put_u8(header(), type, value);
}

void MessageBuilder::put_u16(std::uint16_t type, std::uint16_t value) {
    check_room(nla_hdrlen + sizeof(value));
    mnl_attr_put_u16(header(), type, value);
}

void MessageBuilder::put_u32(std::uint16_t type, std::uint32_t value) {
    check_room(nla_hdrlen + sizeof(value));
    mnl_attr_put_u32(header(), type, value);
}

void MessageBuilder::put_u64(std::uint16_t type, std::uint64_t value) {
    check_room(nla_hdrlen + sizeof(value));
    mnl_attr_put_u64(header(), type, value);
}

void MessageBuilder::put_strz(std::uint16_t type, const std::string& value) {
    check_room(nla_hdrlen + value.size() + 1);
    mnl_attr_put_strz(header(), type, value.c_str());
}

void MessageBuilder::put_binary(std::uint16_t type, std::span<const std::uint8_t> value) {
    check_room(nla_hdrlen + value.size());
    mnl_attr_put(header(), type, value.size(), value.data());
}

void MessageBuilder::put_flag(std::uint16_t type) {
    check_room(nla_hdrlen);
    mnl_attr_put(header(), type, 0, nullptr);
}

std::size_t MessageBuilder::begin_nest(std::uint16_t type) {
    check_room(nla_hdrlen);
    nlattr* nest = mnl_attr_nest_start(header(), type);
    return static_cast<std::size_t>(reinterpret_cast<std::uint8_t*>(nest) - buf_.data());
}

void MessageBuilder::end_nest(std::size_t token) {
    mnl_attr_nest_end(header(), reinterpret_cast<nlattr*>(buf_.data() + token));
}

Bytes MessageBuilder::finish() && {
    buf_.resize(size());
    return std::move(buf_);
}

// ---- attributes -------------------------------------------------------------

std::vector<Attr> walk_attrs(std::span<const std::uint8_t> data, std::size_t base_offset) {
    return walk(data, base_offset, true);
}

std::uint8_t attr_u8(const Attr& a, AttrSpace space) {
    return attr_int<std::uint8_t>(a, space);
}
std::uint16_t attr_u16(const Attr& a, AttrSpace space) {
    return attr_int<std::uint16_t>(a, space);
}
std::uint32_t attr_u32(const Attr& a, AttrSpace space) {
    return attr_int<std::uint32_t>(a, space);
}
std::uint64_t attr_u64(const Attr& a, AttrSpace space) {
    return attr_int<std::uint64_t>(a, space);
}

std::string attr_string(const Attr& a, AttrSpace space, std::size_t max_len) {
    auto nul = std::find(a.payload.begin(), a.payload.end(), std::uint8_t{0});
    if (nul == a.payload.end()) {
        throw MalformedMessage(attr_name(space, a.type) + " is not NUL-terminated");
    }
    std::string s(a.payload.begin(), nul);
    if (s.size() >= max_len) {
        throw MalformedMessage(attr_name(space, a.type) + " is longer than " +
                               std::to_string(max_len - 1) + " characters");
    }
    return s;
}

// ---- weft requests and replies ----------------------------------------------

Bytes encode_dev_get(std::uint16_t family, const DevRef& dev) {
    return weft_request(family, WEFT_CMD_DEV_GET, dev).finish();
}

Bytes encode_dev_dump(std::uint16_t family) {
    MessageBuilder b(family, NLM_F_REQUEST | NLM_F_DUMP);
    b.put_genl(WEFT_CMD_DEV_GET, WEFT_GENL_VERSION);
    return std::move(b).finish();
}

Bytes encode_dev_set(std::uint16_t family, const DevSetRequest& req) {
    auto b = weft_request(family, WEFT_CMD_DEV_SET, req.dev);
    // The kernel requires WEFT_A_DEV even when it is empty.
    auto nest = b.begin_nest(WEFT_A_DEV);
    if (req.vni) {
        b.put_u32(WEFT_DEV_A_VNI, *req.vni);
    }
    if (req.port) {
        b.put_u16(WEFT_DEV_A_PORT, *req.port);
    }
    if (req.local4) {
        b.put_binary(WEFT_DEV_A_LOCAL4, *req.local4);
    }
    if (req.local6) {
        b.put_binary(WEFT_DEV_A_LOCAL6, *req.local6);
    }
    if (req.underlay) {
        b.put_u32(WEFT_DEV_A_UNDERLAY, *req.underlay);
    }
    if (req.vtep_mac) {
        b.put_binary(WEFT_DEV_A_VTEP_MAC, *req.vtep_mac);
    }
    if (req.crosssubnet) {
        b.put_u8(WEFT_DEV_A_CROSSSUBNET, *req.crosssubnet ? 1 : 0);
    }
    b.end_nest(nest);
    return std::move(b).finish();
}

DeviceInfo parse_device(std::span<const std::uint8_t> message) {
    constexpr auto sp = AttrSpace::Top;
    DeviceInfo info;
    bool have_ifindex = false;
    for (const auto& a : genl_attrs(message)) {
        switch (a.type) {
        case WEFT_A_IFINDEX:
            info.ifindex = attr_u32(a, sp);
            have_ifindex = true;
            break;
        case WEFT_A_IFNAME:
            info.ifname = attr_string(a, sp, IFNAMSIZ);
            break;
        case WEFT_A_DEV:
            info.settings = parse_settings(a);
            break;
        case WEFT_A_STATS:
            info.stats = parse_stats(a);
            break;
        default:
            break;
        }
    }
    require(have_ifindex, "device message without WEFT_A_IFINDEX");
    return info;
}

// ---- nodes ------------------------------------------------------------------

namespace {

Bytes encode_node_key(std::uint16_t family, std::uint8_t cmd, const DevRef& dev,
                      const IpAddr& addr) {
    auto b = weft_request(family, cmd, dev);
    auto nest = b.begin_nest(WEFT_A_NODE);
    put_addr(b, WEFT_NODE_A_ADDR4, WEFT_NODE_A_ADDR6, addr);
    b.end_nest(nest);
    return std::move(b).finish();
}

} // namespace

Bytes encode_node_add(std::uint16_t family, const NodeAddRequest& req) {
    auto b = weft_request(family, WEFT_CMD_NODE_ADD, req.dev);
    auto nest = b.begin_nest(WEFT_A_NODE);
    put_addr(b, WEFT_NODE_A_ADDR4, WEFT_NODE_A_ADDR6, req.addr);
    if (req.encap) {
        b.put_u8(WEFT_NODE_A_ENCAP, *req.encap);
    }
    if (req.vtep_mac) {
        b.put_binary(WEFT_NODE_A_VTEP_MAC, *req.vtep_mac);
    }
    b.end_nest(nest);
    if (req.replace) {
        b.put_flag(WEFT_A_REPLACE);
    }
    return std::move(b).finish();
}

Bytes encode_node_del(std::uint16_t family, const DevRef& dev, const IpAddr& addr) {
    return encode_node_key(family, WEFT_CMD_NODE_DEL, dev, addr);
}

Bytes encode_node_get(std::uint16_t family, const DevRef& dev, const IpAddr& addr) {
    return encode_node_key(family, WEFT_CMD_NODE_GET, dev, addr);
}

Bytes encode_node_dump(std::uint16_t family, const DevRef& dev) {
    return weft_request(family, WEFT_CMD_NODE_GET, dev, true).finish();
}

NodeInfo parse_node(std::span<const std::uint8_t> message) {
    constexpr auto sp = AttrSpace::Node;
    NodeInfo node;
    bool have_addr = false;
    node.ifindex = walk_reply(message, WEFT_A_NODE, "node", [&](const Attr& a) {
        for (const auto& n : nested_attrs(a)) {
            switch (n.type) {
            case WEFT_NODE_A_ADDR4:
            case WEFT_NODE_A_ADDR6:
                node.addr = attr_addr(n, sp, WEFT_NODE_A_ADDR4);
                have_addr = true;
                break;
            case WEFT_NODE_A_ENCAP:
                node.encap = attr_u8(n, sp);
                break;
            case WEFT_NODE_A_VTEP_MAC: {
                auto mac = attr_array<6>(n, sp);
                node.vtep_mac = is_zero(mac) ? std::nullopt : std::optional<Mac>(mac);
                break;
            }
            case WEFT_NODE_A_STATS:
                node.stats = parse_stats(n);
                break;
            default:
                break;
            }
        }
    });
    require(have_addr, "node message without WEFT_NODE_A_ADDR4 or WEFT_NODE_A_ADDR6");
    return node;
}

// ---- routes -----------------------------------------------------------------

namespace {

std::size_t route_nest_size(const Route& r, bool with_node) {
    std::size_t size = nla_hdrlen                                      // WEFT_A_ROUTE
                       + NLA_ALIGN(nla_hdrlen + 1)                     // FAMILY
                       + nla_hdrlen + addr_bytes(r.prefix.addr).size() // PREFIX
                       + NLA_ALIGN(nla_hdrlen + 1);                    // PREFIXLEN
    if (with_node && r.node) {
        size += nla_hdrlen + addr_bytes(*r.node).size();
    }
    return size;
}

void put_route(MessageBuilder& b, const Route& r, bool with_node) {
    auto nest = b.begin_nest(WEFT_A_ROUTE);
    b.put_u8(WEFT_ROUTE_A_FAMILY, is_ipv4(r.prefix.addr) ? AF_INET : AF_INET6);
    b.put_binary(WEFT_ROUTE_A_PREFIX, addr_bytes(r.prefix.addr));
    b.put_u8(WEFT_ROUTE_A_PREFIXLEN, r.prefix.len);
    if (with_node && r.node) {
        put_addr(b, WEFT_ROUTE_A_NODE4, WEFT_ROUTE_A_NODE6, *r.node);
    }
    b.end_nest(nest);
}

Route parse_route(const Attr& nest) {
    constexpr auto sp = AttrSpace::Route;
    std::optional<std::uint8_t> family;
    std::optional<Attr> prefix;
    std::optional<std::uint8_t> len;
    Route r;
    for (const auto& a : nested_attrs(nest)) {
        switch (a.type) {
        case WEFT_ROUTE_A_FAMILY:
            family = attr_u8(a, sp);
            break;
        case WEFT_ROUTE_A_PREFIX:
            prefix = a;
            break;
        case WEFT_ROUTE_A_PREFIXLEN:
            len = attr_u8(a, sp);
            break;
        case WEFT_ROUTE_A_NODE4:
        case WEFT_ROUTE_A_NODE6:
            r.node = attr_addr(a, sp, WEFT_ROUTE_A_NODE4);
            break;
        default:
            break;
        }
    }
    require(family && prefix && len,
            "route without WEFT_ROUTE_A_FAMILY, WEFT_ROUTE_A_PREFIX or WEFT_ROUTE_A_PREFIXLEN");
    if (*family == AF_INET) {
        r.prefix.addr = attr_array<4>(*prefix, sp);
    } else if (*family == AF_INET6) {
        r.prefix.addr = attr_array<16>(*prefix, sp);
    } else {
        throw MalformedMessage("route of family " + std::to_string(*family));
    }
    require(*len <= addr_bytes(r.prefix.addr).size() * 8,
            "route prefix length " + std::to_string(*len) + " is longer than its address");
    r.prefix.len = *len;
    return r;
}

} // namespace

RouteChunk encode_route_change(std::uint16_t family, bool add, const DevRef& dev,
                               std::span<const Route> routes, bool replace, std::size_t max_size) {
    auto b =
        weft_request(family, add ? WEFT_CMD_ROUTE_ADD : WEFT_CMD_ROUTE_DEL, dev, false, max_size);
    // ROUTE_DEL's policy knows no WEFT_A_REPLACE and no node.
    if (add && replace) {
        b.put_flag(WEFT_A_REPLACE);
    }
    RouteChunk chunk;
    for (const auto& r : routes) {
        if (b.size() + route_nest_size(r, add) > max_size) {
            break;
        }
        put_route(b, r, add);
        ++chunk.count;
    }
    if (chunk.count == 0 && !routes.empty()) {
        throw Error(EMSGSIZE,
                    "a route does not fit in a request of " + std::to_string(max_size) + " bytes");
    }
    chunk.message = std::move(b).finish();
    return chunk;
}

Bytes encode_route_get(std::uint16_t family, const DevRef& dev, const Prefix& prefix) {
    auto b = weft_request(family, WEFT_CMD_ROUTE_GET, dev);
    put_route(b, Route{prefix, std::nullopt}, false);
    return std::move(b).finish();
}

Bytes encode_route_dump(std::uint16_t family, const DevRef& dev) {
    return weft_request(family, WEFT_CMD_ROUTE_GET, dev, true).finish();
}

RouteMessage parse_routes(std::span<const std::uint8_t> message) {
    RouteMessage m;
    m.ifindex = walk_reply(message, WEFT_A_ROUTE, "route",
                           [&](const Attr& a) { m.routes.push_back(parse_route(a)); });
    return m;
}

std::optional<std::size_t> route_index_at(std::span<const std::uint8_t> request,
                                          std::uint32_t offset) {
    std::vector<Attr> attrs;
    try {
        attrs = genl_attrs(request);
    } catch (const MalformedMessage&) {
        return std::nullopt;
    }
    std::size_t index = 0;
    for (const auto& a : attrs) {
        if (a.type != WEFT_A_ROUTE) {
            continue;
        }
        if (offset >= a.offset && offset < a.offset + NLA_ALIGN(nla_hdrlen + a.payload.size())) {
            return index;
        }
        ++index;
    }
    return std::nullopt;
}

// ---- endpoints --------------------------------------------------------------

namespace {

Bytes encode_endpoint_key(std::uint16_t family, std::uint8_t cmd, const DevRef& dev,
                          const EndpointKey& key) {
    auto b = weft_request(family, cmd, dev);
    auto nest = b.begin_nest(WEFT_A_ENDPOINT);
    if (key.host_ifindex != 0) {
        b.put_u32(WEFT_ENDPOINT_A_IFINDEX, key.host_ifindex);
    }
    if (key.addr) {
        put_addr(b, WEFT_ENDPOINT_A_ADDR4, WEFT_ENDPOINT_A_ADDR6, *key.addr);
    }
    b.end_nest(nest);
    return std::move(b).finish();
}

} // namespace

Bytes encode_endpoint_add(std::uint16_t family, const EndpointAddRequest& req) {
    auto b = weft_request(family, WEFT_CMD_ENDPOINT_ADD, req.dev);
    auto nest = b.begin_nest(WEFT_A_ENDPOINT);
    b.put_u32(WEFT_ENDPOINT_A_IFINDEX, req.host_ifindex);
    for (const auto& addr : req.addrs) {
        put_addr(b, WEFT_ENDPOINT_A_ADDR4, WEFT_ENDPOINT_A_ADDR6, addr);
    }
    if (req.identity) {
        b.put_u32(WEFT_ENDPOINT_A_IDENTITY, *req.identity);
    }
    b.end_nest(nest);
    if (req.replace) {
        b.put_flag(WEFT_A_REPLACE);
    }
    return std::move(b).finish();
}

Bytes encode_endpoint_del(std::uint16_t family, const DevRef& dev, const EndpointKey& key) {
    return encode_endpoint_key(family, WEFT_CMD_ENDPOINT_DEL, dev, key);
}

Bytes encode_endpoint_get(std::uint16_t family, const DevRef& dev, const EndpointKey& key) {
    return encode_endpoint_key(family, WEFT_CMD_ENDPOINT_GET, dev, key);
}

Bytes encode_endpoint_dump(std::uint16_t family, const DevRef& dev) {
    return weft_request(family, WEFT_CMD_ENDPOINT_GET, dev, true).finish();
}

EndpointInfo parse_endpoint(std::span<const std::uint8_t> message) {
    constexpr auto sp = AttrSpace::Endpoint;
    EndpointInfo ep;
    bool have_host = false;
    ep.ifindex = walk_reply(message, WEFT_A_ENDPOINT, "endpoint", [&](const Attr& a) {
        for (const auto& e : nested_attrs(a)) {
            switch (e.type) {
            case WEFT_ENDPOINT_A_IFINDEX:
                ep.host_ifindex = attr_u32(e, sp);
                have_host = true;
                break;
            case WEFT_ENDPOINT_A_ADDR4:
            case WEFT_ENDPOINT_A_ADDR6:
                ep.addrs.push_back(attr_addr(e, sp, WEFT_ENDPOINT_A_ADDR4));
                break;
            case WEFT_ENDPOINT_A_IDENTITY:
                ep.identity = attr_u32(e, sp);
                break;
            default:
                break;
            }
        }
    });
    require(have_host, "endpoint message without WEFT_ENDPOINT_A_IFINDEX");
    return ep;
}

ExtAck parse_error_message(std::span<const std::uint8_t> message) {
    auto nlh = read_header(message);
    if (nlh.nlmsg_type != NLMSG_ERROR) {
        throw MalformedMessage("not an NLMSG_ERROR message");
    }
    if (nlh.nlmsg_len < nlmsg_hdrlen + sizeof(nlmsgerr)) {
        throw MalformedMessage("NLMSG_ERROR shorter than struct nlmsgerr");
    }
    message = message.first(nlh.nlmsg_len);
    auto err = read_struct<nlmsgerr>(message, nlmsg_hdrlen);
    ExtAck ack;
    ack.error = -err.error;
    if (!(nlh.nlmsg_flags & NLM_F_ACK_TLVS)) {
        return ack;
    }
    std::size_t offset = nlmsg_hdrlen + sizeof(nlmsgerr);
    if (!(nlh.nlmsg_flags & NLM_F_CAPPED)) {
        // The whole request is echoed after the error.
        if (err.msg.nlmsg_len < nlmsg_hdrlen) {
            throw MalformedMessage("NLMSG_ERROR echoes a request shorter than its header");
        }
        offset += err.msg.nlmsg_len - nlmsg_hdrlen;
    }
    parse_ack_tlvs(message, offset, ack);
    return ack;
}

ExtAck parse_done_message(std::span<const std::uint8_t> message) {
    auto nlh = read_header(message);
    if (nlh.nlmsg_type != NLMSG_DONE) {
        throw MalformedMessage("not an NLMSG_DONE message");
    }
    message = message.first(nlh.nlmsg_len);
    ExtAck ack;
    if (message.size() < nlmsg_hdrlen + sizeof(int)) {
        return ack;
    }
    ack.error = -read_struct<int>(message, nlmsg_hdrlen);
    if (nlh.nlmsg_flags & NLM_F_ACK_TLVS) {
        parse_ack_tlvs(message, nlmsg_hdrlen + sizeof(int), ack);
    }
    return ack;
}

std::string attribute_at(std::span<const std::uint8_t> request, std::uint32_t offset) {
    auto found = find_in_request(request, offset);
    return found ? attr_name(found->space, found->type) : std::string();
}

std::optional<AttrSpace> nest_space_at(std::span<const std::uint8_t> request,
                                       std::uint32_t offset) {
    auto found = find_in_request(request, offset);
    if (!found) {
        return std::nullopt;
    }
    return nested_space(found->space, found->type);
}

Error make_error(const ExtAck& ack, std::span<const std::uint8_t> request) {
    std::string attribute;
    if (ack.offset) {
        attribute = attribute_at(request, *ack.offset);
    }
    std::string missing;
    if (ack.miss_type) {
        auto type = static_cast<std::uint16_t>(*ack.miss_type);
        if (!ack.miss_nest) {
            missing = attr_name(AttrSpace::Top, type);
        } else if (auto space = nest_space_at(request, *ack.miss_nest)) {
            missing = attr_name(*space, type);
        } else {
            missing = "attribute type " + std::to_string(type);
        }
    }
    return Error(ack.error, ack.message, attribute, missing, ack.offset);
}

} // namespace weft
