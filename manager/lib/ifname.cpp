// Interface name and index conversion.
#include <net/if.h>

#include <weft/ifname.hpp>

namespace weft {

std::optional<std::uint32_t> ifname_to_index(const std::string& name) {
    if (name.empty() || name.size() >= IFNAMSIZ) {
        return std::nullopt;
    }
    unsigned index = if_nametoindex(name.c_str());
    if (index == 0) {
        return std::nullopt;
    }
    return index;
}

std::optional<std::string> ifindex_to_name(std::uint32_t ifindex) {
    char buf[IF_NAMESIZE];
    if (ifindex == 0 || if_indextoname(ifindex, buf) == nullptr) {
        return std::nullopt;
    }
    return std::string(buf);
}

} // namespace weft
