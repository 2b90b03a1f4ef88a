// weftd's pod address management, including what a crash (SIGKILL) at any
// moment leaves behind.
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <weft/fd.hpp>

#include <gtest/gtest.h>

#include "ipam.hpp"

namespace weft {

// A new temporary directory, or "" after a test failure (defined in
// weftd_state_test.cpp).
std::string make_temp_dir(const std::string& stem);

namespace {

Prefix prefix(const char* text) {
    auto p = parse_prefix(text);
    EXPECT_TRUE(p) << text;
    return p.value_or(Prefix{});
}

std::vector<std::string> texts(const std::vector<IpAddr>& addrs) {
    std::vector<std::string> out;
    for (const auto& a : addrs) {
        out.push_back(to_string(a));
    }
    return out;
}

using Texts = std::vector<std::string>;

// The message of the AddressesExhausted that allocate() must throw.
std::string exhausted(Ipam& ip, const std::string& id) {
    try {
        auto addrs = ip.allocate(id, "eth0");
        ADD_FAILURE() << id << " got " << testing::PrintToString(texts(addrs));
    } catch (const AddressesExhausted& e) {
        EXPECT_EQ(e.errnum(), ENOSPC);
        EXPECT_EQ(e.block(), ip.blocks().at(0));
        return e.what();
    }
    return {};
}

class IpamTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = make_temp_dir("weftd-ipam");
        ASSERT_FALSE(dir_.empty());
        path_ = dir_ + "/state.db";
        db_.emplace(path_);
    }
    void TearDown() override {
        db_.reset();
        std::filesystem::remove_all(dir_);
    }

    Ipam ipam(std::vector<Prefix> blocks, std::int64_t cooldown = 30) {
        return Ipam(*db_, std::move(blocks), cooldown, [this] { return now_; });
    }
    Ipam ipam4(const char* block, std::int64_t cooldown = 30) {
        return ipam({prefix(block)}, cooldown);
    }
    Texts alloc(Ipam& ipam, const std::string& id) { return texts(ipam.allocate(id, "eth0")); }

    std::string dir_;
    std::string path_;
    std::optional<Db> db_;
    std::int64_t now_ = 1'000'000;
};

TEST_F(IpamTest, SkipsReservedAddresses) {
    Ipam ip = ipam4("10.244.1.0/29");
    EXPECT_EQ(texts(ip.gateways()), Texts{"10.244.1.1"});
    Texts all;
    for (int i = 0; i < 5; ++i) {
        all.push_back(alloc(ip, "c" + std::to_string(i)).at(0));
    }
    // Not .0 (network), .1 (gateway) or .7 (broadcast).
    EXPECT_EQ(all, (Texts{"10.244.1.2", "10.244.1.3", "10.244.1.4", "10.244.1.5", "10.244.1.6"}));
    EXPECT_THROW(ip.allocate("c5", "eth0"), AddressesExhausted);
}

TEST_F(IpamTest, AllocateIsIdempotent) {
    {
        Ipam ip = ipam4("10.244.1.0/24");
        EXPECT_EQ(alloc(ip, "a"), Texts{"10.244.1.2"});
        EXPECT_EQ(alloc(ip, "a"), Texts{"10.244.1.2"});
        EXPECT_EQ(texts(ip.allocate("a", "net1")), Texts{"10.244.1.3"});
    }
    // Also after a restart.
    db_.emplace(path_);
    Ipam ip = ipam4("10.244.1.0/24");
    EXPECT_EQ(alloc(ip, "a"), Texts{"10.244.1.2"});
    EXPECT_EQ(texts(ip.allocate("a", "net1")), Texts{"10.244.1.3"});
    EXPECT_EQ(alloc(ip, "b"), Texts{"10.244.1.4"});
    auto found = ip.find("a", "net1");
    ASSERT_TRUE(found);
    EXPECT_EQ(texts(found->addrs), Texts{"10.244.1.3"});
    EXPECT_FALSE(ip.find("a", "net2"));
}

TEST_F(IpamTest, NextFitDoesNotReuseAtOnce) {
    Ipam ip = ipam4("10.244.1.0/29", 0);
    EXPECT_EQ(alloc(ip, "a"), Texts{"10.244.1.2"});
    EXPECT_EQ(alloc(ip, "b"), Texts{"10.244.1.3"});
    EXPECT_EQ(alloc(ip, "c"), Texts{"10.244.1.4"});
    EXPECT_EQ(texts(ip.release("b", "eth0")), Texts{"10.244.1.3"});
    // .3 is free (no cool-down here) but the search goes on from .4.
    EXPECT_EQ(alloc(ip, "d"), Texts{"10.244.1.5"});
    EXPECT_EQ(alloc(ip, "e"), Texts{"10.244.1.6"});
    // ... and wraps around past the broadcast, network and gateway addresses.
    EXPECT_EQ(alloc(ip, "f"), Texts{"10.244.1.3"});
    // The cursor survives a restart.
    EXPECT_EQ(texts(ip.release("a", "eth0")), Texts{"10.244.1.2"});
    EXPECT_EQ(texts(ip.release("d", "eth0")), Texts{"10.244.1.5"});
    db_.emplace(path_);
    Ipam again = ipam4("10.244.1.0/29", 0);
    EXPECT_EQ(alloc(again, "g"), Texts{"10.244.1.5"});
}

TEST_F(IpamTest, ReleaseIsIdempotent) {
    Ipam ip = ipam4("10.244.1.0/24");
    alloc(ip, "a");
    EXPECT_EQ(texts(ip.release("a", "eth0")), Texts{"10.244.1.2"});
    EXPECT_TRUE(ip.release("a", "eth0").empty());
    EXPECT_TRUE(ip.release("never", "eth0").empty());
    EXPECT_FALSE(ip.find("a", "eth0"));
    EXPECT_TRUE(ip.list().empty());
}

TEST_F(IpamTest, CooldownUsesTheClock) {
    Ipam ip = ipam4("10.244.1.0/30", 30); // one pod address: .2
    EXPECT_EQ(alloc(ip, "a"), Texts{"10.244.1.2"});
    ip.release("a", "eth0");
    now_ += 29;
    EXPECT_EQ(exhausted(ip, "b"), "no free address in 10.244.1.0/30 (0 in use, 1 cooling down)");
    EXPECT_EQ(ip.expire(), 0u);
    now_ += 1;
    EXPECT_EQ(alloc(ip, "b"), Texts{"10.244.1.2"});
    // The cooled-down row made way for the new holder.
    Statement rows = db_->prepare("SELECT count(*) FROM allocations");
    ASSERT_TRUE(rows.step());
    EXPECT_EQ(rows.column_int(0), 1);

    ip.release("b", "eth0");
    now_ += 30;
    EXPECT_EQ(ip.expire(), 1u);
    EXPECT_EQ(alloc(ip, "b"), Texts{"10.244.1.2"});
}

TEST_F(IpamTest, ReallocationAfterReleaseTakesOverTheRow) {
    Ipam ip = ipam4("10.244.1.0/24", 30);
    EXPECT_EQ(alloc(ip, "a"), Texts{"10.244.1.2"});
    ip.release("a", "eth0");
    EXPECT_EQ(alloc(ip, "a"), Texts{"10.244.1.3"});
    EXPECT_EQ(ip.list(), (std::vector<Attachment>{{"a", "eth0", ip.allocate("a", "eth0")}}));
}

TEST_F(IpamTest, ExhaustionSaysWhy) {
    Ipam ip = ipam4("10.244.1.0/24", 30);
    // One transaction (the allocations become savepoints): one sync, not 253.
    db_->transaction([&] {
        for (int i = 0; i < 253; ++i) {
            ip.allocate("c" + std::to_string(i), "eth0");
        }
    });
    for (int i = 0; i < 3; ++i) {
        ip.release("c" + std::to_string(i), "eth0");
    }
    EXPECT_EQ(exhausted(ip, "extra"),
              "no free address in 10.244.1.0/24 (250 in use, 3 cooling down)");
    EXPECT_FALSE(ip.find("extra", "eth0"));
}

// Past probe_limit busy addresses after the cursor, the one free address
// far away is still found.
TEST_F(IpamTest, CrowdedBlockFallsBackToAScan) {
    Ipam ip = ipam4("10.244.1.0/24", 0);
    db_->transaction([&] {
        for (int i = 0; i < 253; ++i) { // .2 to .254: the cursor is at the end
            ip.allocate("c" + std::to_string(i), "eth0");
        }
    });
    EXPECT_EQ(texts(ip.release("c200", "eth0")), Texts{"10.244.1.202"});
    EXPECT_EQ(alloc(ip, "late"), Texts{"10.244.1.202"}); // .2 to .201 are busy
    EXPECT_EQ(texts(ip.release("c20", "eth0")), Texts{"10.244.1.22"});
    EXPECT_EQ(texts(ip.release("c190", "eth0")), Texts{"10.244.1.192"});
    // From .203 on, wrapping around: .22 comes before .192.
    EXPECT_EQ(alloc(ip, "later"), Texts{"10.244.1.22"});
    EXPECT_EQ(alloc(ip, "last"), Texts{"10.244.1.192"});
    EXPECT_EQ(exhausted(ip, "extra"),
              "no free address in 10.244.1.0/24 (253 in use, 0 cooling down)");
}

TEST_F(IpamTest, GcReleasesWhatIsNotValid) {
    Ipam ip = ipam4("10.244.1.0/24");
    alloc(ip, "a");
    alloc(ip, "b");
    alloc(ip, "c");
    auto released = ip.gc({{"b", "eth0"}, {"gone", "eth0"}});
    EXPECT_EQ(released, (std::vector<Attachment>{{"a", "eth0", {*parse_ip("10.244.1.2")}},
                                                 {"c", "eth0", {*parse_ip("10.244.1.4")}}}));
    EXPECT_EQ(ip.list(), (std::vector<Attachment>{{"b", "eth0", {*parse_ip("10.244.1.3")}}}));
    EXPECT_TRUE(ip.gc({{"b", "eth0"}}).empty());
}

TEST_F(IpamTest, DualStack) {
    Ipam ip = ipam({prefix("10.244.1.0/24"), prefix("fd00:10:244:1::/64")});
    EXPECT_EQ(texts(ip.gateways()), (Texts{"10.244.1.1", "fd00:10:244:1::1"}));
    EXPECT_EQ(alloc(ip, "a"), (Texts{"10.244.1.2", "fd00:10:244:1::2"}));
    EXPECT_EQ(alloc(ip, "b"), (Texts{"10.244.1.3", "fd00:10:244:1::3"}));
    EXPECT_EQ(alloc(ip, "a"), (Texts{"10.244.1.2", "fd00:10:244:1::2"}));
    EXPECT_EQ(texts(ip.release("b", "eth0")), (Texts{"10.244.1.3", "fd00:10:244:1::3"}));
}

TEST_F(IpamTest, Ipv6Blocks) {
    // The last address of an IPv6 block is a pod address: there is no
    // broadcast address; and the walk wraps past the end of a /64.
    Ipam small = ipam({prefix("fd00::ff00/126")}, 0);
    EXPECT_EQ(alloc(small, "a"), Texts{"fd00::ff02"});
    EXPECT_EQ(alloc(small, "b"), Texts{"fd00::ff03"});
    EXPECT_THROW(small.allocate("c", "eth0"), AddressesExhausted);

    db_->set_meta("ipam.cursor6", "fd00:1:2:3:ffff:ffff:ffff:fffe");
    Ipam big = ipam({prefix("fd00:1:2:3::/64")}, 0);
    EXPECT_EQ(alloc(big, "x"), Texts{"fd00:1:2:3:ffff:ffff:ffff:ffff"});
    EXPECT_EQ(alloc(big, "y"), Texts{"fd00:1:2:3::2"});
}

TEST_F(IpamTest, IsAtomicAcrossFamilies) {
    Ipam ip = ipam({prefix("10.244.1.0/30"), prefix("fd00::/64")});
    EXPECT_EQ(alloc(ip, "a"), (Texts{"10.244.1.2", "fd00::2"}));
    EXPECT_THROW(ip.allocate("b", "eth0"), AddressesExhausted);
    EXPECT_FALSE(ip.find("b", "eth0"));
    EXPECT_EQ(ip.list().size(), 1u);
}

TEST_F(IpamTest, RejectsBadBlocksAndNames) {
    auto bad = [&](std::vector<Prefix> blocks) {
        EXPECT_THROW(ipam(std::move(blocks)), std::invalid_argument);
    };
    bad({});
    bad({prefix("10.244.1.1/24")});
    bad({prefix("10.244.1.0/31")});
    bad({prefix("fd00::/48")});
    bad({prefix("fd00::/127")});
    bad({prefix("10.244.1.0/24"), prefix("10.244.2.0/24")});
    Ipam ip = ipam4("10.244.1.0/24");
    EXPECT_THROW(ip.allocate("", "eth0"), std::invalid_argument);
    EXPECT_THROW(ip.allocate("a", ""), std::invalid_argument);
}

// Crash safety: child processes allocate and release in a loop on the same
// file and are SIGKILLed at random moments, alone or two at a time. Each
// child reports on a pipe what it is about to do ("a ID", "r ID") and what
// it has done ("A ID ADDR", "R ID"); whatever a child reported done must be
// in the database afterwards, and the database must be sound.

const char* const crash_block = "10.244.1.0/25";

void report(int fd, const std::string& line) {
    std::string text = line + "\n";
    // Lines are shorter than PIPE_BUF, so each write is whole.
    if (write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
        _exit(3);
    }
}

[[noreturn]] void churn(const std::string& path, const std::string& prefix_id, int out,
                        unsigned seed) {
    try {
        Db db(path);
        Ipam ip(db, {prefix(crash_block)}, 0);
        std::mt19937 rng(seed);
        std::vector<std::string> held;
        for (int i = 0; i < 1'000'000; ++i) {
            if (!held.empty() && (held.size() >= 40 || rng() % 3 == 0)) {
                auto at = held.begin() + static_cast<std::ptrdiff_t>(rng() % held.size());
                report(out, "r " + *at);
                ip.release(*at, "eth0");
                report(out, "R " + *at);
                held.erase(at);
            } else {
                std::string id = prefix_id + std::to_string(i);
                report(out, "a " + id);
                auto addrs = ip.allocate(id, "eth0");
                report(out, "A " + id + " " + to_string(addrs.at(0)));
                held.push_back(id);
            }
            if (i % 64 == 63) {
                ip.expire();
            }
        }
        _exit(0);
    } catch (const std::exception& e) {
        report(out, std::string("E ") + e.what());
        _exit(1);
    }
}

struct Child {
    pid_t pid = -1;
    UniqueFd out;
    std::string text;
};

// What the children's reports say about one ID.
struct Expected {
    enum { allocating, active, releasing, released } state = allocating;
    std::string addr;
};

void read_some(Child& child) {
    char buf[4096];
    ssize_t n = read(child.out.get(), buf, sizeof(buf));
    if (n > 0) {
        child.text.append(buf, static_cast<std::size_t>(n));
    }
}

// Runs `count` children for `run_for`, then kills them and returns their
// reports.
std::string crash_round(const std::string& path, int round, int count,
                        std::chrono::milliseconds run_for, std::mt19937& rng) {
    std::vector<Child> children(static_cast<std::size_t>(count));
    for (int c = 0; c < count; ++c) {
        int fds[2];
        if (pipe(fds) != 0) {
            ADD_FAILURE() << "pipe: " << std::strerror(errno);
            return {};
        }
        UniqueFd read_end(fds[0]);
        UniqueFd write_end(fds[1]);
        unsigned seed = static_cast<unsigned>(rng());
        pid_t pid = fork();
        if (pid == 0) {
            churn(path, "r" + std::to_string(round) + "c" + std::to_string(c) + "n",
                  write_end.get(), seed);
        }
        EXPECT_GT(pid, 0) << std::strerror(errno);
        children[static_cast<std::size_t>(c)].pid = pid;
        children[static_cast<std::size_t>(c)].out = std::move(read_end);
    }
    // Read while they run, so that no child blocks on a full pipe.
    auto deadline = std::chrono::steady_clock::now() + run_for;
    while (std::chrono::steady_clock::now() < deadline) {
        std::vector<pollfd> pfds;
        for (auto& child : children) {
            pfds.push_back(pollfd{child.out.get(), POLLIN, 0});
        }
        poll(pfds.data(), pfds.size(), 5);
        for (std::size_t i = 0; i < pfds.size(); ++i) {
            if (pfds[i].revents & POLLIN) {
                read_some(children[i]);
            }
        }
    }
    std::string all;
    for (auto& child : children) {
        if (child.pid <= 0) {
            continue;
        }
        kill(child.pid, SIGKILL);
        int status = 0;
        waitpid(child.pid, &status, 0);
        // Drain to EOF: the child's write end is closed now.
        ssize_t n;
        char buf[4096];
        while ((n = read(child.out.get(), buf, sizeof(buf))) > 0) {
            child.text.append(buf, static_cast<std::size_t>(n));
        }
        bool killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
        EXPECT_TRUE(killed) << "a child ended by itself (status " << status << "): " << child.text;
        all += child.text;
    }
    return all;
}

std::map<std::string, Expected> parse_reports(const std::string& reports) {
    std::map<std::string, Expected> ids;
    std::istringstream in(reports);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        std::string op, id, addr;
        words >> op >> id >> addr;
        if (op == "a") {
            ids[id].state = Expected::allocating;
        } else if (op == "A") {
            ids[id] = Expected{Expected::active, addr};
        } else if (op == "r") {
            ids[id].state = Expected::releasing;
        } else if (op == "R") {
            ids[id].state = Expected::released;
        } else {
            // Whole lines only: each is one write() shorter than PIPE_BUF.
            ADD_FAILURE() << "child reported: " << line;
        }
    }
    return ids;
}

void check_database(const std::string& path, const std::map<std::string, Expected>& ids) {
    Db db(path);
    Statement integrity = db.prepare("PRAGMA integrity_check");
    ASSERT_TRUE(integrity.step());
    EXPECT_EQ(integrity.column_text(0), "ok");

    Statement twice = db.prepare("SELECT addr, count(*) FROM allocations "
                                 "WHERE state = 'active' GROUP BY addr HAVING count(*) > 1");
    while (twice.step()) {
        ADD_FAILURE() << twice.column_text(0) << " is held " << twice.column_int(1) << " times";
    }

    Ipam ip(db, {prefix(crash_block)}, 0);
    std::set<std::string> seen;
    for (const auto& attachment : ip.list()) {
        ASSERT_EQ(attachment.addrs.size(), 1u);
        std::string addr = to_string(attachment.addrs[0]);
        EXPECT_TRUE(seen.insert(addr).second) << addr << " listed twice";
        auto v4 = std::get<Ipv4>(attachment.addrs[0]);
        bool inside = v4[0] == 10 && v4[1] == 244 && v4[2] == 1 && v4[3] < 128;
        EXPECT_TRUE(inside && v4[3] >= 2 && v4[3] <= 126)
            << attachment.container_id << " holds " << addr;
    }

    std::set<std::string> confirmed;
    for (const auto& [id, expected] : ids) {
        auto found = ip.find(id, "eth0");
        std::string now = found ? to_string(found->addrs.at(0)) : "";
        switch (expected.state) {
        case Expected::active:
            EXPECT_EQ(now, expected.addr) << id;
            EXPECT_EQ(texts(ip.allocate(id, "eth0")), Texts{expected.addr}) << id;
            EXPECT_TRUE(confirmed.insert(expected.addr).second) << expected.addr << " given twice";
            break;
        case Expected::releasing:
            EXPECT_TRUE(now.empty() || now == expected.addr) << id << ": " << now;
            break;
        case Expected::released:
            EXPECT_EQ(now, "") << id;
            break;
        case Expected::allocating:
            break;
        }
    }
    // Start the next round from an empty table, as the garbage collection
    // after a restart would.
    ip.gc({});
    EXPECT_TRUE(ip.list().empty());
}

TEST_F(IpamTest, SurvivesSigkill) {
    // The children open the file themselves; nothing of SQLite's may cross
    // a fork.
    db_.reset();
    std::random_device device;
    unsigned seed = device();
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    std::size_t confirmed = 0;
    for (int round = 0; round < 14; ++round) {
        SCOPED_TRACE("round " + std::to_string(round));
        int count = round < 6 ? 1 : 2;
        auto run_for = std::chrono::milliseconds(20 + rng() % 130);
        auto ids = parse_reports(crash_round(path_, round, count, run_for, rng));
        for (const auto& [id, e] : ids) {
            confirmed += e.state == Expected::active;
        }
        check_database(path_, ids);
        if (HasFailure()) {
            break;
        }
    }
    // The test is only worth something if the children got work done.
    EXPECT_GT(confirmed, 0u);
}

} // namespace
} // namespace weft
