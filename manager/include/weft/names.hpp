// Names of weft's netlink attributes, commands and drop reasons.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace weft {

// The attribute spaces of the UAPI: which enum the type of an attribute
// belongs to. Top is enum weft_attr; the others are the nests.
enum class AttrSpace {
    Top,
    Dev,
    Stats,
    Drops,
    Node,
    Route,
    Endpoint,
    Identity,
    Policy,
    Rule,
    Ct,
    Drop,
};

// "WEFT_DEV_A_VNI" for (Dev, WEFT_DEV_A_VNI); for a type the UAPI does not
// define, "<space prefix>type N", e.g. "WEFT_DEV_A type 42".
std::string attr_name(AttrSpace space, std::uint16_t type);

// The space of the attributes nested in attribute `type` of `space`, if that
// attribute is a nest.
std::optional<AttrSpace> nested_space(AttrSpace space, std::uint16_t type);

// "WEFT_CMD_DEV_GET", or "command N".
std::string cmd_name(std::uint8_t cmd);

// Short names of enum weft_drop_reason used by the CLI and JSON output:
// "no-route", "no-node", ... nullptr for an unknown reason.
const char* drop_reason_name(unsigned reason);
// The reason for a short name, if it is one.
std::optional<unsigned> drop_reason_from_name(std::string_view name);

// Names of enum weft_encap: "vxlan", "ipip", "none". nullptr for an unknown
// one.
const char* encap_name(unsigned encap);
std::optional<unsigned> encap_from_name(std::string_view name);

} // namespace weft
