// Text conversion of the address types in weft's device settings.
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

} // namespace weft
