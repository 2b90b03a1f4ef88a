// The weft tool without a kernel: options, grammar, output, errors, batch.
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include <unistd.h>

#include <linux/weft.h>

#include <weft/error.hpp>

#include <gtest/gtest.h>

#include "cli.hpp"
#include "cli_fixture.hpp"

namespace weft::cli {
namespace {

using namespace test;

const char* const weft0_text = "4: weft0: vni 1 port 4789 mtu 1450\n"
                               "    local 192.0.2.11 underlay eth0 vtep-mac 02:aa:bb:cc:dd:ee "
                               "crosssubnet off generation 3\n";

// ---- global options ---------------------------------------------------------

TEST_F(Cli, Version) {
    for (const char* opt : {"-V", "--version", "-Version"}) {
        EXPECT_EQ(run({opt}), 0);
        EXPECT_EQ(out.str(), "weft utility, weft-" WEFT_VERSION "\n");
        EXPECT_EQ(err.str(), "");
    }
    EXPECT_EQ(connects, 0);
}

TEST_F(Cli, HelpGoesToStdout) {
    for (std::vector<std::string> argv :
         {std::vector<std::string>{"help"}, {"-h"}, {"--help"}, {"h"}}) {
        EXPECT_EQ(run(argv), 0) << argv[0];
        EXPECT_NE(out.str().find("Usage: weft [ OPTIONS ] OBJECT { COMMAND | help }"),
                  std::string::npos);
        EXPECT_NE(out.str().find("OBJECT := { link | node | route | endpoint }"), std::string::npos)
            << out.str();
        EXPECT_EQ(err.str(), "");
    }
    EXPECT_EQ(connects, 0);
}

TEST_F(Cli, LinkHelp) {
    for (std::vector<std::string> argv : {std::vector<std::string>{"link", "help"},
                                          {"link", "set", "help"},
                                          {"link", "show", "help"}}) {
        EXPECT_EQ(run(argv), 0);
        EXPECT_NE(out.str().find("Usage: weft link show [ [ dev ] NAME ]"), std::string::npos);
        EXPECT_NE(out.str().find("[ crosssubnet { on | off } ]"), std::string::npos);
    }
    EXPECT_EQ(connects, 0);
}

TEST_F(Cli, NoObjectIsAUsageError) {
    EXPECT_EQ(run({}), 1);
    EXPECT_EQ(out.str(), "");
    EXPECT_NE(err.str().find("Usage: weft"), std::string::npos);
    EXPECT_EQ(run({"-j"}), 1);
}

TEST_F(Cli, UnknownOption) {
    EXPECT_EQ(run({"-x", "link"}), 1);
    EXPECT_EQ(err.str(), "Option \"-x\" is unknown, try \"weft -help\".\n");
    EXPECT_EQ(run({"-b"}), 1);
    EXPECT_NE(err.str().find("Error: "), std::string::npos);
}

TEST_F(Cli, OptionsStopAtTheObject) {
    CommandLine cl = parse_command_line({"-s", "-stats", "-j", "-pretty", "-n", "blue", "link",
                                         "set", "dev", "weft0", "vni", "-1"});
    EXPECT_EQ(cl.options.stats, 2);
    EXPECT_TRUE(cl.options.json);
    EXPECT_TRUE(cl.options.pretty);
    EXPECT_EQ(cl.options.netns, "blue");
    EXPECT_FALSE(cl.options.batch);
    EXPECT_EQ(cl.args, (std::vector<std::string>{"link", "set", "dev", "weft0", "vni", "-1"}));

    cl = parse_command_line({"--netns=red", "-batch", "file", "-force", "--", "-odd"});
    EXPECT_EQ(cl.options.netns, "red");
    EXPECT_EQ(cl.options.batch, "file");
    EXPECT_TRUE(cl.options.force);
    EXPECT_EQ(cl.args, std::vector<std::string>{"-odd"});

    cl = parse_command_line({"-statistics", "-s", "--stats", "link"});
    EXPECT_EQ(cl.options.stats, 3);
}

TEST_F(Cli, NetnsIsEnteredBeforeConnecting) {
    EXPECT_EQ(run({"-n", "blue", "link", "show"}), 0);
    EXPECT_EQ(events, (std::vector<std::string>{"netns blue", "connect"}));
}

TEST_F(Cli, NetnsFailure) {
    env.enter_netns = [](const std::string& name) {
        throw UsageError("Cannot open network namespace \"" + name + "\": No such file");
    };
    EXPECT_EQ(run({"-n", "nosuch", "link"}), 1);
    EXPECT_EQ(err.str(), "Cannot open network namespace \"nosuch\": No such file\n");
    EXPECT_EQ(connects, 0);
}

// ---- objects and commands ---------------------------------------------------

TEST_F(Cli, UnknownObjectAndCommand) {
    EXPECT_EQ(run({"foo"}), 1);
    EXPECT_EQ(err.str(), "Object \"foo\" is unknown, try \"weft help\".\n");
    EXPECT_EQ(run({"link", "foo"}), 1);
    EXPECT_EQ(err.str(), "Command \"foo\" is unknown, try \"weft link help\".\n");
    EXPECT_EQ(run({"link", "s"}), 1);
    EXPECT_EQ(err.str(), "Command \"s\" is ambiguous (show, set), try \"weft link help\".\n");
    EXPECT_EQ(connects, 0);
}

TEST_F(Cli, Prefixes) {
    EXPECT_EQ(run({"l", "sh"}), 0);
    EXPECT_EQ(out.str(), weft0_text);
    EXPECT_EQ(run({"li", "se", "weft0", "vni", "7"}), 0);
    ASSERT_EQ(state->sets.size(), 1u);
    EXPECT_EQ(state->sets[0].vni, 7u);
    EXPECT_EQ(run({"link"}), 0) << "link alone shows";
    EXPECT_EQ(out.str(), weft0_text);
}

TEST(FindCommand, ExactBeatsPrefix) {
    static const Command table[] = {{"set", nullptr}, {"settle", nullptr}, {"show", nullptr}};
    EXPECT_STREQ(find_command(table, "set", "Command", "x").name, "set");
    EXPECT_STREQ(find_command(table, "sett", "Command", "x").name, "settle");
    EXPECT_STREQ(find_command(table, "sh", "Command", "x").name, "show");
    EXPECT_THROW(find_command(table, "s", "Command", "x"), UsageError);
    EXPECT_THROW(find_command(table, "", "Command", "x"), UsageError);
    EXPECT_THROW(find_command(table, "sets", "Command", "x"), UsageError);
}

TEST(Objects, TableHasLinkAndHelp) {
    auto objs = objects();
    ASSERT_GE(objs.size(), 2u);
    EXPECT_STREQ(objs[0].name, "link");
    EXPECT_STREQ(objs.back().name, "help");
}

// ---- link show --------------------------------------------------------------

TEST_F(Cli, ShowText) {
    DeviceInfo second = weft0();
    second.ifindex = 5;
    second.ifname = "weft1";
    second.settings.local4.reset();
    second.settings.local6 = *parse_ipv6("2001:db8::1");
    second.settings.underlay = 0;
    second.settings.crosssubnet = true;
    state->devices.push_back(second);
    EXPECT_EQ(run({"link", "show"}), 0);
    EXPECT_EQ(out.str(), std::string(weft0_text) +
                             "5: weft1: vni 1 port 4789 mtu 1450\n"
                             "    local 2001:db8::1 underlay none vtep-mac 02:aa:bb:cc:dd:ee "
                             "crosssubnet on generation 3\n");
    EXPECT_EQ(state->dumps, 1);
}

TEST_F(Cli, ShowNoLocalAndUnknownUnderlay) {
    DeviceInfo d = weft0();
    d.settings.local4.reset();
    d.settings.underlay = 99;
    EXPECT_NE(format_device(d, 0, env.index_to_name).find("local any underlay if99 "),
              std::string::npos);
}

TEST_F(Cli, ShowOneDevice) {
    EXPECT_EQ(run({"link", "show", "dev", "weft0"}), 0);
    EXPECT_EQ(out.str(), weft0_text);
    EXPECT_EQ(state->gets, std::vector<std::string>{"weft0"});
    EXPECT_EQ(state->dumps, 0);
    EXPECT_EQ(run({"link", "show", "weft0"}), 0);
    EXPECT_EQ(out.str(), weft0_text);
}

TEST_F(Cli, ShowUnknownDevice) {
    EXPECT_EQ(run({"link", "show", "dev", "nosuch"}), 1);
    EXPECT_EQ(err.str(), "Cannot find device \"nosuch\"\n");
    EXPECT_EQ(connects, 0);
    // Known to the system but gone from the kernel's view: same answer.
    EXPECT_EQ(run({"link", "show", "dev", "weft1"}), 1);
    EXPECT_EQ(err.str(), "Cannot find device \"weft1\"\n");
}

TEST_F(Cli, ShowGarbage) {
    EXPECT_EQ(run({"link", "show", "dev", "weft0", "extra"}), 1);
    EXPECT_EQ(err.str(), "Error: either \"dev\" is duplicate, or \"extra\" is a garbage.\n");
    EXPECT_EQ(run({"link", "show", "dev"}), 1);
    EXPECT_EQ(err.str(), "Command line is not complete. Try option \"help\"\n");
}

TEST_F(Cli, ShowStats) {
    state->devices[0].stats = some_stats();
    EXPECT_EQ(run({"-s", "link", "show"}), 0);
    EXPECT_EQ(out.str(), std::string(weft0_text) + "    RX:  bytes packets drops\n"
                                                   "        123456     100     2\n"
                                                   "    TX:  bytes packets drops\n"
                                                   "        654321     200     1\n"
                                                   "    drops: no-route 1 bad-vni 2\n");
    EXPECT_EQ(run({"-s", "-s", "link", "show"}), 0);
    EXPECT_NE(out.str().find(
                  "    drops: no-route 1 no-node 0 bad-header 0 bad-vni 2 "
                  "unknown-peer 0 policy 0 too-big 0 no-memory 0 proto 0 no-underlay 0 encap 0\n"),
              std::string::npos)
        << out.str();
    EXPECT_EQ(run({"link", "show"}), 0);
    EXPECT_EQ(out.str(), weft0_text) << "no counters without -s";
}

TEST_F(Cli, ShowJson) {
    EXPECT_EQ(run({"-j", "link", "show"}), 0);
    auto j = nlohmann::json::parse(out.str());
    ASSERT_TRUE(j.is_array());
    ASSERT_EQ(j.size(), 1u);
    const auto& d = j[0];
    EXPECT_EQ(d["ifindex"], 4);
    EXPECT_EQ(d["ifname"], "weft0");
    EXPECT_EQ(d["vni"], 1);
    EXPECT_EQ(d["port"], 4789);
    EXPECT_EQ(d["mtu"], 1450);
    EXPECT_EQ(d["local4"], "192.0.2.11");
    EXPECT_TRUE(d["local6"].is_null());
    EXPECT_EQ(d["underlay"], "eth0");
    EXPECT_EQ(d["underlay_ifindex"], 2);
    EXPECT_EQ(d["vtep_mac"], "02:aa:bb:cc:dd:ee");
    EXPECT_EQ(d["crosssubnet"], false);
    EXPECT_EQ(d["generation"], 3);
    EXPECT_FALSE(d.contains("stats"));
    std::string text = out.str();
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << "compact by default";
}

TEST_F(Cli, ShowJsonStatsPretty) {
    state->devices[0].stats = some_stats();
    EXPECT_EQ(run({"-j", "-p", "-s", "link", "show"}), 0);
    EXPECT_NE(out.str().find("\n    {\n        \"ifindex\": 4,"), std::string::npos) << out.str();
    auto j = nlohmann::json::parse(out.str());
    const auto& st = j[0]["stats"];
    EXPECT_EQ(st["rx"]["bytes"], 123456);
    EXPECT_EQ(st["rx"]["packets"], 100);
    EXPECT_EQ(st["tx"]["drops"], 1);
    EXPECT_EQ(st["drops"]["no-route"], 1);
    EXPECT_EQ(st["drops"]["bad-vni"], 2);
    EXPECT_EQ(st["drops"]["proto"], 0);
    EXPECT_EQ(st["drops"].size(), drop_reason_count);
}

TEST_F(Cli, ShowJsonEmpty) {
    state->devices.clear();
    EXPECT_EQ(run({"-j", "link"}), 0);
    EXPECT_EQ(out.str(), "[]\n");
}

// ---- link set ---------------------------------------------------------------

TEST_F(Cli, SetSendsTheRequest) {
    EXPECT_EQ(
        run({"link", "set", "dev", "weft0", "vni", "42", "port", "8472", "vtep-mac",
             "02:00:00:00:00:01", "crosssubnet", "on", "local", "192.0.2.1", "underlay", "eth0"}),
        0);
    EXPECT_EQ(out.str(), "");
    EXPECT_EQ(err.str(), "");
    ASSERT_EQ(state->sets.size(), 1u);
    const auto& r = state->sets[0];
    EXPECT_EQ(r.dev.ifname, "weft0");
    EXPECT_EQ(r.vni, 42u);
    EXPECT_EQ(r.port, 8472);
    EXPECT_EQ(r.vtep_mac, (Mac{2, 0, 0, 0, 0, 1}));
    EXPECT_EQ(r.crosssubnet, true);
    EXPECT_EQ(r.local4, (Ipv4{192, 0, 2, 1}));
    EXPECT_FALSE(r.local6);
    EXPECT_EQ(r.underlay, 2u);
}

TEST_F(Cli, SetUnknownDevice) {
    EXPECT_EQ(run({"link", "set", "dev", "nosuch", "vni", "1"}), 1);
    EXPECT_EQ(err.str(), "Cannot find device \"nosuch\"\n");
    EXPECT_EQ(connects, 0);
}

TEST_F(Cli, KernelErrorsExitTwoWithExtack) {
    state->fail = Error(ERANGE, "integer out of range", "WEFT_DEV_A_VNI", "");
    EXPECT_EQ(run({"link", "set", "weft0", "vni", "5"}), 2);
    EXPECT_EQ(err.str(), "Error: Numerical result out of range: integer out of range "
                         "(attribute WEFT_DEV_A_VNI)\n");
    state->fail = Error(EINVAL, "vtep mac must be unicast", "WEFT_DEV_A_VTEP_MAC", "");
    EXPECT_EQ(run({"link", "set", "weft0", "vtep-mac", "01:00:5e:00:00:01"}), 2);
    EXPECT_EQ(err.str(), "Error: Invalid argument: vtep mac must be unicast "
                         "(attribute WEFT_DEV_A_VTEP_MAC)\n");
    state->fail = Error(EOPNOTSUPP, "not a weft device", "", "");
    EXPECT_EQ(run({"link", "show", "dev", "eth0"}), 2);
    EXPECT_EQ(err.str(), "Error: Operation not supported: not a weft device\n");
    state->fail = Error(ENODEV, "", "", "");
    EXPECT_EQ(run({"link", "set", "weft0", "vni", "5"}), 1);
    EXPECT_EQ(err.str(), "Cannot find device \"weft0\"\n");
}

TEST_F(Cli, MissingModule) {
    connect_error = FamilyNotFound();
    EXPECT_EQ(run({"link", "show"}), 2);
    EXPECT_EQ(err.str(),
              "Error: the weft generic netlink family is not available: is weft.ko loaded?\n");
}

DevSetRequest parse(std::vector<std::string> args) {
    return parse_link_set(args, fake_names());
}

std::string parse_error(std::vector<std::string> args) {
    try {
        parse(args);
    } catch (const UsageError& e) {
        return e.what();
    }
    return "(accepted)";
}

TEST(LinkSetGrammar, Values) {
    EXPECT_EQ(parse({"dev", "weft0", "vni", "0"}).vni, 0u);
    EXPECT_EQ(parse({"dev", "weft0", "vni", "16777215"}).vni, 16777215u);
    EXPECT_EQ(parse({"dev", "weft0", "vni", "0x10"}).vni, 16u);
    EXPECT_EQ(parse({"dev", "weft0", "port", "1"}).port, 1);
    EXPECT_EQ(parse({"dev", "weft0", "port", "65535"}).port, 65535);
    EXPECT_EQ(parse({"weft0", "crosssubnet", "off"}).crosssubnet, false);
    EXPECT_EQ(parse({"weft0", "underlay", "none"}).underlay, 0u);
    EXPECT_EQ(parse({"weft0", "underlay", "eth0"}).underlay, 2u);
    auto r = parse({"weft0", "local", "2001:db8::5"});
    EXPECT_FALSE(r.local4);
    EXPECT_EQ(r.local6, parse_ipv6("2001:db8::5"));
    r = parse({"weft0", "local", "192.0.2.1", "local", "2001:db8::5"});
    EXPECT_TRUE(r.local4 && r.local6);
    r = parse({"weft0", "local", "any"});
    EXPECT_EQ(r.local4, Ipv4{});
    EXPECT_EQ(r.local6, Ipv6{});
    EXPECT_EQ(r.dev.ifname, "weft0");
    EXPECT_EQ(r.dev.ifindex, 0u);
}

TEST(LinkSetGrammar, Errors) {
    const std::pair<std::vector<std::string>, std::string> cases[] = {
        {{"dev", "weft0", "vni", "16777216"},
         "Error: argument \"16777216\" is wrong: vni must be 0..16777215"},
        {{"dev", "weft0", "vni", "99999999"},
         "Error: argument \"99999999\" is wrong: vni must be 0..16777215"},
        {{"dev", "weft0", "vni", "-1"}, "Error: argument \"-1\" is wrong: vni must be 0..16777215"},
        {{"dev", "weft0", "vni", "1x"}, "Error: argument \"1x\" is wrong: vni must be 0..16777215"},
        {{"dev", "weft0", "vni", ""}, "Error: argument \"\" is wrong: vni must be 0..16777215"},
        {{"dev", "weft0", "port", "0"}, "Error: argument \"0\" is wrong: port must be 1..65535"},
        {{"dev", "weft0", "port", "65536"},
         "Error: argument \"65536\" is wrong: port must be 1..65535"},
        {{"dev", "weft0", "local", "192.0.2"},
         "Error: argument \"192.0.2\" is wrong: local must be an IPv4 or IPv6 address, or "
         "\"any\""},
        {{"dev", "weft0", "vtep-mac", "02:00:00:00:00"},
         "Error: argument \"02:00:00:00:00\" is wrong: vtep-mac must be a MAC address like "
         "02:00:00:00:00:01"},
        {{"dev", "weft0", "crosssubnet", "yes"},
         "Error: argument \"yes\" is wrong: crosssubnet must be \"on\" or \"off\""},
        {{"dev", "weft0", "underlay", "nosuch"}, "Cannot find device \"nosuch\""},
        {{"dev", "weft0", "vni"}, "Command line is not complete. Try option \"help\""},
        {{"vni", "5"}, "Not enough information: \"dev\" argument is required."},
        {{"dev", "weft0"}, "Error: nothing to change on \"weft0\", see \"weft link help\"."},
        {{"dev", "weft0", "vni", "1", "vni", "2"},
         "Error: duplicate \"vni\": \"2\" is the second value."},
        {{"dev", "weft0", "dev", "weft1", "vni", "1"},
         "Error: duplicate \"dev\": \"weft1\" is the second value."},
        {{"dev", "weft0", "local", "any", "local", "192.0.2.1"},
         "Error: duplicate \"local\": \"192.0.2.1\" is the second value."},
        {{"weft0", "bogus", "1"}, "Error: either \"dev\" is duplicate, or \"bogus\" is a garbage."},
        {{"dev", "a-name-that-is-far-too-long", "vni", "1"},
         "Error: argument \"a-name-that-is-far-too-long\" is wrong: \"dev\" not a valid ifname"},
    };
    for (const auto& [args, message] : cases) {
        EXPECT_EQ(parse_error(args), message) << testing::PrintToString(args);
    }
}

TEST_F(Cli, UsageErrorsExitOneWithoutConnecting) {
    EXPECT_EQ(run({"link", "set", "dev", "weft0", "vni", "99999999"}), 1);
    EXPECT_EQ(err.str(), "Error: argument \"99999999\" is wrong: vni must be 0..16777215\n");
    EXPECT_EQ(out.str(), "");
    EXPECT_EQ(connects, 0);
}

TEST(ParseUint, Bounds) {
    EXPECT_EQ(parse_uint("0", 5), 0u);
    EXPECT_EQ(parse_uint("5", 5), 5u);
    EXPECT_EQ(parse_uint("6", 5), std::nullopt);
    EXPECT_EQ(parse_uint("0xff", 255), 255u);
    EXPECT_EQ(parse_uint("0x", 255), std::nullopt);
    EXPECT_EQ(parse_uint("+1", 255), std::nullopt);
    EXPECT_EQ(parse_uint(" 1", 255), std::nullopt);
    EXPECT_EQ(parse_uint("99999999999999999999999", UINT64_MAX), std::nullopt);
}

// ---- batch ------------------------------------------------------------------

TEST(BatchSplit, Words) {
    using V = std::vector<std::string>;
    EXPECT_EQ(split_batch_line("link set dev weft0 vni 5"),
              (V{"link", "set", "dev", "weft0", "vni", "5"}));
    EXPECT_EQ(split_batch_line("  \tlink   show  \r"), (V{"link", "show"}));
    EXPECT_EQ(split_batch_line(""), V{});
    EXPECT_EQ(split_batch_line("# a comment"), V{});
    EXPECT_EQ(split_batch_line("link show # trailing comment"), (V{"link", "show"}));
    EXPECT_EQ(split_batch_line("link show dev a#b"), (V{"link", "show", "dev", "a#b"}));
    EXPECT_EQ(split_batch_line("a \"b c\" 'd e' f\"g h\"i"), (V{"a", "b c", "d e", "fg hi"}));
    EXPECT_EQ(split_batch_line("\"\" x"), (V{"", "x"}));
    EXPECT_EQ(split_batch_line(R"(a\ b "c\"d" 'e\f')"), (V{"a b", "c\"d", "e\\f"}));
    EXPECT_EQ(split_batch_line("\"#not a comment\""), V{"#not a comment"});
    EXPECT_THROW(split_batch_line("link \"show"), UsageError);
    EXPECT_THROW(split_batch_line("link 'show"), UsageError);
}

TEST_F(Batch, RunsEveryLine) {
    auto file = write("# set up weft0\n"
                      "\n"
                      "link set dev weft0 vni 5\n"
                      "link set dev weft0 \\\n"
                      "   port 8472\n"
                      "link show\n");
    EXPECT_EQ(run({"-batch", file}), 0);
    ASSERT_EQ(state->sets.size(), 2u);
    EXPECT_EQ(state->sets[0].vni, 5u);
    EXPECT_EQ(state->sets[1].port, 8472);
    EXPECT_EQ(out.str(), weft0_text);
    EXPECT_EQ(connects, 1) << "one connection for the whole batch";
}

TEST_F(Batch, StopsAtFirstError) {
    auto file = write("link set dev weft0 vni 5\n"
                      "link set dev weft0 vni 99999999\n"
                      "link set dev weft0 vni 6\n");
    EXPECT_EQ(run({"-b", file}), 1);
    EXPECT_EQ(state->sets.size(), 1u);
    EXPECT_EQ(err.str(), "Error: argument \"99999999\" is wrong: vni must be 0..16777215\n"
                         "Command failed " +
                             file + ":2\n");
}

TEST_F(Batch, ForceGoesOn) {
    auto file = write("link set dev weft0 vni 5\n"
                      "link set dev weft0 vni 99999999\n"
                      "bogus\n"
                      "link set dev weft0 \"vni\" '6'\n");
    EXPECT_EQ(run({"-force", "-batch", file}), 1);
    ASSERT_EQ(state->sets.size(), 2u);
    EXPECT_EQ(state->sets[1].vni, 6u);
    EXPECT_NE(err.str().find("Command failed " + file + ":2\n"), std::string::npos);
    EXPECT_NE(err.str().find("Object \"bogus\" is unknown, try \"weft help\".\nCommand failed " +
                             file + ":3\n"),
              std::string::npos)
        << err.str();
}

TEST_F(Batch, KernelErrorStatusAndQuoteError) {
    state->fail = Error(EPERM, "", "", "");
    auto file = write("link set dev weft0 vni 5\n");
    EXPECT_EQ(run({"-batch", file}), 2);
    EXPECT_EQ(err.str(), "Error: Operation not permitted\nCommand failed " + file + ":1\n");
    auto quote = write("link show 'weft0\n");
    EXPECT_EQ(run({"-batch", quote}), 1);
    EXPECT_EQ(err.str(), "Error: unterminated single quote\nCommand failed " + quote + ":1\n");
}

TEST_F(Batch, Stdin) {
    in.str("link set weft0 vni 9\n");
    EXPECT_EQ(run({"-batch", "-"}), 0);
    ASSERT_EQ(state->sets.size(), 1u);
    EXPECT_EQ(state->sets[0].vni, 9u);
}

TEST_F(Batch, MissingFileAndStrayObject) {
    EXPECT_EQ(run({"-batch", "/nonexistent/weft-batch"}), 1);
    EXPECT_EQ(err.str(),
              "Cannot open file \"/nonexistent/weft-batch\" for reading: No such file or "
              "directory\n");
    EXPECT_EQ(run({"-batch", "-", "link"}), 1);
}

} // namespace
} // namespace weft::cli
