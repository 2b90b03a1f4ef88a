#include "model.hpp"

namespace weft {

std::string to_string(Encap encap) {
    switch (encap) {
    case Encap::none:
        return "none";
    case Encap::vxlan:
        return "vxlan";
    case Encap::ipip:
        return "ipip";
    }
    return "unknown";
}

Encap pair_encap(Encap a, Encap b) {
    auto rank = [](Encap e) {
        return e == Encap::vxlan ? 2 : e == Encap::ipip ? 1 : 0;
    };
    return rank(a) >= rank(b) ? a : b;
}

std::optional<Encap> parse_encap(std::string_view text) {
    for (Encap e : {Encap::none, Encap::vxlan, Encap::ipip}) {
        if (text == to_string(e)) {
            return e;
        }
    }
    return std::nullopt;
}

} // namespace weft
