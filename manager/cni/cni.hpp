// weft-cni's protocol side: the CNI environment and network configuration
// it is given, the versions it speaks, and the results and errors it prints.
// Nothing here touches the system, so all of it is unit-tested directly.
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <weft/addr.hpp>

#include <nlohmann/json.hpp>

namespace weft::cni {

// The CNI error codes weft-cni reports (0-99 are the specification's,
// 100 and up weft's own).
namespace code {
inline constexpr int incompatible_version = 1;
inline constexpr int unsupported_field = 2;
inline constexpr int unknown_container = 3;
inline constexpr int invalid_env = 4;
inline constexpr int io_failure = 5;
inline constexpr int decode_failure = 6;
inline constexpr int invalid_config = 7;
inline constexpr int try_again = 11;
inline constexpr int status_cannot_add = 50; // STATUS: no ADD possible now
inline constexpr int status_degraded = 51;   // STATUS: and existing pods may suffer
inline constexpr int setup_failed = 100;     // the interface could not be set up or removed
inline constexpr int check_failed = 101;     // CHECK found the attachment differs
inline constexpr int internal = 999;         // unexpected; weftd uses it the same way
} // namespace code

// A failure reported to the runtime: printed as the specification's error
// object, {"cniVersion", "code", "msg", "details"}, with a non-zero exit.
class CniError : public std::runtime_error {
public:
    CniError(int code, const std::string& msg, std::string details = {})
        : std::runtime_error(msg), code_(code), details_(std::move(details)) {}
    int code() const noexcept { return code_; }
    const std::string& details() const noexcept { return details_; }

private:
    int code_;
    std::string details_;
};

// The specification versions weft-cni speaks, oldest first.
const std::vector<std::string>& supported_versions();
inline const std::string newest_version = "1.1.0";
bool version_supported(std::string_view version);
// Whether `version` (a supported one) is `at_least` or newer.
bool version_at_least(std::string_view version, std::string_view at_least);
// The answer to VERSION: {"cniVersion", "supportedVersions"}. `requested` is
// the cniVersion of the request; a supported one is echoed, otherwise the
// newest version answers.
nlohmann::json version_info(std::string_view requested);

enum class Command { add, del, check, version, status, gc };
std::string to_string(Command command);
using weft::to_string; // the address ones, next to the one above

// The CNI_* environment, checked for what the command needs.
struct Env {
    Command command = Command::version;
    std::string container_id;
    std::string netns; // may be empty for DEL
    std::string ifname;
    std::string args;
    std::string path;
};

// Throws CniError code 4 naming the variable and what is wrong with it.
Env parse_env(const std::map<std::string, std::string>& vars);

// One attachment named in "cni.dev/valid-attachments" (GC).
struct Attachment {
    std::string container_id;
    std::string ifname;
};

// The network configuration on stdin, with weft's own keys.
struct NetConf {
    std::string cni_version;
    std::string name;
    std::string type;
    std::string socket = "/run/weft/weftd.sock"; // weftd's API
    std::optional<unsigned> mtu;                 // default: weft0's
    std::optional<nlohmann::json> prev_result;
    nlohmann::json runtime_config = nlohmann::json::object();
    std::vector<Attachment> valid_attachments; // GC only
};

inline constexpr std::string_view valid_attachments_key = "cni.dev/valid-attachments";

// Parses and checks the configuration for `command`: code 6 when it is not
// a JSON object, 1 for a version weft-cni (or the command) does not support,
// 2 for a field weft-cni refuses, 7 for a missing or mistyped field.
NetConf parse_netconf(std::string_view text, Command command);

// The version to put in an error printed for `stdin_text`: its cniVersion
// when that is one weft-cni speaks, otherwise the newest.
std::string error_version(std::string_view stdin_text);
nlohmann::json error_json(const CniError& error, const std::string& version);

// What ADD set up, to be reported as a result.
struct Added {
    std::string host_ifname;
    std::string host_mac;
    std::string pod_ifname;
    std::string pod_mac;
    std::string sandbox; // the netns path
    unsigned mtu = 0;
    std::vector<IpAddr> addrs;
};

// The pod's link-local default gateways, answered by the host veth.
inline const std::string gateway4 = "169.254.1.1";
inline const std::string gateway6 = "fe80::1";

// The ADD result in the shape of `version`: 0.3.1 and 0.4.0 carry "version"
// in each ips entry; 1.1.0 adds the interfaces' "mtu". With a prevResult
// (weft chained after another plugin) weft's entries are appended to it.
nlohmann::json result_json(const Added& added, const std::string& version,
                           const std::optional<nlohmann::json>& prev_result = std::nullopt);

// The host side of a pod's veth: "wft" and 11 hex digits of a hash of the
// container ID and interface name (FNV-1a, 64 bit), so that DEL and GC find
// it without any saved state.
inline constexpr std::string_view host_ifname_prefix = "wft";
std::string host_ifname(const std::string& container_id, const std::string& ifname);

} // namespace weft::cni
