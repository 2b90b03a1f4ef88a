// weftd's NAT tables, against the kernel: the test binary moves into a
// network namespace of its own at start (so it needs root), lets Nat write
// there, and checks the result with the nft command-line tool, which shares
// no code with Nat but libnftables' parser.
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <weft/error.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "nat.hpp"

namespace weft {
namespace {

using nlohmann::json;

class OwnNetns : public ::testing::Environment {
public:
    void SetUp() override {
        if (unshare(CLONE_NEWNET) != 0) {
            FAIL() << "unshare(CLONE_NEWNET): " << std::strerror(errno)
                   << ": the NAT tests must run as root, in a network namespace of their own";
        }
    }
};

struct Shell {
    int status = -1; // the exit status, -1 when the command did not exit
    std::string output;
};

// `command` through sh, its stdout and stderr together.
Shell sh(const std::string& command) {
    Shell run;
    FILE* pipe = popen(("exec 2>&1\n" + command).c_str(), "r");
    if (pipe == nullptr) {
        ADD_FAILURE() << "popen " << command << ": " << std::strerror(errno);
        return run;
    }
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) {
        run.output.append(buf, n);
    }
    int status = pclose(pipe);
    run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return run;
}

// `command`, which must succeed; its output.
std::string must(const std::string& command) {
    Shell run = sh(command);
    EXPECT_EQ(run.status, 0) << command << ":\n" << run.output;
    return run.output;
}

// nft commands given on stdin, as a file would give them (one transaction).
std::string nft_script(const std::string& script) {
    return must("nft -f - <<'END'\n" + script + "\nEND");
}

// The listing of one table as nft prints it, or "" if it does not exist.
std::string table_text(const std::string& family, const std::string& name = "weft") {
    Shell run = sh("nft list table " + family + " " + name);
    return run.status == 0 ? run.output : "";
}

// The whole ruleset as JSON objects, handles and all.
json ruleset() {
    std::string out = must("nft -j list ruleset");
    return json::parse(out).at("nftables");
}

// The value of `key` in the object of `kind` ("table", "rule") of
// `family` found first in the ruleset, or null.
json find(const std::string& kind, const std::string& family, const std::string& key) {
    for (const auto& object : ruleset()) {
        if (object.contains(kind) && object[kind].value("family", "") == family &&
            object[kind].value(kind == "table" ? "name" : "table", "") == "weft") {
            return object[kind].value(key, json());
        }
    }
    return nullptr;
}

const Prefix v4 = *parse_prefix("10.244.0.0/16");
const Prefix v6 = *parse_prefix("fd00:244::/48");

const std::string expected_ip = R"(table ip weft {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr 10.244.0.0/16 ip daddr != 10.244.0.0/16 oifname != "weft0" counter packets 0 bytes 0 masquerade
	}
}
)";
const std::string expected_ip6 = R"(table ip6 weft {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		ip6 saddr fd00:244::/48 ip6 daddr != fd00:244::/48 oifname != "weft0" counter packets 0 bytes 0 masquerade
	}
}
)";

class NatTest : public ::testing::Test {
protected:
    void SetUp() override { must("nft flush ruleset"); }
    void TearDown() override { sh("nft flush ruleset"); }

    NatSpec spec4{{v4}, "weft0"};
    NatSpec spec46{{v4, v6}, "weft0"};
};

TEST_F(NatTest, EnsureCreatesTheRules) {
    Nat nat;
    EXPECT_FALSE(nat.matches(spec4));
    EXPECT_TRUE(nat.ensure(spec4));
    EXPECT_EQ(table_text("ip"), expected_ip);
    EXPECT_EQ(table_text("ip6"), "");
    EXPECT_EQ(must("nft list tables"), "table ip weft\n");
    EXPECT_TRUE(nat.matches(spec4));
    EXPECT_FALSE(nat.matches(spec46));
    EXPECT_FALSE(nat.matches({{v4}, "weft1"}));
    EXPECT_FALSE(nat.matches({{*parse_prefix("10.245.0.0/16")}, "weft0"}));
}

TEST_F(NatTest, EnsureTwiceWritesNothing) {
    Nat nat;
    ASSERT_TRUE(nat.ensure(spec46));
    json before = ruleset();
    ASSERT_FALSE(find("table", "ip", "handle").is_null());
    // Another Nat, as a restarted weftd would have, sees the same.
    EXPECT_FALSE(nat.ensure(spec46));
    EXPECT_FALSE(Nat().ensure(spec46));
    // A rewrite would have given the tables and rules new handles.
    EXPECT_EQ(ruleset(), before);
}

TEST_F(NatTest, AddingIpv6KeepsTheIpv4Table) {
    Nat nat;
    ASSERT_TRUE(nat.ensure(spec4));
    json table4 = find("table", "ip", "handle");
    json rule4 = find("rule", "ip", "handle");
    EXPECT_TRUE(nat.ensure(spec46));
    EXPECT_EQ(table_text("ip6"), expected_ip6);
    EXPECT_EQ(find("table", "ip", "handle"), table4);
    EXPECT_EQ(find("rule", "ip", "handle"), rule4);

    EXPECT_TRUE(nat.ensure(spec4));
    EXPECT_EQ(table_text("ip6"), "");
    EXPECT_EQ(find("table", "ip", "handle"), table4);

    EXPECT_TRUE(nat.ensure({{v6}, "weft0"}));
    EXPECT_EQ(must("nft list tables"), "table ip6 weft\n");
    EXPECT_EQ(table_text("ip6"), expected_ip6);

    EXPECT_TRUE(nat.ensure({{}, "weft0"}));
    EXPECT_EQ(must("nft list tables"), "");
    EXPECT_FALSE(nat.ensure({{}, "weft0"}));
}

// Whatever is done to weft's tables behind its back, ensure() puts them
// right, and then has nothing more to do.
TEST_F(NatTest, EnsureRepairsTampering) {
    const std::string rule = "ip saddr 10.244.0.0/16 ip daddr != 10.244.0.0/16 oifname != "
                             "\"weft0\" counter masquerade";
    const std::vector<std::string> tampering{
        "flush chain ip weft postrouting",
        "delete table ip weft",
        "insert rule ip weft postrouting accept",
        "add rule ip weft postrouting ip saddr 10.0.0.0/8 counter masquerade",
        "add rule ip weft postrouting " + rule,
        "flush chain ip weft postrouting\nadd rule ip weft postrouting " + rule + " comment \"x\"",
        "flush chain ip weft postrouting\nadd rule ip weft postrouting ip saddr 10.244.0.0/16 ip "
        "daddr != 10.244.0.0/16 oifname != \"eth0\" counter masquerade",
        "flush chain ip weft postrouting\nadd rule ip weft postrouting ip saddr 10.244.0.0/16 ip "
        "daddr != 10.244.0.0/16 oifname != \"weft0\" masquerade",
        "add chain ip weft extra",
        "add chain ip weft input { type filter hook input priority 0; policy drop; }",
        "add set ip weft s { type ipv4_addr; }",
        "add table ip weft { flags dormant; }",
        "delete table ip weft\ntable ip weft { chain postrouting { type nat hook postrouting "
        "priority srcnat + 1; policy accept; " +
            rule + "; }; }",
        "delete table ip weft\ntable ip weft { chain postrouting { type nat hook postrouting "
        "priority srcnat; policy drop; " +
            rule + "; }; }",
        // (masquerade is for postrouting only)
        "delete table ip weft\ntable ip weft { chain postrouting { type nat hook output "
        "priority 100; policy accept; counter; }; }",
        "delete table ip weft\ntable ip weft { chain nat { type nat hook postrouting "
        "priority srcnat; policy accept; " +
            rule + "; }; }",
        "add table ip6 weft",
    };
    Nat nat;
    for (const auto& tamper : tampering) {
        SCOPED_TRACE(tamper);
        must("nft flush ruleset");
        ASSERT_TRUE(nat.ensure(spec4));
        nft_script(tamper);
        EXPECT_FALSE(nat.matches(spec4));
        EXPECT_TRUE(nat.ensure(spec4));
        EXPECT_EQ(must("nft list ruleset"), expected_ip);
        EXPECT_TRUE(nat.matches(spec4));
        EXPECT_FALSE(nat.ensure(spec4));
    }
}

// Tables that are not weft's, including ones named weft in another family,
// are neither changed nor removed.
TEST_F(NatTest, OtherTablesAreLeftAlone) {
    nft_script(R"(table ip other {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr 10.0.0.0/8 counter masquerade
	}
}
table ip6 other {
	chain forward {
		type filter hook forward priority 0; policy accept;
		ip6 saddr fd00::/8 counter accept
	}
}
table inet weft {
	chain c {
		ip saddr 10.244.0.0/16 counter
	}
}
table ip weftx {
	set s { type ipv4_addr; elements = { 192.0.2.1 } }
})");
    json before = ruleset();
    {
        Nat nat;
        ASSERT_TRUE(nat.ensure(spec46));
        ASSERT_TRUE(nat.remove());
        EXPECT_FALSE(nat.remove());
    }
    EXPECT_EQ(ruleset(), before);

    // And with weft's tables present, everything else is as it was.
    Nat nat;
    ASSERT_TRUE(nat.ensure(spec46));
    json after = ruleset();
    for (const auto& object : before) {
        if (!object.contains("metainfo")) {
            bool kept = false;
            for (const auto& now : after) {
                kept = kept || now == object;
            }
            EXPECT_TRUE(kept) << object.dump();
        }
    }
}

TEST_F(NatTest, RemoveIsIdempotent) {
    Nat nat;
    EXPECT_FALSE(nat.remove());
    ASSERT_TRUE(nat.ensure(spec46));
    EXPECT_EQ(must("nft list tables"), "table ip weft\ntable ip6 weft\n");
    EXPECT_TRUE(nat.remove());
    EXPECT_EQ(must("nft list tables"), "");
    EXPECT_FALSE(nat.remove());
    EXPECT_FALSE(Nat().remove());

    // Half of them present.
    nft_script("add table ip6 weft");
    EXPECT_TRUE(nat.remove());
    EXPECT_EQ(must("nft list tables"), "");
}

TEST_F(NatTest, OtherTableName) {
    Nat nat("weft_test");
    EXPECT_EQ(nat.table(), "weft_test");
    ASSERT_TRUE(nat.ensure(spec4));
    EXPECT_EQ(must("nft list tables"), "table ip weft_test\n");
    EXPECT_FALSE(Nat().remove());
    EXPECT_TRUE(nat.remove());
}

// `run` throws a weft::Error with `errnum` whose message is `message`.
template <typename F>
void expect_error(F run, int errnum, const std::string& message) {
    try {
        run();
        ADD_FAILURE() << "no error; expected " << message;
    } catch (const Error& e) {
        EXPECT_EQ(e.errnum(), errnum) << e.what();
        EXPECT_EQ(std::string(e.what()), message);
    }
}

TEST_F(NatTest, BadSpecsAreRefused) {
    Nat nat;
    auto refuses = [&](const NatSpec& spec, const std::string& message) {
        SCOPED_TRACE(message);
        expect_error([&] { nat.ensure(spec); }, EINVAL, message);
        expect_error([&] { nat.matches(spec); }, EINVAL, message);
    };
    refuses({{v4}, ""}, "NAT spec: \"\" is not a valid device name");
    refuses({{v4}, "weft 0"}, "NAT spec: \"weft 0\" is not a valid device name");
    refuses({{v4}, "weft*"}, "NAT spec: \"weft*\" is not a valid device name");
    refuses({{v4}, "we\"ft"}, "NAT spec: \"we\"ft\" is not a valid device name");
    refuses({{v4}, "a-name-too-long0"},
            "NAT spec: \"a-name-too-long0\" is not a valid device name");
    refuses({{*parse_prefix("10.244.0.1/16")}, "weft0"},
            "NAT spec: cluster CIDR 10.244.0.1/16 has host bits set");
    refuses({{v4, *parse_prefix("10.245.0.0/16")}, "weft0"},
            "NAT spec: two cluster CIDRs of one family (10.244.0.0/16 and 10.245.0.0/16); weft "
            "masquerades for one per family");
    EXPECT_EQ(must("nft list ruleset"), "");

    expect_error([] { Nat bad("we ft"); }, EINVAL,
                 "NAT: \"we ft\" is not a valid nftables table name");
    expect_error([] { Nat bad(""); }, EINVAL, "NAT: \"\" is not a valid nftables table name");
}

// A table of weft's name that another process's socket owns (nft's "owner"
// flag) cannot be replaced: the kernel refuses, and the error says so.
TEST_F(NatTest, KernelRefusalIsAnError) {
    struct Pclose {
        void operator()(FILE* f) const { pclose(f); }
    };
    std::unique_ptr<FILE, Pclose> owner(popen("nft -i >/dev/null 2>&1", "w"));
    ASSERT_NE(owner, nullptr);
    std::fputs("add table ip weft { flags owner; }\n", owner.get());
    std::fflush(owner.get());
    for (int i = 0; i < 100 && table_text("ip").empty(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_NE(table_text("ip"), "");

    Nat nat;
    EXPECT_FALSE(nat.matches(spec4));
    expect_error([&] { nat.ensure(spec4); }, EPERM,
                 "nftables: writing table ip weft: Could not process rule: Operation not "
                 "permitted (in \"add table ip weft\")");
    // Nothing of the transaction was applied.
    EXPECT_EQ(must("nft list ruleset"), "table ip weft { # progname nft\n\tflags owner\n}\n");

    owner.reset(); // the owner's socket closes, and its table goes
    EXPECT_EQ(must("nft list ruleset"), "");
    EXPECT_TRUE(nat.ensure(spec4));
}

// Without CAP_NET_ADMIN nothing can even be read.
TEST_F(NatTest, PermissionErrorNamesWhatFailed) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        std::string report = "no error";
        if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0) {
            report = "cannot drop root";
        } else {
            try {
                Nat nat;
                nat.ensure({{v4}, "weft0"});
            } catch (const Error& e) {
                report = std::to_string(e.errnum()) + " " + e.what();
            }
        }
        ssize_t n = write(fds[1], report.data(), report.size());
        _exit(n == static_cast<ssize_t>(report.size()) ? 0 : 1);
    }
    close(fds[1]);
    std::string report;
    char buf[512];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof(buf))) > 0) {
        report.append(buf, static_cast<std::size_t>(n));
    }
    close(fds[0]);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    EXPECT_EQ(report, std::to_string(EPERM) +
                          " listing nftables tables: cache initialization failed: Operation not "
                          "permitted");
}

// A network namespace held by a child process until destroyed.
class ChildNetns {
public:
    ChildNetns() {
        int fds[2];
        if (pipe(fds) != 0) {
            ADD_FAILURE() << "pipe: " << std::strerror(errno);
            return;
        }
        pid_ = fork();
        if (pid_ == 0) {
            close(fds[0]);
            char ok = unshare(CLONE_NEWNET) == 0 ? '1' : '0';
            if (write(fds[1], &ok, 1) != 1) {
                _exit(1);
            }
            close(fds[1]);
            pause();
            _exit(0);
        }
        close(fds[1]);
        char ok = '0';
        if (pid_ < 0 || read(fds[0], &ok, 1) != 1 || ok != '1') {
            ADD_FAILURE() << "a child in a network namespace of its own";
        }
        close(fds[0]);
    }
    ~ChildNetns() {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
    }
    ChildNetns(const ChildNetns&) = delete;
    ChildNetns& operator=(const ChildNetns&) = delete;

    std::string pid() const { return std::to_string(pid_); }
    // `command` run inside the namespace.
    std::string in(const std::string& command) const {
        return "nsenter -t " + pid() + " -n " + command;
    }

private:
    pid_t pid_ = -1;
};

// The packets counted by the rule in `family`'s weft table, -1 if none.
long masqueraded(const std::string& family) {
    json expr = find("rule", family, "expr");
    for (const auto& statement : expr.is_array() ? expr : json::array()) {
        if (statement.contains("counter")) {
            return statement["counter"].value("packets", -1L);
        }
    }
    return -1;
}

// The addresses of MasqueradesPodTraffic's topology, in one family.
struct Topology {
    std::string family; // of weft's table
    NatSpec spec;
    std::string node_pod, pod, node_pod2, pod2, len; // len: of the links' prefixes
    std::string node_ext, ext;
    std::string forwarding; // the sysctl file
    std::string nodad;      // for ip addr add: the address is usable at once
};

// A pod's ping to an address outside the cluster gets through only with the
// masquerade rule, which counts it; a ping to another pod is forwarded
// untranslated (in IPv4):
//
//   pod netns          this test's netns (the node)                ext netns
//   p0 10.244.1.2 ---- r0 10.244.1.1/24
//                      r1 192.0.2.1/24 ------------------------ e0 192.0.2.2/24
//   pod2 netns         r2 10.244.2.1/24                          (no route to
//   q0 10.244.2.2 ----                                            10.244/16)
//
// The pods route by default through the node, which forwards.
class Masquerade : public NatTest, public ::testing::WithParamInterface<Topology> {};

// The node's veth ends, deleted when it goes (before the namespaces of the
// other ends, whose asynchronous teardown would otherwise keep their names
// taken for a while).
struct NodeLinks {
    NodeLinks() = default;
    NodeLinks(const NodeLinks&) = delete;
    NodeLinks& operator=(const NodeLinks&) = delete;
    ~NodeLinks() { sh("ip link del r0; ip link del r1; ip link del r2"); }
};

TEST_P(Masquerade, PodTraffic) {
    const Topology& t = GetParam();
    ChildNetns pod;
    ChildNetns pod2;
    ChildNetns ext;
    NodeLinks links;
    must("ip link add r0 type veth peer name p0 netns " + pod.pid());
    must("ip link add r1 type veth peer name e0 netns " + ext.pid());
    must("ip link add r2 type veth peer name q0 netns " + pod2.pid());
    must("ip addr add " + t.node_pod + "/" + t.len + " dev r0" + t.nodad);
    must("ip addr add " + t.node_ext + "/" + t.len + " dev r1" + t.nodad);
    must("ip addr add " + t.node_pod2 + "/" + t.len + " dev r2" + t.nodad);
    must("ip link set r0 up && ip link set r1 up && ip link set r2 up");
    must(pod.in("ip addr add " + t.pod + "/" + t.len + " dev p0" + t.nodad));
    must(pod.in("ip link set p0 up"));
    must(pod.in("ip route add default via " + t.node_pod));
    must(pod2.in("ip addr add " + t.pod2 + "/" + t.len + " dev q0" + t.nodad));
    must(pod2.in("ip link set q0 up"));
    must(pod2.in("ip route add default via " + t.node_pod2));
    must(ext.in("ip addr add " + t.ext + "/" + t.len + " dev e0" + t.nodad));
    must(ext.in("ip link set e0 up"));
    must("echo 1 > " + t.forwarding);

    // The links are up (IPv6 takes a moment even without DAD).
    for (const auto& [ns, gateway] : {std::pair{&pod, t.node_pod}, std::pair{&pod2, t.node_pod2}}) {
        bool up = false;
        for (int i = 0; i < 20 && !up; ++i) {
            up = sh(ns->in("ping -c 1 -W 1 " + gateway)).status == 0;
        }
        ASSERT_TRUE(up) << "pinging " << gateway;
    }

    // Without NAT the reply has no way back to the pod's own address.
    EXPECT_NE(sh(pod.in("ping -c 1 -W 1 " + t.ext)).status, 0);
    // That echo's connection would keep it untranslated if the next one
    // reused its identifier.
    must("conntrack -F");

    Nat nat;
    ASSERT_TRUE(nat.ensure(t.spec));
    EXPECT_EQ(masqueraded(t.family), 0);
    Shell ping = sh(pod.in("ping -c 1 -W 5 " + t.ext));
    EXPECT_EQ(ping.status, 0) << ping.output;
    EXPECT_EQ(masqueraded(t.family), 1);

    // Pod to pod passes postrouting but not the rule.
    ping = sh(pod.in("ping -c 1 -W 5 " + t.pod2));
    EXPECT_EQ(ping.status, 0) << ping.output;
    EXPECT_EQ(masqueraded(t.family), 1);

    // The counter is not part of what ensure() compares: nothing rewritten.
    EXPECT_FALSE(nat.ensure(t.spec));
    EXPECT_EQ(masqueraded(t.family), 1);
}

Topology ipv4_topology() {
    Topology t;
    t.family = "ip";
    t.spec = {{v4}, "weft0"};
    t.node_pod = "10.244.1.1";
    t.pod = "10.244.1.2";
    t.node_pod2 = "10.244.2.1";
    t.pod2 = "10.244.2.2";
    t.len = "24";
    t.node_ext = "192.0.2.1";
    t.ext = "192.0.2.2";
    t.forwarding = "/proc/sys/net/ipv4/ip_forward";
    return t;
}

// The same in IPv6, in a node that has both families.
Topology ipv6_topology() {
    Topology t;
    t.family = "ip6";
    t.spec = {{v4, v6}, "weft0"};
    t.node_pod = "fd00:244:0:1::1";
    t.pod = "fd00:244:0:1::2";
    t.node_pod2 = "fd00:244:0:2::1";
    t.pod2 = "fd00:244:0:2::2";
    t.len = "64";
    t.node_ext = "2001:db8::1";
    t.ext = "2001:db8::2";
    t.forwarding = "/proc/sys/net/ipv6/conf/all/forwarding";
    t.nodad = " nodad";
    return t;
}

void PrintTo(const Topology& t, std::ostream* os) {
    *os << t.family;
}

INSTANTIATE_TEST_SUITE_P(NatTest, Masquerade, ::testing::Values(ipv4_topology(), ipv6_topology()),
                         [](const auto& info) { return info.param.family; });

} // namespace
} // namespace weft

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    // gtest takes ownership of the environment.
    ::testing::AddGlobalTestEnvironment(std::make_unique<weft::OwnNetns>().release());
    return RUN_ALL_TESTS();
}
