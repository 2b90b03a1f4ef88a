// Address value types used in weft's device settings, with text conversion.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

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
