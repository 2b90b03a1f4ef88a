// weft-cni's verbs against real network namespaces: the test process moves
// into a network namespace of its own (the "node"), each pod is a namespace
// made with `ip netns add`, and weftd is FakeWeftd on a temporary socket.
// Needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN); skipped otherwise.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <sched.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "cni.hpp"
#include "cni_fake_weftd.hpp"
#include "plugin.hpp"
#include "weftd_client.hpp"

namespace weft::cni {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Outcome {
    int status = -1;
    std::string out;
    std::string err;
    json parsed() const { return out.empty() ? json() : json::parse(out); }
};

// Runs a shell command in the test's namespace; returns its stdout.
std::string sh(const std::string& command) {
    std::string out;
    FILE* p = ::popen(command.c_str(), "r");
    if (!p) {
        return out;
    }
    char buf[512];
    while (std::fgets(buf, sizeof buf, p)) {
        out += buf;
    }
    ::pclose(p);
    return out;
}

bool has_link(const std::string& name, const std::string& netns = "") {
    std::string prefix = netns.empty() ? "ip" : "ip -n " + netns;
    return std::system((prefix + " link show dev " + name + " >/dev/null 2>&1").c_str()) == 0;
}

std::string read_file(const std::string& path) {
    std::ifstream f(path);
    std::string s;
    std::getline(f, s);
    return s;
}

class CniPlugin : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) {
            GTEST_SKIP() << "needs root for network namespaces";
        }
        ASSERT_EQ(::unshare(CLONE_NEWNET), 0) << "unshare(CLONE_NEWNET)";
        std::system("ip link set lo up");
        dir_ = fs::temp_directory_path() / ("weft-cni-test." + std::to_string(::getpid()));
        fs::create_directories(dir_);
        socket_ = (dir_ / "weftd.sock").string();
        netns_ = "weftcni" + std::to_string(::getpid());
        ASSERT_EQ(std::system(("ip netns add " + netns_).c_str()), 0);
    }
    void TearDown() override {
        weftd_.reset();
        for (const auto& ns : {netns_, netns_ + "b"}) {
            if (!netns_.empty()) {
                std::system(("ip netns del " + ns + " 2>/dev/null").c_str());
            }
        }
        if (!dir_.empty()) {
            fs::remove_all(dir_);
        }
    }

    FakeWeftd& weftd() {
        if (!weftd_) {
            weftd_ = std::make_unique<FakeWeftd>(socket_);
        }
        return *weftd_;
    }

    std::string netns_path() const { return "/run/netns/" + netns_; }

    json conf(const std::string& version = "1.0.0") const {
        return {{"cniVersion", version},
                {"name", "weft"},
                {"type", "weft-cni"},
                {"socket", socket_},
                {"mtu", 1400}};
    }

    Outcome cni(const std::string& command, const json& config, const std::string& container = "c1",
                const std::string& ifname = "eth0", bool with_netns = true,
                const std::string& netns_path_override = "") {
        std::map<std::string, std::string> vars = {{"CNI_COMMAND", command},
                                                   {"CNI_CONTAINERID", container},
                                                   {"CNI_IFNAME", ifname},
                                                   {"CNI_PATH", "/opt/cni/bin"}};
        if (with_netns) {
            vars["CNI_NETNS"] = netns_path_override.empty() ? netns_path() : netns_path_override;
        }
        std::ostringstream out, err;
        Outcome o;
        o.status = run(vars, config.dump(), out, err);
        o.out = out.str();
        o.err = err.str();
        return o;
    }

    // ADDs c1/eth0 with a configuration of `version` and sets `check` to
    // the CHECK configuration holding its result. A failed ADD is fatal:
    // call it inside ASSERT_NO_FATAL_FAILURE.
    void added_for_check(json& check, const std::string& version = "1.0.0") {
        auto add = cni("ADD", conf(version));
        ASSERT_EQ(add.status, 0) << add.out << add.err;
        check = conf(version);
        check["prevResult"] = add.parsed();
    }

    // Host veths weft-cni made in the node's namespace.
    std::string weft_links() { return sh("ip -o link show | grep -o 'wft[0-9a-f]*' | sort"); }

    fs::path dir_;
    std::string socket_;
    std::string netns_;
    std::unique_ptr<FakeWeftd> weftd_;
};

TEST_F(CniPlugin, AddPlumbsThePod) {
    weftd();
    auto o = cni("ADD", conf());
    ASSERT_EQ(o.status, 0) << o.out << o.err;
    auto r = o.parsed();
    const std::string host = host_ifname("c1", "eth0");
    EXPECT_EQ(r["cniVersion"], "1.0.0");
    EXPECT_EQ(r["interfaces"][0]["name"], host);
    EXPECT_EQ(r["interfaces"][1]["name"], "eth0");
    EXPECT_EQ(r["interfaces"][1]["sandbox"], netns_path());
    EXPECT_EQ(r["ips"], json::parse(R"([{"address":"10.244.1.2/32","gateway":"169.254.1.1",
                                          "interface":1}])"));
    EXPECT_EQ(r["routes"], json::parse(R"([{"dst":"0.0.0.0/0","gw":"169.254.1.1"}])"));

    // The pod side.
    auto pod = sh("ip -n " + netns_ + " -o addr show dev eth0");
    EXPECT_NE(pod.find("inet 10.244.1.2/32"), std::string::npos) << pod;
    EXPECT_NE(sh("ip -n " + netns_ + " link show dev eth0").find("mtu 1400"), std::string::npos);
    auto routes = sh("ip -n " + netns_ + " route show");
    EXPECT_NE(routes.find("default via 169.254.1.1 dev eth0 proto static onlink"),
              std::string::npos)
        << routes;
    EXPECT_NE(r["interfaces"][1]["mac"].get<std::string>(), "");

    // The host side.
    EXPECT_NE(sh("ip link show dev " + host).find("state UP"), std::string::npos);
    EXPECT_EQ(read_file("/proc/sys/net/ipv4/conf/" + host + "/proxy_arp"), "1");
    EXPECT_EQ(read_file("/proc/sys/net/ipv4/neigh/" + host + "/proxy_delay"), "0");
    EXPECT_NE(sh("ip route show 10.244.1.2").find("dev " + host + " proto static scope link"),
              std::string::npos);
    // An IPv4-only pod's host side has no IPv6: no link-local address, no
    // per-device IPv6 routes.
    EXPECT_EQ(read_file("/proc/sys/net/ipv6/conf/" + host + "/disable_ipv6"), "1");
    EXPECT_EQ(sh("ip -6 addr show dev " + host), "");
    EXPECT_EQ(sh("ip -6 route show table all dev " + host), "");

    // And weftd knows the endpoint.
    auto attached = weftd().attachments();
    ASSERT_EQ(attached.size(), 1u);
    EXPECT_EQ(attached.begin()->second.host_ifname, host);
}

TEST_F(CniPlugin, AddDualStackGivesV6AddressRouteAndGateway) {
    weftd().dual_stack(true);
    auto o = cni("ADD", conf("1.1.0"));
    ASSERT_EQ(o.status, 0) << o.out << o.err;
    auto r = o.parsed();
    ASSERT_EQ(r["ips"].size(), 2u);
    EXPECT_EQ(r["ips"][1]["address"], "fd00:10:244:1::2/128");
    EXPECT_EQ(r["interfaces"][1]["mtu"], 1400);
    auto pod = sh("ip -n " + netns_ + " -6 -o addr show dev eth0");
    EXPECT_NE(pod.find("fd00:10:244:1::2/128"), std::string::npos) << pod;
    auto routes = sh("ip -n " + netns_ + " -6 route show default");
    EXPECT_NE(routes.find("via fe80::1 dev eth0"), std::string::npos) << routes;
    const std::string host = host_ifname("c1", "eth0");
    EXPECT_EQ(read_file("/proc/sys/net/ipv6/conf/" + host + "/disable_ipv6"), "0");
    EXPECT_NE(sh("ip -6 addr show dev " + host).find("fe80::1/64"), std::string::npos);
    EXPECT_NE(sh("ip -6 route show fd00:10:244:1::2").find("dev " + host), std::string::npos);
}

TEST_F(CniPlugin, AddResultInOldShape) {
    weftd();
    auto o = cni("ADD", conf("0.3.1"));
    ASSERT_EQ(o.status, 0) << o.out << o.err;
    EXPECT_EQ(o.parsed()["ips"][0]["version"], "4");
}

TEST_F(CniPlugin, AddFailingAtAttachLeavesNothing) {
    weftd().refuse_attach(true);
    auto o = cni("ADD", conf());
    EXPECT_EQ(o.status, 1);
    auto e = o.parsed();
    EXPECT_EQ(e["code"], 999);
    EXPECT_EQ(e["msg"], "weftd: attach: the kernel refused the endpoint");
    EXPECT_EQ(weft_links(), "");
    EXPECT_FALSE(has_link("eth0", netns_));
    EXPECT_TRUE(weftd().attachments().empty()); // the address was released
    EXPECT_EQ(weftd().calls("release"), 1);
}

TEST_F(CniPlugin, AddOntoATakenNameLeavesNothing) {
    weftd();
    ASSERT_EQ(std::system(("ip -n " + netns_ + " link add eth0 type veth peer name eth0p").c_str()),
              0);
    auto o = cni("ADD", conf());
    EXPECT_EQ(o.status, 1);
    EXPECT_EQ(o.parsed()["code"], code::setup_failed);
    EXPECT_NE(o.parsed()["msg"].get<std::string>().find("the pod's namespace already has eth0"),
              std::string::npos)
        << o.out;
    EXPECT_EQ(weft_links(), "");
    EXPECT_TRUE(weftd().attachments().empty());
}

// A runtime that crashed during ADD calls ADD again: the pod is set up
// again with the same address, and nothing is left twice.
TEST_F(CniPlugin, AddAgainRecoversThePod) {
    weftd();
    auto first = cni("ADD", conf());
    ASSERT_EQ(first.status, 0) << first.out << first.err;
    // Half of the earlier attempt's work undone behind its back.
    ASSERT_EQ(std::system(("ip -n " + netns_ + " route del default").c_str()), 0);
    auto again = cni("ADD", conf());
    ASSERT_EQ(again.status, 0) << again.out << again.err;
    EXPECT_EQ(again.parsed()["ips"], first.parsed()["ips"]);
    EXPECT_NE(again.err.find("exists from an earlier ADD"), std::string::npos) << again.err;
    EXPECT_EQ(weftd().attachments().size(), 1u);
    EXPECT_EQ(weftd().calls("allocate"), 2);
    EXPECT_EQ(weft_links(), host_ifname("c1", "eth0") + "\n");
    EXPECT_TRUE(has_link("eth0", netns_));
    auto c = conf();
    c["prevResult"] = again.parsed();
    auto check = cni("CHECK", c);
    EXPECT_EQ(check.status, 0) << check.out << check.err;
}

TEST_F(CniPlugin, CheckPassesThenSeesAMissingAddress) {
    weftd();
    json c;
    ASSERT_NO_FATAL_FAILURE(added_for_check(c));
    auto ok = cni("CHECK", c);
    EXPECT_EQ(ok.status, 0) << ok.out << ok.err;
    EXPECT_EQ(ok.out, ""); // CHECK prints nothing on success

    ASSERT_EQ(std::system(("ip -n " + netns_ + " addr del 10.244.1.2/32 dev eth0").c_str()), 0);
    auto bad = cni("CHECK", c);
    EXPECT_EQ(bad.status, 1);
    EXPECT_EQ(bad.parsed()["code"], code::check_failed);
    EXPECT_EQ(bad.parsed()["msg"], "eth0 lacks its address 10.244.1.2/32");
}

TEST_F(CniPlugin, CheckSeesTheHostSideNotAnsweringArp) {
    weftd();
    json c;
    ASSERT_NO_FATAL_FAILURE(added_for_check(c));
    const std::string host = host_ifname("c1", "eth0");
    ASSERT_EQ(std::system(("sysctl -qw net.ipv4.conf." + host + ".proxy_arp=0").c_str()), 0);
    auto bad = cni("CHECK", c);
    EXPECT_EQ(bad.status, 1);
    EXPECT_EQ(bad.parsed()["msg"],
              "the host side " + host + " does not answer ARP for the gateway (proxy_arp is 0)");
}

TEST_F(CniPlugin, CheckInOldShapeAndHostSide) {
    weftd().dual_stack(true);
    json c;
    ASSERT_NO_FATAL_FAILURE(added_for_check(c, "0.4.0"));
    auto ok = cni("CHECK", c);
    EXPECT_EQ(ok.status, 0) << ok.out << ok.err;

    const std::string host = host_ifname("c1", "eth0");
    ASSERT_EQ(std::system(("ip route del 10.244.1.2/32 dev " + host).c_str()), 0);
    auto no_route = cni("CHECK", c);
    EXPECT_EQ(no_route.parsed()["msg"], "the host has no route 10.244.1.2/32 dev " + host);

    ASSERT_EQ(std::system(("ip link del " + host).c_str()), 0);
    auto gone = cni("CHECK", c);
    EXPECT_EQ(gone.status, 1);
    EXPECT_EQ(gone.parsed()["code"], code::check_failed);
    EXPECT_EQ(gone.parsed()["msg"], "the host side " + host + " of eth0 does not exist");
}

TEST_F(CniPlugin, CheckSeesWeftdForgetting) {
    weftd();
    json c;
    ASSERT_NO_FATAL_FAILURE(added_for_check(c));
    // weftd released it behind the runtime's back, the veth still there.
    WeftdClient(socket_).call({{"op", "release"}, {"container_id", "c1"}, {"ifname", "eth0"}});
    auto bad = cni("CHECK", c);
    EXPECT_EQ(bad.status, 1);
    EXPECT_EQ(bad.parsed()["code"], code::check_failed);
    EXPECT_EQ(bad.parsed()["msg"], "weftd knows no attachment c1/eth0");
    // A GC with a wrong list: the veth goes too.
    auto gc = conf("1.1.0");
    gc["cni.dev/valid-attachments"] = json::array();
    ASSERT_EQ(cni("GC", gc).status, 0);
    auto gone = cni("CHECK", c);
    EXPECT_EQ(gone.status, 1);
    EXPECT_EQ(gone.parsed()["code"], code::check_failed);
}

TEST_F(CniPlugin, CheckSeesTheKernelEndpointGone) {
    weftd();
    json c;
    ASSERT_NO_FATAL_FAILURE(added_for_check(c));
    ASSERT_EQ(cni("CHECK", c).status, 0);
    weftd().drop_kernel_endpoint({"c1", "eth0"});
    auto bad = cni("CHECK", c);
    EXPECT_EQ(bad.status, 1);
    EXPECT_EQ(bad.parsed()["code"], code::check_failed);
    EXPECT_EQ(bad.parsed()["msg"],
              "weft.ko has no endpoint for " + host_ifname("c1", "eth0") + " (c1/eth0)");
}

TEST_F(CniPlugin, DelTwice) {
    weftd();
    ASSERT_EQ(cni("ADD", conf()).status, 0);
    auto first = cni("DEL", conf());
    EXPECT_EQ(first.status, 0) << first.out << first.err;
    EXPECT_EQ(first.out, "");
    EXPECT_EQ(weft_links(), "");
    EXPECT_FALSE(has_link("eth0", netns_));
    EXPECT_TRUE(weftd().attachments().empty());
    auto second = cni("DEL", conf());
    EXPECT_EQ(second.status, 0) << second.out << second.err;
    EXPECT_EQ(weftd().calls("release"), 2);
}

TEST_F(CniPlugin, DelWithoutNetns) {
    weftd();
    ASSERT_EQ(cni("ADD", conf()).status, 0);
    auto o = cni("DEL", conf(), "c1", "eth0", false);
    EXPECT_EQ(o.status, 0) << o.out << o.err;
    EXPECT_EQ(weft_links(), "");
    EXPECT_TRUE(weftd().attachments().empty());
}

TEST_F(CniPlugin, DelAfterTheNetnsIsGone) {
    weftd();
    ASSERT_EQ(cni("ADD", conf()).status, 0);
    ASSERT_EQ(std::system(("ip netns del " + netns_).c_str()), 0);
    auto o = cni("DEL", conf()); // CNI_NETNS names a path that no longer exists
    EXPECT_EQ(o.status, 0) << o.out << o.err;
    EXPECT_TRUE(weftd().attachments().empty());
    netns_.clear();
}

TEST_F(CniPlugin, DelFlushesConntrackOfTheReleasedAddress) {
    weftd();
    ASSERT_EQ(cni("ADD", conf()).status, 0);
    ASSERT_EQ(std::system("conntrack -I -s 10.244.1.2 -d 10.0.0.9 -p udp --sport 1000 "
                          "--dport 53 --timeout 100 >/dev/null 2>&1"),
              0);
    // The pod as the destination: named by the original tuple's dst and the
    // reply tuple's src.
    ASSERT_EQ(std::system("conntrack -I -s 10.0.0.7 -d 10.244.1.2 -p tcp --sport 4000 "
                          "--dport 80 --state ESTABLISHED --timeout 100 >/dev/null 2>&1"),
              0);
    ASSERT_EQ(std::system("conntrack -I -s 10.0.0.8 -d 10.0.0.9 -p udp --sport 1000 "
                          "--dport 53 --timeout 100 >/dev/null 2>&1"),
              0);
    ASSERT_EQ(sh("conntrack -L 2>/dev/null | grep -c 10.244.1.2"), "2\n");
    ASSERT_EQ(cni("DEL", conf()).status, 0);
    auto left = sh("conntrack -L 2>/dev/null");
    EXPECT_EQ(left.find("10.244.1.2"), std::string::npos) << left;
    EXPECT_NE(left.find("src=10.0.0.8"), std::string::npos) << left; // others stay
}

TEST_F(CniPlugin, GcReleasesAndDeletesWhatIsNotValid) {
    weftd();
    ASSERT_EQ(cni("ADD", conf(), "keep", "eth0").status, 0);
    // The stale one in a second pod (one weft interface per pod: each
    // brings a default route).
    ASSERT_EQ(std::system(("ip netns add " + netns_ + "b").c_str()), 0);
    ASSERT_EQ(cni("ADD", conf(), "stale", "net1", true, "/run/netns/" + netns_ + "b").status, 0);
    // A stray host veth with weft's name pattern and no attachment at all.
    const std::string stray = host_ifname("crashed", "eth0");
    ASSERT_EQ(std::system(("ip link add " + stray + " type veth peer name stray0").c_str()), 0);
    auto gc = conf("1.1.0");
    gc["cni.dev/valid-attachments"] = json::parse(R"([{"containerID":"keep","ifname":"eth0"}])");
    auto o = cni("GC", gc);
    EXPECT_EQ(o.status, 0) << o.out << o.err;
    EXPECT_EQ(weftd().last_gc_valid(), json::parse(R"([{"container_id":"keep","ifname":"eth0"}])"));
    EXPECT_EQ(weftd().attachments().size(), 1u);
    EXPECT_EQ(weft_links(), host_ifname("keep", "eth0") + "\n");
    EXPECT_TRUE(has_link("eth0", netns_));
    EXPECT_FALSE(has_link("net1", netns_ + "b"));
}

TEST_F(CniPlugin, StatusCodes) {
    auto c = conf("1.1.0");
    auto down = cni("STATUS", c);
    EXPECT_EQ(down.status, 1);
    EXPECT_EQ(down.parsed()["code"], code::status_cannot_add);
    weftd();
    auto ready = cni("STATUS", c);
    EXPECT_EQ(ready.status, 0) << ready.out;
    EXPECT_EQ(ready.out, "");
    weftd().degraded("datastore unreachable");
    auto degraded = cni("STATUS", c);
    EXPECT_EQ(degraded.status, 1);
    EXPECT_EQ(degraded.parsed(), (json{{"cniVersion", "1.1.0"},
                                       {"code", 51},
                                       {"msg", "pods may be degraded: datastore unreachable"}}));
    // Not joined (or no weft device) outweighs degraded: no ADD can work.
    weftd().cannot_add("weftd has not joined the cluster yet");
    auto cannot = cni("STATUS", c);
    EXPECT_EQ(cannot.status, 1);
    EXPECT_EQ(cannot.parsed()["code"], code::status_cannot_add);
    EXPECT_EQ(cannot.parsed()["msg"],
              "weftd cannot set up pods: weftd has not joined the cluster yet");
}

TEST_F(CniPlugin, WeftdDownIsTryAgainLater) {
    for (const char* command : {"ADD", "DEL"}) {
        auto o = cni(command, conf());
        EXPECT_EQ(o.status, 1) << command;
        auto e = o.parsed();
        EXPECT_EQ(e["code"], code::try_again) << command;
        EXPECT_EQ(e["msg"], "weftd is not running (nothing answers on " + socket_ +
                                "); start weftd, or set \"socket\" in the network "
                                "configuration to where it listens")
            << command;
        EXPECT_EQ(e["details"], "No such file or directory");
    }
    EXPECT_EQ(weft_links(), "");
    EXPECT_FALSE(has_link("eth0", netns_));
}

TEST_F(CniPlugin, MtuDefaultsToWeft0s) {
    weftd();
    ASSERT_EQ(std::system("ip link add weft0 mtu 1370 type veth peer name weft0p"), 0);
    auto c = conf("1.1.0");
    c.erase("mtu");
    auto o = cni("ADD", c);
    ASSERT_EQ(o.status, 0) << o.out << o.err;
    EXPECT_EQ(o.parsed()["interfaces"][1]["mtu"], 1370);
    ASSERT_EQ(std::system("ip link del weft0"), 0);
    auto again = cni("ADD", c, "c2");
    EXPECT_EQ(again.parsed()["code"], code::try_again) << again.out;
}

// The binary itself, as a runtime runs it: environment and stdin.
std::string run_binary(const std::string& env, const std::string& stdin_text, int* status) {
    char tmpl[] = "/tmp/weft-cni-stdin.XXXXXX";
    int fd = ::mkstemp(tmpl);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(::write(fd, stdin_text.data(), stdin_text.size()),
              static_cast<ssize_t>(stdin_text.size()));
    ::close(fd);
    std::string out;
    FILE* p =
        ::popen(("env -i " + env + " " WEFT_CNI_BINARY " <" + tmpl + " 2>/dev/null").c_str(), "r");
    char buf[512];
    while (p && std::fgets(buf, sizeof buf, p)) {
        out += buf;
    }
    int raw = p ? ::pclose(p) : -1;
    *status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    ::unlink(tmpl);
    return out;
}

TEST(CniBinary, Version) {
    int status = 0;
    auto out = run_binary("CNI_COMMAND=VERSION", R"({"cniVersion":"1.0.0"})", &status);
    EXPECT_EQ(status, 0);
    EXPECT_EQ(json::parse(out), json::parse(R"({"cniVersion":"1.0.0",
        "supportedVersions":["0.3.1","0.4.0","1.0.0","1.1.0"]})"));
}

TEST(CniBinary, ErrorsOnStdoutWithNonZeroExit) {
    int status = 0;
    auto out = run_binary("", "{}", &status);
    EXPECT_EQ(status, 1);
    EXPECT_EQ(json::parse(out)["code"], code::invalid_env);
    out = run_binary("CNI_COMMAND=ADD CNI_CONTAINERID=binary-test CNI_IFNAME=eth0 "
                     "CNI_NETNS=/proc/self/ns/net",
                     R"({"cniVersion":"1.0.0","name":"weft","type":"weft-cni","mtu":1400,
                         "socket":"/nonexistent/weftd.sock"})",
                     &status);
    EXPECT_EQ(status, 1);
    EXPECT_EQ(json::parse(out)["code"], code::try_again);
}

} // namespace
} // namespace weft::cni
