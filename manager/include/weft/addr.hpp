// Address value types used in weft's device settings, with text conversion.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

namespace weft {

// Addresses are kept in network byte order, exactly as they travel in
// WEFT_DEV_A_LOCAL4 / WEFT_DEV_A_LOCAL6 / WEFT_DEV_A_VTEP_MAC.
using Ipv4 = std::array<std::uint8_t, 4>;
using Ipv6 = std::array<std::uint8_t, 16>;
using Mac = std::array<std::uint8_t, 6>;

std::optional<Ipv4> parse_ipv4(std::string_view text);
std::optional<Ipv6> parse_ipv6(std::string_view text);
// Six groups of one or two hex digits separated by ':'.
std::optional<Mac> parse_mac(std::string_view text);

std::string to_string(const Ipv4& addr);
std::string to_string(const Ipv6& addr);
std::string mac_to_string(const Mac& mac);

// An address of either family, as node and endpoint addresses are.
using IpAddr = std::variant<Ipv4, Ipv6>;

std::optional<IpAddr> parse_ip(std::string_view text);
std::string to_string(const IpAddr& addr);
inline bool is_ipv4(const IpAddr& addr) {
    return std::holds_alternative<Ipv4>(addr);
}
// The address bytes, 4 or 16 of them, in network byte order.
std::span<const std::uint8_t> addr_bytes(const IpAddr& addr);

// An address prefix, as routes carry it.
struct Prefix {
    IpAddr addr;
    std::uint8_t len = 0;

    bool operator==(const Prefix&) const = default;
};

// "ADDR/LEN" (LEN in decimal, at most 32 or 128) or a bare ADDR, which is a
// host prefix (/32 or /128). Bits set beyond LEN are accepted here; see
// host_bits_set().
std::optional<Prefix> parse_prefix(std::string_view text);
// Whether `prefix` has address bits set beyond its length (which the kernel
// rejects rather than masks).
bool host_bits_set(const Prefix& prefix);
// "ADDR/LEN"; always with the length.
std::string to_string(const Prefix& prefix);

template <std::size_t N>
bool is_zero(const std::array<std::uint8_t, N>& addr) {
    for (auto b : addr) {
        if (b != 0) {
            return false;
        }
    }
    return true;
}

} // namespace weft
