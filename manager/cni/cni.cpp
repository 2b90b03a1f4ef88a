#include "cni.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>

namespace weft::cni {

using nlohmann::json;

namespace {

std::string joined(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) {
        out += (out.empty() ? "" : ", ") + item;
    }
    return out;
}

std::ptrdiff_t version_index(std::string_view version) {
    const auto& all = supported_versions();
    auto it = std::find(all.begin(), all.end(), version);
    return it == all.end() ? -1 : it - all.begin();
}

// The specification's rule for container IDs and network names: an
// alphanumeric character, then alphanumerics, '_', '.' or '-'.
bool valid_identifier(std::string_view s) {
    if (s.empty() || !std::isalnum(static_cast<unsigned char>(s[0]))) {
        return false;
    }
    return std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
    });
}

// What the kernel accepts as an interface name.
bool valid_ifname(std::string_view s) {
    if (s.empty() || s.size() > 15 || s == "." || s == "..") {
        return false;
    }
    return std::none_of(s.begin(), s.end(), [](char c) {
        return c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c));
    });
}

std::string need(const std::map<std::string, std::string>& vars, const char* name,
                 Command command) {
    auto it = vars.find(name);
    if (it == vars.end() || it->second.empty()) {
        throw CniError(code::invalid_env,
                       std::string(name) + " is not set (" + to_string(command) + " needs it)");
    }
    return it->second;
}

std::string optional_var(const std::map<std::string, std::string>& vars, const char* name) {
    auto it = vars.find(name);
    return it == vars.end() ? std::string() : it->second;
}

// A string field of the configuration: missing or mistyped is code 7.
std::string string_field(const json& conf, const char* key) {
    auto it = conf.find(key);
    if (it == conf.end()) {
        throw CniError(code::invalid_config,
                       std::string("the network configuration has no \"") + key + "\"");
    }
    if (!it->is_string()) {
        throw CniError(code::invalid_config,
                       std::string("\"") + key + "\" must be a string, not " + it->dump());
    }
    return it->get<std::string>();
}

std::string prefix_text(const IpAddr& addr) {
    return to_string(addr) + (is_ipv4(addr) ? "/32" : "/128");
}

} // namespace

const std::vector<std::string>& supported_versions() {
    static const std::vector<std::string> versions = {"0.3.1", "0.4.0", "1.0.0", "1.1.0"};
    return versions;
}

bool version_supported(std::string_view version) {
    return version_index(version) >= 0;
}

bool version_at_least(std::string_view version, std::string_view at_least) {
    return version_index(version) >= version_index(at_least);
}

json version_info(std::string_view requested) {
    return {{"cniVersion", version_supported(requested) ? std::string(requested) : newest_version},
            {"supportedVersions", supported_versions()}};
}

std::string to_string(Command command) {
    switch (command) {
    case Command::add:
        return "ADD";
    case Command::del:
        return "DEL";
    case Command::check:
        return "CHECK";
    case Command::version:
        return "VERSION";
    case Command::status:
        return "STATUS";
    case Command::gc:
        return "GC";
    }
    return "?";
}

Env parse_env(const std::map<std::string, std::string>& vars) {
    static const std::map<std::string, Command> commands = {
        {"ADD", Command::add},         {"DEL", Command::del},       {"CHECK", Command::check},
        {"VERSION", Command::version}, {"STATUS", Command::status}, {"GC", Command::gc}};
    auto it = vars.find("CNI_COMMAND");
    if (it == vars.end() || it->second.empty()) {
        throw CniError(code::invalid_env,
                       "CNI_COMMAND is not set: weft-cni is a CNI plugin, run by the container "
                       "runtime (ADD, DEL, CHECK, VERSION, STATUS or GC)");
    }
    auto command = commands.find(it->second);
    if (command == commands.end()) {
        throw CniError(code::invalid_env, "CNI_COMMAND " + it->second +
                                              " is unknown (ADD, DEL, CHECK, VERSION, STATUS "
                                              "or GC)");
    }
    Env env;
    env.command = command->second;
    env.args = optional_var(vars, "CNI_ARGS");
    env.path = optional_var(vars, "CNI_PATH");
    if (env.command != Command::add && env.command != Command::del &&
        env.command != Command::check) {
        return env;
    }
    env.container_id = need(vars, "CNI_CONTAINERID", env.command);
    if (!valid_identifier(env.container_id)) {
        throw CniError(code::invalid_env,
                       "CNI_CONTAINERID \"" + env.container_id +
                           "\" is not a container ID (letters, digits, '_', '.' and '-', "
                           "starting with a letter or digit)");
    }
    env.ifname = need(vars, "CNI_IFNAME", env.command);
    if (!valid_ifname(env.ifname)) {
        throw CniError(code::invalid_env,
                       "CNI_IFNAME \"" + env.ifname +
                           "\" is not an interface name (1 to 15 characters, no '/', ':' or "
                           "spaces)");
    }
    // DEL must work when the sandbox is already gone.
    env.netns = env.command == Command::del ? optional_var(vars, "CNI_NETNS")
                                            : need(vars, "CNI_NETNS", env.command);
    return env;
}

NetConf parse_netconf(std::string_view text, Command command) {
    json conf;
    try {
        conf = json::parse(text);
    } catch (const json::parse_error& e) {
        throw CniError(code::decode_failure, "the network configuration on stdin is not valid JSON",
                       e.what());
    }
    if (!conf.is_object()) {
        throw CniError(code::decode_failure,
                       "the network configuration on stdin must be a JSON object, not " +
                           std::string(conf.type_name()));
    }
    NetConf out;
    out.cni_version = string_field(conf, "cniVersion");
    if (!version_supported(out.cni_version)) {
        throw CniError(code::incompatible_version, "cniVersion " + out.cni_version +
                                                       " is not supported by weft-cni (" +
                                                       joined(supported_versions()) + ")");
    }
    if (command == Command::version) {
        return out;
    }
    const char* needs = command == Command::check                                ? "0.4.0"
                        : (command == Command::status || command == Command::gc) ? "1.1.0"
                                                                                 : nullptr;
    if (needs && !version_at_least(out.cni_version, needs)) {
        throw CniError(code::incompatible_version,
                       to_string(command) + " needs cniVersion " + needs +
                           " or later; the configuration says " + out.cni_version);
    }
    out.name = string_field(conf, "name");
    if (!valid_identifier(out.name)) {
        throw CniError(code::invalid_config,
                       "network name \"" + out.name +
                           "\" is invalid (letters, digits, '_', '.' and '-', starting with a "
                           "letter or digit)");
    }
    out.type = string_field(conf, "type");
    if (conf.contains("ipam")) {
        throw CniError(code::unsupported_field,
                       "unsupported field \"ipam\": " + conf["ipam"].dump() +
                           " (weft allocates pod addresses itself; remove \"ipam\")");
    }
    if (conf.contains("socket")) {
        out.socket = string_field(conf, "socket");
        if (out.socket.empty() || out.socket[0] != '/') {
            throw CniError(code::invalid_config,
                           "\"socket\" must be an absolute path, not \"" + out.socket + "\"");
        }
    }
    if (auto mtu = conf.find("mtu"); mtu != conf.end()) {
        if (!mtu->is_number_unsigned() || mtu->get<std::uint64_t>() < 576 ||
            mtu->get<std::uint64_t>() > 65535) {
            throw CniError(code::invalid_config,
                           "\"mtu\" must be a whole number from 576 to 65535, not " + mtu->dump());
        }
        out.mtu = mtu->get<unsigned>();
    }
    if (auto prev = conf.find("prevResult"); prev != conf.end() && !prev->is_null()) {
        if (!prev->is_object()) {
            throw CniError(code::invalid_config,
                           "\"prevResult\" must be an object, not " + prev->dump());
        }
        out.prev_result = *prev;
    }
    if (auto rc = conf.find("runtimeConfig"); rc != conf.end() && !rc->is_null()) {
        if (!rc->is_object()) {
            throw CniError(code::invalid_config,
                           "\"runtimeConfig\" must be an object, not " + rc->dump());
        }
        out.runtime_config = *rc;
    }
    if (command == Command::gc) {
        auto valid = conf.find(valid_attachments_key);
        if (valid == conf.end() || !valid->is_array()) {
            throw CniError(code::invalid_config,
                           "GC needs \"cni.dev/valid-attachments\", an array of {\"containerID\", "
                           "\"ifname\"}" +
                               (valid == conf.end() ? std::string() : ", not " + valid->dump()));
        }
        for (const auto& item : *valid) {
            if (!item.is_object() || !item.contains("containerID") ||
                !item["containerID"].is_string() || !item.contains("ifname") ||
                !item["ifname"].is_string()) {
                throw CniError(code::invalid_config,
                               "\"cni.dev/valid-attachments\" holds " + item.dump() +
                                   ", not {\"containerID\": string, \"ifname\": string}");
            }
            out.valid_attachments.push_back(
                {item["containerID"].get<std::string>(), item["ifname"].get<std::string>()});
        }
    }
    if (command == Command::check && !out.prev_result) {
        throw CniError(code::invalid_config,
                       "CHECK needs \"prevResult\" (the result of the ADD to check against)");
    }
    return out;
}

std::string error_version(std::string_view stdin_text) {
    json conf = json::parse(stdin_text, nullptr, false);
    if (conf.is_object()) {
        auto v = conf.find("cniVersion");
        if (v != conf.end() && v->is_string() && version_supported(v->get<std::string>())) {
            return v->get<std::string>();
        }
    }
    return newest_version;
}

json error_json(const CniError& error, const std::string& version) {
    json out = {{"cniVersion", version}, {"code", error.code()}, {"msg", error.what()}};
    if (!error.details().empty()) {
        out["details"] = error.details();
    }
    return out;
}

json result_json(const Added& added, const std::string& version,
                 const std::optional<json>& prev_result) {
    const bool old = !version_at_least(version, "1.0.0");
    const bool with_mtu = version_at_least(version, "1.1.0");
    json result = prev_result ? *prev_result : json::object();
    result["cniVersion"] = version;
    for (const char* key : {"interfaces", "ips", "routes"}) {
        if (!result.contains(key) || !result[key].is_array()) {
            result[key] = json::array();
        }
    }
    json host = {{"name", added.host_ifname}, {"mac", added.host_mac}};
    json pod = {{"name", added.pod_ifname}, {"mac", added.pod_mac}, {"sandbox", added.sandbox}};
    if (with_mtu) {
        host["mtu"] = added.mtu;
        pod["mtu"] = added.mtu;
    }
    result["interfaces"].push_back(host);
    const auto pod_index = result["interfaces"].size();
    result["interfaces"].push_back(pod);
    bool v4 = false, v6 = false;
    for (const auto& addr : added.addrs) {
        json ip = {{"address", prefix_text(addr)},
                   {"gateway", is_ipv4(addr) ? gateway4 : gateway6},
                   {"interface", pod_index}};
        if (old) {
            ip["version"] = is_ipv4(addr) ? "4" : "6";
        }
        result["ips"].push_back(ip);
        (is_ipv4(addr) ? v4 : v6) = true;
    }
    if (v4) {
        result["routes"].push_back({{"dst", "0.0.0.0/0"}, {"gw", gateway4}});
    }
    if (v6) {
        result["routes"].push_back({{"dst", "::/0"}, {"gw", gateway6}});
    }
    return result;
}

std::string host_ifname(const std::string& container_id, const std::string& ifname) {
    std::uint64_t hash = 0xcbf29ce484222325ULL;
    auto mix = [&hash](std::string_view s) {
        for (unsigned char c : s) {
            hash = (hash ^ c) * 0x100000001b3ULL;
        }
    };
    mix(container_id);
    mix(std::string_view("\0", 1)); // so that ("ab", "c") and ("a", "bc") differ
    mix(ifname);
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
    return std::string(host_ifname_prefix) + std::string(hex, 11);
}

} // namespace weft::cni
