// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include "api.hpp"

#include <cerrno>
#include <filesystem>
#include <set>
#include <system_error>
#include <utility>

#include <sys/stat.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace asio = boost::asio;
using asio::local::stream_protocol;
using nlohmann::json;

namespace weft {

namespace {

struct Field {
    const char* name;
    json::value_t type;
};

// The fields each operation needs, checked before the handler runs.
const std::vector<Field>* required_fields(const std::string& op) {
    static const std::vector<Field> none;
    static const std::vector<Field> attachment = {{"container_id", json::value_t::string},
                                                  {"ifname", json::value_t::string}};
    static const std::vector<Field> attach = {{"container_id", json::value_t::string},
                                              {"ifname", json::value_t::string},
                                              {"host_ifname", json::value_t::string},
                                              {"addrs", json::value_t::array}};
    static const std::vector<Field> gc = {{"valid", json::value_t::array}};
    if (op == "status" || op == "list") {
        return &none;
    }
    if (op == "allocate" || op == "release" || op == "endpoint") {
        return &attachment;
    }
    if (op == "attach") {
        return &attach;
    }
    if (op == "gc") {
        return &gc;
    }
    return nullptr;
}

const char* type_name(json::value_t type) {
    return type == json::value_t::string ? "a string" : "an array";
}

json error_answer(int code, const std::string& message) {
    return {{"ok", false}, {"code", code}, {"error", message}};
}

void check_request(const json& request, std::string& op) {
    if (!request.is_object()) {
        throw ApiError(api_code::invalid_config, "a request is a JSON object");
    }
    auto it = request.find("op");
    if (it == request.end() || !it->is_string()) {
        throw ApiError(api_code::invalid_config, "the request has no \"op\" string");
    }
    op = it->get<std::string>();
    const auto* fields = required_fields(op);
    if (!fields) {
        throw ApiError(api_code::invalid_config,
                       "unknown op \"" + op +
                           "\" (status, allocate, attach, release, endpoint, list, gc)");
    }
    for (const auto& f : *fields) {
        auto field = request.find(f.name);
        bool ok = field != request.end() &&
                  (f.type == json::value_t::string ? field->is_string() : field->is_array());
        if (!ok) {
            throw ApiError(api_code::invalid_config,
                           std::string(op) + ": \"" + f.name + "\" must be " + type_name(f.type));
        }
        if (f.type == json::value_t::string && field->get_ref<const std::string&>().empty()) {
            throw ApiError(api_code::invalid_config,
                           std::string(op) + ": \"" + f.name + "\" is empty");
        }
    }
}

} // namespace

json ApiServer::answer(const ApiHandler& handler, const std::string& line) {
    std::string op;
    try {
        json request = json::parse(line);
        check_request(request, op);
        json out = handler(op, request);
        if (out.is_null()) {
            out = json::object();
        }
        out["ok"] = true;
        return out;
    } catch (const json::parse_error& e) {
        return error_answer(api_code::invalid_config,
                            std::string("the request is not JSON: ") + e.what());
    } catch (const ApiError& e) {
        return error_answer(e.code(), e.what());
    } catch (const std::exception& e) {
        return error_answer(api_code::internal, (op.empty() ? "" : op + ": ") + e.what());
    }
}

struct ApiServer::State : std::enable_shared_from_this<State> {
    State(asio::any_io_executor ex, std::string p, ApiHandler h)
        : acceptor(ex), path(std::move(p)), handler(std::move(h)) {}

    stream_protocol::acceptor acceptor;
    std::string path;
    ApiHandler handler;
    std::set<std::shared_ptr<stream_protocol::socket>> connections;
    bool stopped = false;

    asio::awaitable<void> accept_loop() {
        auto self = shared_from_this();
        for (;;) {
            boost::system::error_code ec;
            auto socket = std::make_shared<stream_protocol::socket>(acceptor.get_executor());
            co_await acceptor.async_accept(*socket, asio::redirect_error(asio::use_awaitable, ec));
            if (stopped || ec == asio::error::operation_aborted) {
                co_return;
            }
            if (ec) {
                continue; // e.g. EMFILE: the next accept may work
            }
            connections.insert(socket);
            asio::co_spawn(acceptor.get_executor(), serve(socket), asio::detached);
        }
    }

    asio::awaitable<void> serve(std::shared_ptr<stream_protocol::socket> socket) {
        auto self = shared_from_this();
        std::string buffer;
        for (;;) {
            boost::system::error_code ec;
            std::size_t n = co_await asio::async_read_until(
                *socket, asio::dynamic_buffer(buffer, max_line), '\n',
                asio::redirect_error(asio::use_awaitable, ec));
            bool overlong = ec == asio::error::not_found;
            if (ec && !overlong) {
                break; // closed, or stop()
            }
            json out = overlong ? error_answer(api_code::invalid_config,
                                               "a request line is longer than " +
                                                   std::to_string(max_line) + " bytes")
                                : answer(handler, buffer.substr(0, n - 1));
            buffer.erase(0, overlong ? buffer.size() : n);
            std::string reply = out.dump() + '\n';
            co_await asio::async_write(*socket, asio::buffer(reply),
                                       asio::redirect_error(asio::use_awaitable, ec));
            if (ec || overlong) {
                break;
            }
        }
        boost::system::error_code ignored;
        socket->close(ignored);
        connections.erase(socket);
    }
};

ApiServer::ApiServer(asio::any_io_executor executor, std::string path, ApiHandler handler)
    : state_(std::make_shared<State>(executor, std::move(path), std::move(handler))) {
    namespace fs = std::filesystem;
    const auto& p = state_->path;
    auto fail = [&p](int err, const char* what) {
        throw std::system_error(err, std::generic_category(), std::string(what) + " " + p);
    };
    fs::path dir = fs::path(p).parent_path();
    std::error_code ec;
    if (!dir.empty() && !fs::exists(dir, ec)) {
        fs::create_directories(dir, ec);
        if (ec || ::chmod(dir.c_str(), 0700) != 0) {
            fail(ec ? ec.value() : errno, "creating the directory of");
        }
    }
    // A socket file left by a weftd that died: nobody listens on it. One
    // that answers belongs to a running weftd, which keeps it.
    {
        stream_protocol::socket probe(executor);
        boost::system::error_code ec2;
        probe.connect(stream_protocol::endpoint(p), ec2);
        if (!ec2) {
            fail(EADDRINUSE, "another weftd is listening on");
        }
    }
    if (::unlink(p.c_str()) != 0 && errno != ENOENT) {
        fail(errno, "removing the stale socket");
    }
    boost::system::error_code bec;
    stream_protocol::endpoint endpoint(p);
    // Created 0600 from the start: no window in which others may connect.
    mode_t old = ::umask(0177);
    state_->acceptor.open(endpoint.protocol(), bec);
    if (!bec) {
        state_->acceptor.bind(endpoint, bec);
    }
    ::umask(old);
    if (!bec) {
        state_->acceptor.listen(asio::socket_base::max_listen_connections, bec);
    }
    if (bec) {
        fail(bec.value(), "listening on");
    }
    asio::co_spawn(executor, state_->accept_loop(), asio::detached);
}

ApiServer::~ApiServer() {
    stop();
}

void ApiServer::stop() {
    if (!state_ || state_->stopped) {
        return;
    }
    state_->stopped = true;
    boost::system::error_code ignored;
    state_->acceptor.close(ignored);
    for (const auto& socket : state_->connections) {
        socket->close(ignored);
    }
    ::unlink(state_->path.c_str());
}

} // namespace weft
