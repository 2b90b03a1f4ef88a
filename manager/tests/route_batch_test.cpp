// Batch mode with route changes: consecutive lines go to the kernel together,
// in requests below 64 KiB, and a failure still names its line.
#include "cli_fixture.hpp"

namespace weft::cli {
namespace {

using namespace test;

class RouteBatch : public Batch {
protected:
    RouteBatch() {
        for (const char* addr : {"10.0.0.2", "10.0.0.3"}) {
            NodeInfo n;
            n.ifindex = 4;
            n.addr = *parse_ip(addr);
            state->nodes["weft0"].push_back(n);
        }
    }
    // "route add 10.X.Y.0/24 via 10.0.0.2" for i in [first, first + n)
    static std::string adds(int first, int n, const std::string& extra = "") {
        std::string text;
        for (int i = first; i < first + n; ++i) {
            text += "route add 10." + std::to_string(i / 256) + "." + std::to_string(i % 256) +
                    ".0/24 via 10.0.0.2" + extra + "\n";
        }
        return text;
    }
    std::size_t table_size() { return state->routes["weft0"].size(); }
};

TEST_F(RouteBatch, ConsecutiveLinesShareARequest) {
    auto file = write("route add 10.1.0.0/24 via 10.0.0.2\n"
                      "route add 10.2.0.0/24 via 10.0.0.3\n"
                      "# a comment does not split the group\n"
                      "\n"
                      "route add fd00::/64 via 10.0.0.2\n"
                      "node add 10.0.0.4\n"
                      "route del 10.1.0.0/24\n"
                      "r d 10.2.0.0/24\n");
    EXPECT_EQ(run({"-batch", file}), 0) << err.str();
    EXPECT_EQ(state->events, (std::vector<std::string>{"route add 3", "node add", "route del 2"}));
    EXPECT_EQ(table_size(), 1u);
    EXPECT_EQ(connects, 1);
}

TEST_F(RouteBatch, GroupsSplitOnOperationReplaceAndDevice) {
    state->devices.push_back(weft1());
    state->nodes["weft1"] = state->nodes["weft0"];
    auto file = write("route add 10.1.0.0/24 via 10.0.0.2 dev weft0\n"
                      "route add 10.2.0.0/24 via 10.0.0.2 dev weft0\n"
                      "route replace 10.1.0.0/24 via 10.0.0.3 dev weft0\n"
                      "route add 10.3.0.0/24 via 10.0.0.2 dev weft0 replace\n"
                      "route add 10.1.0.0/24 via 10.0.0.2 dev weft1\n"
                      "route del 10.2.0.0/24 dev weft0\n");
    EXPECT_EQ(run({"-batch", file}), 0) << err.str();
    ASSERT_EQ(state->route_requests.size(), 4u);
    EXPECT_EQ(state->route_requests[0].routes.size(), 2u);
    EXPECT_FALSE(state->route_requests[0].replace);
    EXPECT_EQ(state->route_requests[1].routes.size(), 2u) << "replace and add ... replace";
    EXPECT_TRUE(state->route_requests[1].replace);
    EXPECT_EQ(state->route_requests[2].dev, "weft1");
    EXPECT_FALSE(state->route_requests[3].add);
    EXPECT_EQ(state->routes["weft0"],
              (std::vector<Route>{Route{*parse_prefix("10.1.0.0/24"), *parse_ip("10.0.0.3")},
                                  Route{*parse_prefix("10.3.0.0/24"), *parse_ip("10.0.0.2")}}));
}

TEST_F(RouteBatch, ManyRoutesInRequestsBelow64KiB) {
    constexpr int n = 20000;
    auto file = write(adds(0, n));
    EXPECT_EQ(run({"-batch", file}), 0) << err.str();
    EXPECT_EQ(table_size(), std::size_t{n});
    std::size_t routes = 0;
    for (const auto& r : state->route_requests) {
        EXPECT_LT(r.bytes, 64u * 1024);
        routes += r.routes.size();
    }
    EXPECT_EQ(routes, std::size_t{n});
    // 36 bytes per IPv4 route with a node: about 1800 per request, and the
    // batch holds back at most 16384 routes at a time: 10 + 2 requests.
    EXPECT_EQ(state->route_requests.size(), 12u);
}

TEST_F(RouteBatch, FailureNamesTheLineAndKeepsEarlierLines) {
    // Line 3001 (in the second request) names a node that does not exist.
    auto file = write(adds(0, 3000) + "route add 10.200.0.0/24 via 10.0.0.9\n" + adds(3000, 10));
    EXPECT_EQ(run({"-batch", file}), 2);
    EXPECT_EQ(err.str(), "Error: No such file or directory: no such node (attribute "
                         "WEFT_ROUTE_A_NODE4)\nCommand failed " +
                             file + ":3001\n");
    EXPECT_EQ(table_size(), 3000u) << "the lines before stay applied, the ones after never ran";
}

TEST_F(RouteBatch, ForceGoesOnAfterTheFailingRoute) {
    auto file = write(adds(0, 5) + "route add 10.0.2.0/24 via 10.0.0.2\n" + // exists: line 6
                      adds(5, 5) + "route del 10.99.0.0/24\n" +             // line 12
                      "route del 10.0.0.0/24\n");
    EXPECT_EQ(run({"-force", "-batch", file}), 2);
    EXPECT_EQ(err.str(), "Error: File exists: route exists (attribute WEFT_A_ROUTE)\n"
                         "Command failed " +
                             file +
                             ":6\nError: No such file or directory: no such route "
                             "(attribute WEFT_A_ROUTE)\nCommand failed " +
                             file + ":12\n");
    EXPECT_EQ(table_size(), 9u);
}

TEST_F(RouteBatch, BadLineFlushesTheLinesBeforeIt) {
    auto file = write(adds(0, 4) + "route add 10.9.0.1/24 via 10.0.0.2\n" + adds(4, 4));
    EXPECT_EQ(run({"-batch", file}), 1);
    EXPECT_EQ(err.str(), "Error: argument \"10.9.0.1/24\" is wrong: prefix has bits set beyond "
                         "its length /24\nCommand failed " +
                             file + ":5\n");
    EXPECT_EQ(table_size(), 4u);
    EXPECT_EQ(state->events, std::vector<std::string>{"route add 4"});
}

TEST_F(RouteBatch, OtherCommandsFailingAfterRoutes) {
    auto file = write(adds(0, 2) + "node bogus\n" + adds(2, 2));
    EXPECT_EQ(run({"-force", "-batch", file}), 1);
    EXPECT_EQ(err.str(), "Command \"bogus\" is unknown, try \"weft node help\".\nCommand failed " +
                             file + ":3\n");
    EXPECT_EQ(table_size(), 4u);
    EXPECT_EQ(state->events, (std::vector<std::string>{"route add 2", "route add 2"}));
}

TEST_F(RouteBatch, DeviceErrorsNameTheFirstLineOfTheGroup) {
    state->devices.push_back(weft1());
    auto file = write("node add 10.0.0.5 dev weft0\n" + adds(0, 3));
    EXPECT_EQ(run({"-batch", file}), 1);
    EXPECT_EQ(err.str(), "Error: several weft devices (weft0, weft1), name one with \"dev DEV\".\n"
                         "Command failed " +
                             file + ":2\n");
    EXPECT_EQ(state->node_adds.size(), 1u);
}

TEST_F(RouteBatch, StdinAndContinuationLines) {
    in.str("route add 10.1.0.0/24 \\\n  via 10.0.0.2\nroute add 10.2.0.0/24 via 10.0.0.2\n");
    EXPECT_EQ(run({"-batch", "-"}), 0) << err.str();
    EXPECT_EQ(state->events, std::vector<std::string>{"route add 2"});
}

} // namespace
} // namespace weft::cli
