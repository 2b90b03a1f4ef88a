// weftd's local API: request checking, answers, and the unix socket server
// driven by real clients.
#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <sys/stat.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include "api.hpp"

namespace weft {
namespace {

namespace asio = boost::asio;
using asio::local::stream_protocol;
using nlohmann::json;

// Echoes the op and counts calls; "boom" and "later" container IDs fail.
json echo_handler(const std::string& op, const json& request) {
    auto id = request.value("container_id", "");
    if (id == "later") {
        throw ApiError(api_code::try_again, "weftd is not ready: datastore unreachable");
    }
    if (id == "boom") {
        throw std::runtime_error("database is locked");
    }
    return {{"op", op}, {"id", id}};
}

TEST(WeftdApi, AnswersCheckedRequests) {
    auto a =
        ApiServer::answer(echo_handler, R"({"op":"allocate","container_id":"c1","ifname":"eth0"})");
    EXPECT_EQ(a, (json{{"ok", true}, {"op", "allocate"}, {"id", "c1"}}));
    EXPECT_EQ(ApiServer::answer(echo_handler, R"({"op":"status"})")["ok"], true);
}

TEST(WeftdApi, BadRequestsGetCode7NamingTheProblem) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"not json", "the request is not JSON"},
        {"[1,2]", "a request is a JSON object"},
        {R"({"container_id":"c"})", "the request has no \"op\" string"},
        {R"({"op":"frobnicate"})",
         "unknown op \"frobnicate\" (status, allocate, attach, release, endpoint, list, gc)"},
        {R"({"op":"allocate","ifname":"eth0"})", "allocate: \"container_id\" must be a string"},
        {R"({"op":"release","container_id":"","ifname":"eth0"})",
         "release: \"container_id\" is empty"},
        {R"({"op":"attach","container_id":"c","ifname":"eth0","host_ifname":"veth1",
             "addrs":"10.0.0.1"})",
         "attach: \"addrs\" must be an array"},
        {R"({"op":"gc"})", "gc: \"valid\" must be an array"},
        {R"({"op":"endpoint","container_id":"c"})", "endpoint: \"ifname\" must be a string"},
    };
    for (const auto& [line, message] : cases) {
        auto a = ApiServer::answer(echo_handler, line);
        EXPECT_EQ(a["ok"], false) << line;
        EXPECT_EQ(a["code"], api_code::invalid_config) << line;
        EXPECT_EQ(a["error"].get<std::string>().rfind(message, 0), 0u)
            << line << " -> " << a["error"];
    }
}

TEST(WeftdApi, HandlerErrorsKeepTheirCode) {
    auto later =
        ApiServer::answer(echo_handler, R"({"op":"allocate","container_id":"later","ifname":"e"})");
    EXPECT_EQ(later, (json{{"ok", false},
                           {"code", api_code::try_again},
                           {"error", "weftd is not ready: datastore unreachable"}}));
    auto boom =
        ApiServer::answer(echo_handler, R"({"op":"release","container_id":"boom","ifname":"e"})");
    EXPECT_EQ(boom["code"], api_code::internal);
    EXPECT_EQ(boom["error"], "release: database is locked");
}

// A server on its own thread, with clients on the test's.
class ApiServerTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/weftd-api-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        path_ = dir_ + "/run/weftd.sock";
    }
    void TearDown() override {
        stop();
        std::filesystem::remove_all(dir_);
    }
    void start() {
        server_ = std::make_unique<ApiServer>(io_.get_executor(), path_, [this](auto& op, auto& r) {
            ++calls_;
            return echo_handler(op, r);
        });
        thread_ = std::thread([this] { io_.run(); });
    }
    void stop() {
        if (thread_.joinable()) {
            asio::post(io_, [this] { server_->stop(); });
            thread_.join();
        }
    }
    stream_protocol::socket connect() {
        stream_protocol::socket s(client_io_);
        s.connect(stream_protocol::endpoint(path_));
        return s;
    }
    static json ask(stream_protocol::socket& s, const std::string& line, std::string& buffer) {
        asio::write(s, asio::buffer(line + "\n"));
        auto n = asio::read_until(s, asio::dynamic_buffer(buffer), '\n');
        json out = json::parse(buffer.substr(0, n - 1));
        buffer.erase(0, n);
        return out;
    }

    std::string dir_, path_;
    asio::io_context io_, client_io_;
    std::unique_ptr<ApiServer> server_;
    std::thread thread_;
    std::atomic<int> calls_{0};
};

TEST_F(ApiServerTest, SocketIsRootOnlyInAPrivateDirectory) {
    start();
    struct stat st {};
    ASSERT_EQ(::stat(path_.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_EQ(::stat((dir_ + "/run").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST_F(ApiServerTest, OneConnectionManyRequestsInOrder) {
    start();
    auto s = connect();
    std::string buffer;
    for (int i = 0; i < 50; ++i) {
        auto id = "c" + std::to_string(i);
        auto a = ask(s, json{{"op", "allocate"}, {"container_id", id}, {"ifname", "eth0"}}.dump(),
                     buffer);
        ASSERT_EQ(a["id"], id);
    }
    // A bad line is answered and the connection goes on.
    EXPECT_EQ(ask(s, "{", buffer)["code"], api_code::invalid_config);
    EXPECT_EQ(ask(s, R"({"op":"list"})", buffer)["ok"], true);
    EXPECT_EQ(calls_, 51);
}

TEST_F(ApiServerTest, ConcurrentClients) {
    start();
    std::vector<std::thread> clients;
    std::atomic<int> good{0};
    for (int c = 0; c < 16; ++c) {
        clients.emplace_back([this, c, &good] {
            asio::io_context io;
            stream_protocol::socket s(io);
            s.connect(stream_protocol::endpoint(path_));
            std::string buffer;
            for (int i = 0; i < 20; ++i) {
                auto id = std::to_string(c) + "-" + std::to_string(i);
                auto a =
                    ask(s, json{{"op", "release"}, {"container_id", id}, {"ifname", "e"}}.dump(),
                        buffer);
                good += a["id"] == id;
            }
        });
    }
    for (auto& t : clients) {
        t.join();
    }
    EXPECT_EQ(good, 16 * 20);
}

TEST_F(ApiServerTest, OverlongLineClosesOnlyThatConnection) {
    start();
    auto other = connect();
    auto s = connect();
    std::string big(ApiServer::max_line + 10, 'x');
    // The server answers and closes before it has read all of it.
    boost::system::error_code ec;
    asio::write(s, asio::buffer(big), ec);
    std::string buffer;
    auto n = asio::read_until(s, asio::dynamic_buffer(buffer), '\n');
    auto a = json::parse(buffer.substr(0, n - 1));
    EXPECT_EQ(a["code"], api_code::invalid_config);
    EXPECT_NE(a["error"].get<std::string>().find("longer than"), std::string::npos);
    char c;
    asio::read(s, asio::buffer(&c, 1), ec);
    // Closed: end of file, or a reset since the server left bytes unread.
    EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
    std::string buffer2;
    EXPECT_EQ(ask(other, R"({"op":"status"})", buffer2)["ok"], true);
}

TEST_F(ApiServerTest, ReplacesAStaleSocketAndRemovesItOnStop) {
    std::filesystem::create_directories(dir_ + "/run");
    {
        // What a weftd killed with SIGKILL leaves behind.
        asio::io_context io;
        stream_protocol::acceptor stale(io, stream_protocol::endpoint(path_));
    }
    ASSERT_TRUE(std::filesystem::exists(path_));
    start();
    auto s = connect();
    std::string buffer;
    EXPECT_EQ(ask(s, R"({"op":"status"})", buffer)["ok"], true);
    stop(); // io_.run() returns: nothing is left running
    EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(ApiServerTest, ALiveSocketIsNotTakenOver) {
    start();
    asio::io_context io;
    try {
        ApiServer second(io.get_executor(), path_, [](auto&, auto&) { return json{}; });
        FAIL() << "a second server took the socket";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), EADDRINUSE);
        EXPECT_EQ(std::string(e.what()).rfind("another weftd is listening on " + path_, 0), 0u)
            << e.what();
    }
    // The first one still serves.
    auto s = connect();
    std::string buffer;
    EXPECT_EQ(ask(s, R"({"op":"status"})", buffer)["ok"], true);
}

TEST(WeftdApiServer, UnusablePathIsAnErrorNamingIt) {
    asio::io_context io;
    try {
        ApiServer server(io.get_executor(), "/proc/weftd-test/weftd.sock",
                         [](auto&, auto&) { return json{}; });
        FAIL() << "no error";
    } catch (const std::system_error& e) {
        EXPECT_NE(std::string(e.what()).find("/proc/weftd-test/weftd.sock"), std::string::npos)
            << e.what();
    }
}

} // namespace
} // namespace weft
