// Text conversion of the address types in weft's device settings.
#include <charconv>
#include <cstdio>

#include <arpa/inet.h>

#include <weft/addr.hpp>

namespace weft {

namespace {

// inet_pton wants a NUL-terminated string; reject embedded NULs up front.
std::optional<std::string> c_string(std::string_view text) {
    if (text.find('\0') != std::string_view::npos) {
        return std::nullopt;
    }
    return std::string(text);
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

} // namespace

std::optional<Ipv4> parse_ipv4(std::string_view text) {
    auto s = c_string(text);
    Ipv4 addr{};
    if (!s || inet_pton(AF_INET, s->c_str(), addr.data()) != 1) {
        return std::nullopt;
    }
    return addr;
}

std::optional<Ipv6> parse_ipv6(std::string_view text) {
    auto s = c_string(text);
    Ipv6 addr{};
    if (!s || inet_pton(AF_INET6, s->c_str(), addr.data()) != 1) {
        return std::nullopt;
    }
    return addr;
}

std::optional<Mac> parse_mac(std::string_view text) {
    Mac mac{};
    std::size_t pos = 0;
    for (std::size_t i = 0; i < mac.size(); ++i) {
        if (i > 0) {
            if (pos >= text.size() || text[pos] != ':') {
                return std::nullopt;
            }
            ++pos;
        }
        int value = 0;
        std::size_t digits = 0;
        while (pos < text.size() && digits < 2 && hex_value(text[pos]) >= 0) {
            value = value * 16 + hex_value(text[pos]);
            ++pos;
            ++digits;
        }
        if (digits == 0) {
            return std::nullopt;
        }
        mac[i] = static_cast<std::uint8_t>(value);
    }
    if (pos != text.size()) {
        return std::nullopt;
    }
    return mac;
}

std::string to_string(const Ipv4& addr) {
    char buf[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, addr.data(), buf, sizeof(buf));
    return buf;
}

std::string to_string(const Ipv6& addr) {
    char buf[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, addr.data(), buf, sizeof(buf));
    return buf;
}

std::string mac_to_string(const Mac& mac) {
    char buf[sizeof("00:00:00:00:00:00")];
    std::snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
                  mac[4], mac[5]);
    return buf;
}

std::optional<IpAddr> parse_ip(std::string_view text) {
    if (auto a4 = parse_ipv4(text)) {
        return IpAddr(*a4);
    }
    if (auto a6 = parse_ipv6(text)) {
        return IpAddr(*a6);
    }
    return std::nullopt;
}

std::string to_string(const IpAddr& addr) {
    return std::visit([](const auto& a) { return to_string(a); }, addr);
}

std::span<const std::uint8_t> addr_bytes(const IpAddr& addr) {
    return std::visit([](const auto& a) { return std::span<const std::uint8_t>(a); }, addr);
}

std::optional<Prefix> parse_prefix(std::string_view text) {
    auto slash = text.find('/');
    auto addr = parse_ip(text.substr(0, slash));
    if (!addr) {
        return std::nullopt;
    }
    unsigned max = is_ipv4(*addr) ? 32 : 128;
    if (slash == std::string_view::npos) {
        return Prefix{*addr, static_cast<std::uint8_t>(max)};
    }
    auto len_text = text.substr(slash + 1);
    unsigned len = 0;
    auto [end, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
    // Decimal digits only: from_chars takes no sign, and "" fails.
    if (ec != std::errc() || end != len_text.data() + len_text.size() || len > max) {
        return std::nullopt;
    }
    return Prefix{*addr, static_cast<std::uint8_t>(len)};
}

bool host_bits_set(const Prefix& prefix) {
    auto bytes = addr_bytes(prefix.addr);
    for (std::size_t i = prefix.len / 8; i < bytes.size(); ++i) {
        unsigned mask = i == prefix.len / 8u ? 0xffu >> (prefix.len % 8) : 0xffu;
        if (bytes[i] & mask) {
            return true;
        }
    }
    return false;
}

std::string to_string(const Prefix& prefix) {
    return to_string(prefix.addr) + "/" + std::to_string(prefix.len);
}

} // namespace weft
