// weft-cni's protocol side: environment and configuration checks with their
// exact codes and messages, version negotiation, and results per version.
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "cni.hpp"

namespace weft::cni {
namespace {

using nlohmann::json;

// The code and message parse_env or parse_netconf fails with.
template <typename F>
std::pair<int, std::string> failure(F&& f) {
    try {
        f();
    } catch (const CniError& e) {
        return {e.code(), e.what()};
    }
    return {0, "no error"};
}

std::map<std::string, std::string> add_env() {
    return {{"CNI_COMMAND", "ADD"},
            {"CNI_CONTAINERID", "c0ffee"},
            {"CNI_NETNS", "/run/netns/pod"},
            {"CNI_IFNAME", "eth0"},
            {"CNI_PATH", "/opt/cni/bin"}};
}

TEST(CniEnv, ParsesAdd) {
    auto env = parse_env(add_env());
    EXPECT_EQ(env.command, Command::add);
    EXPECT_EQ(env.container_id, "c0ffee");
    EXPECT_EQ(env.netns, "/run/netns/pod");
    EXPECT_EQ(env.ifname, "eth0");
    EXPECT_EQ(env.path, "/opt/cni/bin");
}

TEST(CniEnv, DelNeedsNoNetns) {
    auto vars = add_env();
    vars["CNI_COMMAND"] = "DEL";
    vars.erase("CNI_NETNS");
    auto env = parse_env(vars);
    EXPECT_EQ(env.command, Command::del);
    EXPECT_EQ(env.netns, "");
}

TEST(CniEnv, VersionStatusAndGcNeedNoContainer) {
    for (const char* cmd : {"VERSION", "STATUS", "GC"}) {
        EXPECT_NO_THROW(parse_env({{"CNI_COMMAND", cmd}})) << cmd;
    }
}

TEST(CniEnv, ErrorsAreCode4NamingTheVariable) {
    auto without = [](const char* name) {
        auto vars = add_env();
        vars.erase(name);
        return vars;
    };
    auto with = [](const char* name, const char* value) {
        auto vars = add_env();
        vars[name] = value;
        return vars;
    };
    const std::vector<std::pair<std::map<std::string, std::string>, std::string>> cases = {
        {{},
         "CNI_COMMAND is not set: weft-cni is a CNI plugin, run by the container runtime "
         "(ADD, DEL, CHECK, VERSION, STATUS or GC)"},
        {with("CNI_COMMAND", "FROB"),
         "CNI_COMMAND FROB is unknown (ADD, DEL, CHECK, VERSION, STATUS or GC)"},
        {without("CNI_CONTAINERID"), "CNI_CONTAINERID is not set (ADD needs it)"},
        {with("CNI_CONTAINERID", "-x"),
         "CNI_CONTAINERID \"-x\" is not a container ID (letters, digits, '_', '.' and '-', "
         "starting with a letter or digit)"},
        {without("CNI_IFNAME"), "CNI_IFNAME is not set (ADD needs it)"},
        {with("CNI_IFNAME", "a-very-long-ifname"),
         "CNI_IFNAME \"a-very-long-ifname\" is not an interface name (1 to 15 characters, no "
         "'/', ':' or spaces)"},
        {without("CNI_NETNS"), "CNI_NETNS is not set (ADD needs it)"},
    };
    for (const auto& [vars, message] : cases) {
        auto [c, msg] = failure([&] { parse_env(vars); });
        EXPECT_EQ(c, code::invalid_env) << message;
        EXPECT_EQ(msg, message);
    }
}

const char* const good = R"({"cniVersion":"1.0.0","name":"weft","type":"weft-cni"})";

TEST(CniConfig, ParsesWeftKeys) {
    auto conf = parse_netconf(
        R"({"cniVersion":"1.1.0","name":"k8s-pod-network","type":"weft-cni",
            "socket":"/tmp/w.sock","mtu":1450,"runtimeConfig":{"portMappings":[]},
            "prevResult":{"cniVersion":"1.1.0","ips":[]}})",
        Command::add);
    EXPECT_EQ(conf.cni_version, "1.1.0");
    EXPECT_EQ(conf.name, "k8s-pod-network");
    EXPECT_EQ(conf.type, "weft-cni");
    EXPECT_EQ(conf.socket, "/tmp/w.sock");
    EXPECT_EQ(conf.mtu, 1450u);
    EXPECT_TRUE(conf.runtime_config.contains("portMappings"));
    ASSERT_TRUE(conf.prev_result);
    EXPECT_EQ(conf.prev_result->at("cniVersion"), "1.1.0");
}

TEST(CniConfig, Defaults) {
    auto conf = parse_netconf(good, Command::add);
    EXPECT_EQ(conf.socket, "/run/weft/weftd.sock");
    EXPECT_FALSE(conf.mtu);
    EXPECT_FALSE(conf.prev_result);
}

TEST(CniConfig, ErrorsHaveTheSpecificationsCodes) {
    struct Case {
        std::string text;
        Command command;
        int code;
        std::string message;
    };
    const std::vector<Case> cases = {
        {"{not json", Command::add, code::decode_failure,
         "the network configuration on stdin is not valid JSON"},
        {"[1]", Command::add, code::decode_failure,
         "the network configuration on stdin must be a JSON object, not array"},
        {R"({"name":"n","type":"weft-cni"})", Command::add, code::invalid_config,
         "the network configuration has no \"cniVersion\""},
        {R"({"cniVersion":"0.2.0","name":"n","type":"weft-cni"})", Command::add,
         code::incompatible_version,
         "cniVersion 0.2.0 is not supported by weft-cni (0.3.1, 0.4.0, 1.0.0, 1.1.0)"},
        {R"({"cniVersion":"0.3.1","name":"n","type":"weft-cni","prevResult":{}})", Command::check,
         code::incompatible_version,
         "CHECK needs cniVersion 0.4.0 or later; the configuration says 0.3.1"},
        {R"({"cniVersion":"1.0.0","name":"n","type":"weft-cni"})", Command::status,
         code::incompatible_version,
         "STATUS needs cniVersion 1.1.0 or later; the configuration says 1.0.0"},
        {R"({"cniVersion":"1.0.0","type":"weft-cni"})", Command::add, code::invalid_config,
         "the network configuration has no \"name\""},
        {R"({"cniVersion":"1.0.0","name":"n","type":7})", Command::add, code::invalid_config,
         "\"type\" must be a string, not 7"},
        {R"({"cniVersion":"1.0.0","name":"_n","type":"weft-cni"})", Command::add,
         code::invalid_config,
         "network name \"_n\" is invalid (letters, digits, '_', '.' and '-', starting with a "
         "letter or digit)"},
        {R"({"cniVersion":"1.0.0","name":"n","type":"weft-cni","ipam":{"type":"host-local"}})",
         Command::add, code::unsupported_field,
         "unsupported field \"ipam\": {\"type\":\"host-local\"} (weft allocates pod addresses "
         "itself; remove \"ipam\")"},
        {R"({"cniVersion":"1.0.0","name":"n","type":"weft-cni","mtu":"1450"})", Command::add,
         code::invalid_config, "\"mtu\" must be a whole number from 576 to 65535, not \"1450\""},
        {R"({"cniVersion":"1.0.0","name":"n","type":"weft-cni","mtu":70000})", Command::add,
         code::invalid_config, "\"mtu\" must be a whole number from 576 to 65535, not 70000"},
        {R"({"cniVersion":"1.0.0","name":"n","type":"weft-cni","socket":"run/w.sock"})",
         Command::add, code::invalid_config,
         "\"socket\" must be an absolute path, not \"run/w.sock\""},
        {R"({"cniVersion":"1.0.0","name":"n","type":"weft-cni"})", Command::check,
         code::invalid_config,
         "CHECK needs \"prevResult\" (the result of the ADD to check against)"},
        {R"({"cniVersion":"1.1.0","name":"n","type":"weft-cni"})", Command::gc,
         code::invalid_config,
         "GC needs \"cni.dev/valid-attachments\", an array of {\"containerID\", \"ifname\"}"},
        {R"({"cniVersion":"1.1.0","name":"n","type":"weft-cni",
             "cni.dev/valid-attachments":[{"containerID":"a"}]})",
         Command::gc, code::invalid_config,
         "\"cni.dev/valid-attachments\" holds {\"containerID\":\"a\"}, not {\"containerID\": "
         "string, \"ifname\": string}"},
    };
    for (const auto& c : cases) {
        auto [got_code, msg] = failure([&] { parse_netconf(c.text, c.command); });
        EXPECT_EQ(got_code, c.code) << c.text;
        EXPECT_EQ(msg, c.message) << c.text;
    }
}

TEST(CniConfig, DecodeFailureCarriesTheParserDetails) {
    try {
        parse_netconf("{\"cniVersion\":", Command::add);
        FAIL() << "no error";
    } catch (const CniError& e) {
        EXPECT_EQ(e.code(), code::decode_failure);
        EXPECT_NE(e.details().find("parse error"), std::string::npos) << e.details();
    }
}

TEST(CniConfig, ValidAttachmentsForGc) {
    auto conf = parse_netconf(R"({"cniVersion":"1.1.0","name":"n","type":"weft-cni",
        "cni.dev/valid-attachments":[{"containerID":"a","ifname":"eth0"},
                                     {"containerID":"b","ifname":"net1"}]})",
                              Command::gc);
    ASSERT_EQ(conf.valid_attachments.size(), 2u);
    EXPECT_EQ(conf.valid_attachments[1].container_id, "b");
    EXPECT_EQ(conf.valid_attachments[1].ifname, "net1");
}

TEST(CniVersion, Negotiation) {
    EXPECT_EQ(version_info("0.4.0"),
              (json{{"cniVersion", "0.4.0"},
                    {"supportedVersions", {"0.3.1", "0.4.0", "1.0.0", "1.1.0"}}}));
    EXPECT_EQ(version_info("0.2.0")["cniVersion"], "1.1.0");
    EXPECT_EQ(version_info("")["cniVersion"], "1.1.0");
    EXPECT_TRUE(version_supported("1.0.0"));
    EXPECT_FALSE(version_supported("1.0"));
    EXPECT_TRUE(version_at_least("1.1.0", "0.4.0"));
    EXPECT_FALSE(version_at_least("0.3.1", "0.4.0"));
}

TEST(CniError, ObjectAndVersion) {
    CniError e(code::try_again, "weftd is not running", "Connection refused");
    EXPECT_EQ(error_json(e, "1.0.0"), (json{{"cniVersion", "1.0.0"},
                                            {"code", 11},
                                            {"msg", "weftd is not running"},
                                            {"details", "Connection refused"}}));
    EXPECT_FALSE(error_json(CniError(7, "x"), "1.0.0").contains("details"));
    EXPECT_EQ(error_version(R"({"cniVersion":"0.4.0"})"), "0.4.0");
    EXPECT_EQ(error_version(R"({"cniVersion":"9.9.9"})"), "1.1.0");
    EXPECT_EQ(error_version("garbage"), "1.1.0");
}

Added dual_stack() {
    Added a;
    a.host_ifname = "wft0123456789a";
    a.host_mac = "02:00:00:00:00:01";
    a.pod_ifname = "eth0";
    a.pod_mac = "02:00:00:00:00:02";
    a.sandbox = "/run/netns/pod";
    a.mtu = 1450;
    a.addrs = {*parse_ip("10.244.1.5"), *parse_ip("fd00:10:244:1::5")};
    return a;
}

TEST(CniResult, Version040HasIpVersions) {
    auto r = result_json(dual_stack(), "0.4.0");
    EXPECT_EQ(r, json::parse(R"({
        "cniVersion": "0.4.0",
        "interfaces": [
            {"name": "wft0123456789a", "mac": "02:00:00:00:00:01"},
            {"name": "eth0", "mac": "02:00:00:00:00:02", "sandbox": "/run/netns/pod"}],
        "ips": [
            {"version": "4", "address": "10.244.1.5/32", "gateway": "169.254.1.1",
             "interface": 1},
            {"version": "6", "address": "fd00:10:244:1::5/128", "gateway": "fe80::1",
             "interface": 1}],
        "routes": [{"dst": "0.0.0.0/0", "gw": "169.254.1.1"}, {"dst": "::/0", "gw": "fe80::1"}]
    })"));
    EXPECT_EQ(result_json(dual_stack(), "0.3.1")["ips"][0]["version"], "4");
}

TEST(CniResult, Version100HasNoIpVersionNorMtu) {
    auto r = result_json(dual_stack(), "1.0.0");
    EXPECT_EQ(r["cniVersion"], "1.0.0");
    for (const auto& ip : r["ips"]) {
        EXPECT_FALSE(ip.contains("version")) << ip;
    }
    for (const auto& i : r["interfaces"]) {
        EXPECT_FALSE(i.contains("mtu")) << i;
    }
}

TEST(CniResult, Version110HasInterfaceMtu) {
    auto r = result_json(dual_stack(), "1.1.0");
    EXPECT_EQ(r["interfaces"][0]["mtu"], 1450);
    EXPECT_EQ(r["interfaces"][1]["mtu"], 1450);
    EXPECT_FALSE(r["ips"][0].contains("version"));
}

TEST(CniResult, AppendsToPrevResult) {
    json prev = json::parse(R"({"cniVersion":"1.0.0",
        "interfaces":[{"name":"lo","sandbox":"/run/netns/pod"}],
        "ips":[{"address":"192.0.2.1/24","interface":0}],
        "dns":{"nameservers":["10.96.0.10"]}})");
    Added a = dual_stack();
    a.addrs.pop_back();
    auto r = result_json(a, "1.0.0", prev);
    ASSERT_EQ(r["interfaces"].size(), 3u);
    ASSERT_EQ(r["ips"].size(), 2u);
    EXPECT_EQ(r["ips"][1]["interface"], 2);
    EXPECT_EQ(r["dns"]["nameservers"][0], "10.96.0.10");
    EXPECT_EQ(r["routes"].size(), 1u);
}

TEST(CniHostIfname, DeterministicAndDistinct) {
    auto a = host_ifname("c0ffee", "eth0");
    EXPECT_EQ(a, host_ifname("c0ffee", "eth0"));
    EXPECT_EQ(a.size(), 14u);
    EXPECT_EQ(a.substr(0, 3), "wft");
    EXPECT_NE(a, host_ifname("c0ffee", "eth1"));
    EXPECT_NE(host_ifname("ab", "c"), host_ifname("a", "bc"));
}

} // namespace
} // namespace weft::cni
