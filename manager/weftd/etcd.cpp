// The etcd v3 JSON gateway client (see etcd.hpp).
//
// The gateway maps each gRPC call to "POST /v3/<service>/<call>" with the
// request as JSON. Bytes fields (keys, values) travel as base64, int64 fields
// as decimal strings, and fields holding their default value are left out.
// Errors come back as a non-200 status with {"error","message","code"}.
// Streaming calls (watch, lease keepalive) answer with a chunked body of
// concatenated {"result":{...}} (or {"error":{...}}) objects.
#include "etcd.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <exception>
#include <string_view>
#include <system_error>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

namespace weft {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::awaitable;
using asio::use_awaitable;
using json = nlohmann::json;

namespace {

// Larger answers than this (a range over a huge prefix) are refused.
constexpr std::uint64_t kBodyLimit = 64u << 20;
// The part of an unexpected body quoted in an error.
constexpr std::size_t kQuoteLimit = 200;
// gRPC status codes the gateway reports.
constexpr int kGrpcDeadlineExceeded = 4;
constexpr int kGrpcUnavailable = 14;

constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64_encode(std::string_view in) {
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= in.size(); i += 3) {
        std::uint32_t n = std::uint32_t(std::uint8_t(in[i])) << 16 |
                          std::uint32_t(std::uint8_t(in[i + 1])) << 8 | std::uint8_t(in[i + 2]);
        for (int shift = 18; shift >= 0; shift -= 6) {
            out += kBase64Alphabet[(n >> shift) & 0x3f];
        }
    }
    std::size_t rest = in.size() - i;
    if (rest != 0) {
        std::uint32_t n = std::uint32_t(std::uint8_t(in[i])) << 16;
        if (rest == 2) {
            n |= std::uint32_t(std::uint8_t(in[i + 1])) << 8;
        }
        out += kBase64Alphabet[(n >> 18) & 0x3f];
        out += kBase64Alphabet[(n >> 12) & 0x3f];
        out += rest == 2 ? kBase64Alphabet[(n >> 6) & 0x3f] : '=';
        out += '=';
    }
    return out;
}

// Strict padded base64, as Go's encoding/json writes []byte.
std::optional<std::string> base64_decode(std::string_view in) {
    if (in.size() % 4 != 0) {
        return std::nullopt;
    }
    std::string out;
    out.reserve(in.size() / 4 * 3);
    for (std::size_t i = 0; i < in.size(); i += 4) {
        bool last = i + 4 == in.size();
        std::uint32_t n = 0;
        int pad = 0;
        for (std::size_t j = 0; j < 4; ++j) {
            char c = in[i + j];
            std::uint32_t v = 0;
            if (c == '=' && last && j >= 2) {
                ++pad;
            } else {
                std::size_t pos = kBase64Alphabet.find(c);
                if (pos == std::string_view::npos || pad != 0) {
                    return std::nullopt;
                }
                v = std::uint32_t(pos);
            }
            n = n << 6 | v;
        }
        out += char(n >> 16 & 0xff);
        if (pad < 2) {
            out += char(n >> 8 & 0xff);
        }
        if (pad < 1) {
            out += char(n & 0xff);
        }
    }
    return out;
}

// A key as it appears in messages: printable bytes as they are, others as \xNN.
std::string printable(std::string_view bytes) {
    std::string out;
    for (char c : bytes) {
        auto u = std::uint8_t(c);
        if (u >= 0x20 && u < 0x7f && c != '"' && c != '\\') {
            out += c;
        } else {
            std::array<char, 5> hex{};
            std::snprintf(hex.data(), hex.size(), "\\x%02x", u);
            out += hex.data();
        }
    }
    return out;
}

std::string quote_body(std::string_view body) {
    std::string out = printable(body.substr(0, kQuoteLimit));
    if (body.size() > kQuoteLimit) {
        out += "...";
    }
    return out;
}

// The end of the key range holding every key that starts with `prefix`.
std::string prefix_end(std::string prefix) {
    while (!prefix.empty()) {
        auto last = std::uint8_t(prefix.back());
        if (last != 0xff) {
            prefix.back() = char(last + 1);
            return prefix;
        }
        prefix.pop_back();
    }
    return std::string(1, '\0'); // with key "\0": every key
}

std::string prefix_start(const std::string& prefix) {
    return prefix.empty() ? std::string(1, '\0') : prefix;
}

// An answer that does not follow the gateway's format.
class Malformed : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

const json& empty_object() {
    static const json empty = json::object();
    return empty;
}

const json& object_field(const json& obj, const char* name) {
    auto it = obj.find(name);
    if (it == obj.end()) {
        return empty_object();
    }
    if (!it->is_object()) {
        throw Malformed(std::string("field \"") + name + "\" is not an object");
    }
    return *it;
}

std::int64_t int_field(const json& obj, const char* name) {
    auto it = obj.find(name);
    if (it == obj.end()) {
        return 0;
    }
    if (it->is_number_integer()) {
        return it->get<std::int64_t>();
    }
    if (it->is_string()) {
        const auto& s = it->get_ref<const std::string&>();
        std::int64_t value = 0;
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
        if (ec == std::errc() && end == s.data() + s.size()) {
            return value;
        }
    }
    throw Malformed(std::string("field \"") + name + "\" is not an int64");
}

bool bool_field(const json& obj, const char* name) {
    auto it = obj.find(name);
    if (it == obj.end()) {
        return false;
    }
    if (!it->is_boolean()) {
        throw Malformed(std::string("field \"") + name + "\" is not a boolean");
    }
    return it->get<bool>();
}

std::string string_field(const json& obj, const char* name) {
    auto it = obj.find(name);
    if (it == obj.end()) {
        return {};
    }
    if (!it->is_string()) {
        throw Malformed(std::string("field \"") + name + "\" is not a string");
    }
    return it->get<std::string>();
}

std::string bytes_field(const json& obj, const char* name) {
    auto decoded = base64_decode(string_field(obj, name));
    if (!decoded) {
        throw Malformed(std::string("field \"") + name + "\" is not base64");
    }
    return std::move(*decoded);
}

KeyValue parse_kv(const json& obj) {
    if (!obj.is_object()) {
        throw Malformed("a key-value is not an object");
    }
    return KeyValue{bytes_field(obj, "key"),           bytes_field(obj, "value"),
                    int_field(obj, "create_revision"), int_field(obj, "mod_revision"),
                    int_field(obj, "version"),         int_field(obj, "lease")};
}

std::int64_t header_revision(const json& answer) {
    return int_field(object_field(answer, "header"), "revision");
}

std::string int_string(std::int64_t n) {
    return std::to_string(n);
}

// What one operation is about, for its errors.
struct OpName {
    const char* operation;
    std::string key;
};

// Runs `decode` on an answer, turning a format error into EtcdError.
template <typename F>
auto decoded(const OpName& op, F&& decode) -> decltype(decode()) {
    try {
        return decode();
    } catch (const Malformed& e) {
        throw EtcdError(op.operation, op.key, std::string("malformed answer: ") + e.what(), 200);
    } catch (const json::exception& e) {
        throw EtcdError(op.operation, op.key, std::string("malformed answer: ") + e.what(), 200);
    }
}

// The gateway's error object: the unary form {"error":"..","message":"..",
// "code":N} or the streaming form {"error":{"grpc_code":N,"message":".."}}.
// Returns the message and the gRPC code (-1 if none).
std::pair<std::string, int> gateway_error(const json& body) {
    const json* source = &body;
    if (auto it = body.find("error"); it != body.end() && it->is_object()) {
        source = &*it;
    }
    std::string message;
    if (auto it = source->find("message"); it != source->end() && it->is_string()) {
        message = it->get<std::string>();
    } else if (auto e = source->find("error"); e != source->end() && e->is_string()) {
        message = e->get<std::string>();
    }
    int code = -1;
    for (const char* name : {"code", "grpc_code"}) {
        if (auto it = source->find(name); it != source->end() && it->is_number_integer()) {
            code = it->get<int>();
        }
    }
    return {message, code};
}

// Whether another member may well succeed where this one failed.
bool retryable_status(unsigned status, int grpc_code) {
    return status == 503 || status == 504 || grpc_code == kGrpcUnavailable ||
           grpc_code == kGrpcDeadlineExceeded;
}

struct Connection {
    explicit Connection(const asio::any_io_executor& executor) : stream(executor) {}
    beast::tcp_stream stream;
    beast::flat_buffer buffer;
};

awaitable<void> connect(Connection& conn, const EtcdEndpoint& endpoint,
                        std::chrono::milliseconds timeout) {
    asio::ip::tcp::resolver resolver(conn.stream.get_executor());
    auto addresses = co_await resolver.async_resolve(endpoint.host, std::to_string(endpoint.port),
                                                     use_awaitable);
    conn.stream.expires_after(timeout);
    co_await conn.stream.async_connect(addresses, use_awaitable);
    conn.stream.socket().set_option(asio::ip::tcp::no_delay(true));
}

http::request<http::string_body> make_request(const EtcdEndpoint& endpoint, std::string_view target,
                                              std::string body) {
    http::request<http::string_body> req{http::verb::post,
                                         beast::string_view(target.data(), target.size()), 11};
    req.set(http::field::host, endpoint.to_string());
    req.set(http::field::content_type, "application/json");
    req.keep_alive(true);
    req.body() = std::move(body);
    req.prepare_payload();
    return req;
}

// One answer of the gateway, whole.
struct Answer {
    unsigned status = 0;
    std::string body;
};

// Reconnect the watch (after a short pause if nothing was received).
class WatchRetry : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Splits a stream of concatenated JSON objects into the objects.
class ObjectSplitter {
public:
    // Appends `data`; returns the objects it completed.
    std::vector<std::string> feed(std::string_view data) {
        std::vector<std::string> objects;
        pending_.append(data);
        for (; scanned_ < pending_.size(); ++scanned_) {
            char c = pending_[scanned_];
            if (in_string_) {
                if (escape_) {
                    escape_ = false;
                } else if (c == '\\') {
                    escape_ = true;
                } else if (c == '"') {
                    in_string_ = false;
                }
            } else if (c == '"') {
                in_string_ = true;
            } else if (c == '{' || c == '[') {
                ++depth_;
            } else if (c == '}' || c == ']') {
                if (depth_ == 0) {
                    throw Malformed("unbalanced '" + std::string(1, c) + "' in the stream");
                }
                if (--depth_ == 0) {
                    objects.push_back(pending_.substr(0, scanned_ + 1));
                    pending_.erase(0, scanned_ + 1);
                    scanned_ = std::size_t(-1); // the loop's ++ makes it 0
                }
            } else if (depth_ == 0 && c != ' ' && c != '\n' && c != '\r' && c != '\t') {
                throw Malformed("\"" + quote_body(pending_.substr(scanned_)) +
                                "\" between the objects of the stream");
            }
        }
        if (pending_.size() > kBodyLimit) {
            throw Malformed("an object of the stream exceeds the size limit");
        }
        return objects;
    }

private:
    std::string pending_;
    std::size_t scanned_ = 0;
    std::size_t depth_ = 0;
    bool in_string_ = false;
    bool escape_ = false;
};

} // namespace

EtcdError::EtcdError(std::string operation, std::string key, std::string detail,
                     unsigned http_status, int grpc_code)
    : std::runtime_error([&] {
          std::string text = "etcd " + operation;
          if (!key.empty()) {
              text += " \"" + printable(key) + "\"";
          }
          text += ": " + detail;
          if (http_status != 0) {
              text += " (HTTP " + std::to_string(http_status);
              if (grpc_code >= 0) {
                  text += ", code " + std::to_string(grpc_code);
              }
              text += ")";
          }
          return text;
      }()),
      operation_(std::move(operation)), key_(std::move(key)), detail_(std::move(detail)),
      http_status_(http_status), grpc_code_(grpc_code) {}

EtcdUnavailable::EtcdUnavailable(std::string operation, std::string key, std::string detail)
    : EtcdError(std::move(operation), std::move(key), std::move(detail)) {}

namespace detail {

struct EtcdState : std::enable_shared_from_this<EtcdState> {
    EtcdState(asio::any_io_executor executor_, std::vector<EtcdEndpoint> endpoints_,
              EtcdOptions options_)
        : executor(std::move(executor_)), endpoints(std::move(endpoints_)), options(options_),
          idle(endpoints.size()) {}

    asio::any_io_executor executor;
    std::vector<EtcdEndpoint> endpoints;
    EtcdOptions options;
    // The endpoint that answered last: where operations start.
    std::size_t current = 0;
    // Kept-alive connections, per endpoint.
    std::vector<std::vector<std::unique_ptr<Connection>>> idle;

    static constexpr std::size_t kMaxIdle = 16;

    // One request on one endpoint. Throws boost::system::system_error when
    // the exchange fails.
    awaitable<Answer> exchange(std::size_t index, std::string_view target,
                               const std::string& body) {
        std::unique_ptr<Connection> conn;
        bool reused = !idle[index].empty();
        if (reused) {
            conn = std::move(idle[index].back());
            idle[index].pop_back();
        }
        for (;;) {
            if (!conn) {
                conn = std::make_unique<Connection>(executor);
                co_await connect(*conn, endpoints[index], options.request_timeout);
            }
            conn->stream.expires_after(options.request_timeout);
            boost::system::error_code ec;
            co_await http::async_write(conn->stream, make_request(endpoints[index], target, body),
                                       asio::redirect_error(use_awaitable, ec));
            http::response_parser<http::string_body> parser;
            parser.body_limit(kBodyLimit);
            if (!ec) {
                co_await http::async_read(conn->stream, conn->buffer, parser,
                                          asio::redirect_error(use_awaitable, ec));
            }
            if (ec) {
                // The member may have closed a kept-alive connection: one
                // more try on a new one before blaming the member.
                if (reused && ec != beast::error::timeout && !parser.got_some()) {
                    reused = false;
                    conn.reset();
                    continue;
                }
                throw boost::system::system_error(ec);
            }
            auto res = parser.release();
            if (res.keep_alive() && idle[index].size() < kMaxIdle) {
                conn->stream.expires_never();
                idle[index].push_back(std::move(conn));
            }
            co_return Answer{res.result_int(), std::move(res.body())};
        }
    }

    // Sends one request, failing over between endpoints, and returns the
    // answer's JSON object (a streaming answer's "result").
    awaitable<json> call(OpName op, std::string_view target, json request) {
        auto self = shared_from_this(); // the client may go while this runs
        const std::string body = request.dump();
        const std::size_t count = endpoints.size();
        std::string failure;
        for (unsigned round = 0; round < std::max(options.rounds, 1u); ++round) {
            if (round != 0) {
                asio::steady_timer pause(executor, options.round_delay);
                co_await pause.async_wait(use_awaitable);
            }
            const std::size_t start = current;
            for (std::size_t tried = 0; tried < count; ++tried) {
                const std::size_t index = (start + tried) % count;
                Answer answer;
                try {
                    answer = co_await exchange(index, target, body);
                } catch (const boost::system::system_error& e) {
                    failure = endpoints[index].to_string() + ": " + e.code().message();
                    continue;
                }
                json parsed = json::parse(answer.body, nullptr, false);
                if (parsed.is_discarded() || !parsed.is_object()) {
                    throw EtcdError(op.operation, op.key,
                                    std::string(answer.status == 200 ? "malformed" : "unexpected") +
                                        " answer \"" + quote_body(answer.body) + "\"",
                                    answer.status);
                }
                // A streaming call reports its error inside a 200.
                if (answer.status != 200 || parsed.contains("error")) {
                    auto [message, code] = gateway_error(parsed);
                    if (retryable_status(answer.status, code)) {
                        failure = endpoints[index].to_string() + ": " + message;
                        continue;
                    }
                    throw EtcdError(op.operation, op.key, message, answer.status, code);
                }
                current = index;
                if (auto it = parsed.find("result"); it != parsed.end()) {
                    if (!it->is_object()) {
                        throw EtcdError(op.operation, op.key, "malformed answer: result", 200);
                    }
                    co_return std::move(*it);
                }
                co_return parsed;
            }
        }
        throw EtcdUnavailable(op.operation, op.key, "no endpoint answered (last: " + failure + ")");
    }

    // A transaction of one compare and one request; whether it succeeded.
    awaitable<bool> txn(OpName op, json compare, json request) {
        json body = {{"compare", json::array({std::move(compare)})},
                     {"success", json::array({std::move(request)})}};
        json answer = co_await call(op, "/v3/kv/txn", std::move(body));
        co_return decoded(op, [&] { return bool_field(answer, "succeeded"); });
    }

    awaitable<std::int64_t> delete_range(OpName op, const std::string& key,
                                         const std::string& range_end) {
        json body = {{"key", base64_encode(key)}};
        if (!range_end.empty()) {
            body["range_end"] = base64_encode(range_end);
        }
        json answer = co_await call(op, "/v3/kv/deleterange", std::move(body));
        co_return decoded(op, [&] { return int_field(answer, "deleted"); });
    }
};

struct WatchState {
    std::shared_ptr<EtcdState> client;
    std::string prefix;
    std::int64_t next_revision = 0;
    WatchCallback callback;
    bool stopped = false;
    bool ended = false;
    // The connection being read and its endpoint, while there is one.
    Connection* conn = nullptr;
    std::optional<std::size_t> connected;
    asio::steady_timer pause;

    WatchState(std::shared_ptr<EtcdState> client_, std::string prefix_, std::int64_t start,
               WatchCallback callback_)
        : client(std::move(client_)), prefix(std::move(prefix_)), next_revision(start),
          callback(std::move(callback_)), pause(client->executor) {}

    void stop() {
        stopped = true;
        if (conn != nullptr) {
            conn->stream.cancel();
        }
        pause.cancel();
    }

    // Ends the watch with `update` (compaction or error).
    void end(WatchUpdate update) {
        ended = true;
        if (!stopped) {
            callback(update);
        }
    }

    // Ends the watch on an error retrying cannot fix.
    void fail(std::string detail, unsigned http_status, int grpc_code = -1) {
        end(WatchUpdate{{},
                        0,
                        std::make_exception_ptr(EtcdError("watch", prefix, std::move(detail),
                                                          http_status, grpc_code))});
    }

    // Handles one object of the stream. Returns whether the watch was created.
    bool handle(const std::string& text) {
        const OpName op{"watch", prefix};
        json obj = json::parse(text, nullptr, false);
        if (obj.is_discarded() || !obj.is_object()) {
            throw Malformed("\"" + quote_body(text) + "\" in the stream is not a JSON object");
        }
        if (obj.contains("error")) {
            auto [message, code] = gateway_error(obj);
            if (retryable_status(0, code)) {
                throw WatchRetry(message);
            }
            fail(message, 200, code);
            return false;
        }
        const json& result = object_field(obj, "result");
        if (std::int64_t compacted = int_field(result, "compact_revision"); compacted != 0) {
            end(WatchUpdate{{}, compacted, nullptr});
            return false;
        }
        if (bool_field(result, "canceled")) {
            throw WatchRetry("watch canceled by etcd: " + string_field(result, "cancel_reason"));
        }
        bool created = bool_field(result, "created");
        if (created && next_revision == 0) {
            next_revision = header_revision(result) + 1;
        }
        WatchUpdate update;
        if (auto it = result.find("events"); it != result.end()) {
            if (!it->is_array()) {
                throw Malformed("field \"events\" is not an array");
            }
            for (const json& event : *it) {
                WatchEvent parsed;
                parsed.kv = parse_kv(object_field(event, "kv"));
                std::string type = string_field(event, "type");
                if (type == "DELETE") {
                    parsed.type = WatchEvent::Type::Delete;
                } else if (type.empty() || type == "PUT") {
                    parsed.type = WatchEvent::Type::Put;
                } else {
                    throw Malformed("unknown event type \"" + printable(type) + "\"");
                }
                // A resumed stream starts after what was delivered; this
                // keeps a repeated event out even so.
                if (parsed.revision() >= next_revision) {
                    update.events.push_back(std::move(parsed));
                }
            }
        }
        if (!update.events.empty()) {
            next_revision = update.events.back().revision() + 1;
            if (!stopped) {
                callback(update);
            }
        }
        return created;
    }

    // One stream from one endpoint, until it breaks. Returns whether the
    // watch was established on it.
    awaitable<bool> stream_once(std::size_t index) {
        const EtcdOptions& options = client->options;
        const EtcdEndpoint& endpoint = client->endpoints[index];
        Connection owned(client->executor);
        conn = &owned; // for stop() to cancel
        struct Forget {
            WatchState* w;
            ~Forget() {
                w->conn = nullptr;
                w->connected.reset();
            }
        } forget{this};
        co_await connect(owned, endpoint, options.request_timeout);
        if (stopped) {
            co_return false;
        }

        json create = {{"key", base64_encode(prefix_start(prefix))},
                       {"range_end", base64_encode(prefix_end(prefix))}};
        if (next_revision != 0) {
            create["start_revision"] = int_string(next_revision);
        }
        json body = {{"create_request", std::move(create)}};
        conn->stream.expires_after(options.request_timeout);
        co_await http::async_write(conn->stream, make_request(endpoint, "/v3/watch", body.dump()),
                                   use_awaitable);
        http::response_parser<http::buffer_body> parser;
        parser.body_limit(boost::none);
        co_await http::async_read_header(conn->stream, conn->buffer, parser, use_awaitable);
        const unsigned status = parser.get().result_int();
        if (status == 200) {
            connected = index;
        }

        ObjectSplitter splitter;
        std::string error_body;
        bool created = false;
        std::array<char, 8192> chunk;
        while (!parser.is_done()) {
            parser.get().body().data = chunk.data();
            parser.get().body().size = chunk.size();
            parser.get().body().more = true;
            conn->stream.expires_after(status == 200 ? options.watch_idle_timeout
                                                     : options.request_timeout);
            boost::system::error_code ec;
            co_await http::async_read_some(conn->stream, conn->buffer, parser,
                                           asio::redirect_error(use_awaitable, ec));
            if (ec == http::error::need_buffer) {
                ec = {};
            }
            if (stopped) {
                co_return created;
            }
            std::string_view got(chunk.data(), chunk.size() - parser.get().body().size);
            if (status != 200) {
                if (error_body.size() < kQuoteLimit * 4) {
                    error_body.append(got);
                }
            } else {
                for (const std::string& object : splitter.feed(got)) {
                    created = handle(object) || created;
                    if (stopped || ended) {
                        co_return created;
                    }
                }
            }
            if (ec) {
                throw boost::system::system_error(ec);
            }
        }
        if (status != 200) {
            json parsed = json::parse(error_body, nullptr, false);
            std::string message = "unexpected answer \"" + quote_body(error_body) + "\"";
            int code = -1;
            if (!parsed.is_discarded() && parsed.is_object()) {
                std::tie(message, code) = gateway_error(parsed);
            }
            if (retryable_status(status, code)) {
                throw WatchRetry(message);
            }
            fail(message, status, code);
        }
        co_return created;
    }

    static awaitable<void> run(std::shared_ptr<WatchState> self) {
        try {
            co_await self->reconnect_loop();
        } catch (...) {
            // The callback threw: the watch ends without telling it more.
            self->ended = true;
        }
        self->callback = nullptr;
    }

    awaitable<void> reconnect_loop() {
        const std::size_t count = client->endpoints.size();
        std::size_t index = client->current;
        std::size_t failures = 0; // attempts in a row that did not establish the watch
        auto backoff = std::chrono::milliseconds(50);
        while (!stopped && !ended) {
            bool created = false;
            try {
                created = co_await stream_once(index);
            } catch (const boost::system::system_error&) {
            } catch (const WatchRetry&) {
            } catch (const Malformed& e) {
                fail(std::string("malformed stream: ") + e.what(), 200);
            } catch (const json::exception& e) {
                fail(std::string("malformed stream: ") + e.what(), 200);
            }
            if (stopped || ended) {
                break;
            }
            index = (index + 1) % count;
            if (created) {
                failures = 0;
                backoff = std::chrono::milliseconds(50);
            } else if (++failures % count == 0) {
                pause.expires_after(backoff);
                boost::system::error_code ec;
                co_await pause.async_wait(asio::redirect_error(use_awaitable, ec));
                backoff = std::min(backoff * 2, client->options.watch_max_backoff);
            }
        }
    }
};

} // namespace detail

EtcdWatch& EtcdWatch::operator=(EtcdWatch&& other) noexcept {
    if (this != &other) {
        stop();
        state_ = std::move(other.state_);
    }
    return *this;
}

void EtcdWatch::stop() noexcept {
    if (state_) {
        state_->stop();
        state_.reset();
    }
}

bool EtcdWatch::active() const noexcept {
    return state_ && !state_->stopped && !state_->ended;
}

std::optional<EtcdEndpoint> EtcdWatch::endpoint() const {
    if (!state_ || !state_->connected) {
        return std::nullopt;
    }
    return state_->client->endpoints[*state_->connected];
}

std::int64_t EtcdWatch::next_revision() const noexcept {
    return state_ ? state_->next_revision : 0;
}

EtcdClient::EtcdClient(asio::any_io_executor executor, std::vector<EtcdEndpoint> endpoints,
                       EtcdOptions options) {
    if (endpoints.empty()) {
        throw std::invalid_argument("etcd client: no endpoint given");
    }
    state_ =
        std::make_shared<detail::EtcdState>(std::move(executor), std::move(endpoints), options);
}

EtcdClient::~EtcdClient() {
    if (state_) {
        // Operations still running keep the state; idle connections go now.
        for (auto& pool : state_->idle) {
            pool.clear();
        }
    }
}

const std::vector<EtcdEndpoint>& EtcdClient::endpoints() const noexcept {
    return state_->endpoints;
}

awaitable<std::int64_t> EtcdClient::put(std::string key, std::string value, std::int64_t lease) {
    OpName op{"put", key};
    json body = {{"key", base64_encode(key)}, {"value", base64_encode(value)}};
    if (lease != 0) {
        body["lease"] = int_string(lease);
    }
    json answer = co_await state_->call(op, "/v3/kv/put", std::move(body));
    co_return decoded(op, [&] { return header_revision(answer); });
}

awaitable<std::optional<KeyValue>> EtcdClient::get(std::string key) {
    OpName op{"get", key};
    json body = {{"key", base64_encode(key)}};
    json answer = co_await state_->call(op, "/v3/kv/range", std::move(body));
    co_return decoded(op, [&]() -> std::optional<KeyValue> {
        auto it = answer.find("kvs");
        if (it == answer.end() || !it->is_array() || it->empty()) {
            return std::nullopt;
        }
        return parse_kv(it->front());
    });
}

awaitable<RangeResult> EtcdClient::range_prefix(std::string prefix) {
    OpName op{"range", prefix};
    const std::string end = prefix_end(prefix);
    std::string start = prefix_start(prefix);
    RangeResult result;
    // Page after page, the later ones at the first one's revision; a
    // compaction past that revision in between fails the read (EtcdError),
    // and the caller reads again.
    for (;;) {
        json body = {{"key", base64_encode(start)},
                     {"range_end", base64_encode(end)},
                     {"limit", int_string(state_->options.range_page)}};
        if (result.revision != 0) {
            body["revision"] = int_string(result.revision);
        }
        json answer = co_await state_->call(op, "/v3/kv/range", std::move(body));
        bool more = decoded(op, [&] {
            if (result.revision == 0) {
                result.revision = header_revision(answer);
            }
            if (auto it = answer.find("kvs"); it != answer.end()) {
                for (const json& kv : it->get_ref<const json::array_t&>()) {
                    result.kvs.push_back(parse_kv(kv));
                }
            }
            auto it = answer.find("more");
            return it != answer.end() && it->get<bool>();
        });
        if (!more || result.kvs.empty()) {
            co_return result;
        }
        start = result.kvs.back().key + '\0'; // the next key after the last one
    }
}

awaitable<std::int64_t> EtcdClient::del(std::string key) {
    OpName op{"delete", key};
    co_return co_await state_->delete_range(op, key, std::string());
}

awaitable<std::int64_t> EtcdClient::del_prefix(std::string prefix) {
    OpName op{"delete prefix", prefix};
    co_return co_await state_->delete_range(op, prefix_start(prefix), prefix_end(prefix));
}

awaitable<bool> EtcdClient::create_if_absent(std::string key, std::string value,
                                             std::int64_t lease) {
    json put = {{"key", base64_encode(key)}, {"value", base64_encode(value)}};
    if (lease != 0) {
        put["lease"] = int_string(lease);
    }
    json compare = {{"target", "CREATE"},
                    {"result", "EQUAL"},
                    {"key", base64_encode(key)},
                    {"create_revision", "0"}};
    OpName op{"create", key};
    json request = {{"request_put", std::move(put)}};
    co_return co_await state_->txn(op, std::move(compare), std::move(request));
}

awaitable<bool> EtcdClient::compare_and_swap(std::string key, std::int64_t expected_mod_revision,
                                             std::string value) {
    json compare = {{"target", "MOD"},
                    {"result", "EQUAL"},
                    {"key", base64_encode(key)},
                    {"mod_revision", int_string(expected_mod_revision)}};
    json put = {{"key", base64_encode(key)}, {"value", base64_encode(value)}};
    OpName op{"compare and swap", key};
    json request = {{"request_put", std::move(put)}};
    co_return co_await state_->txn(op, std::move(compare), std::move(request));
}

awaitable<bool> EtcdClient::delete_if_unchanged(std::string key,
                                                std::int64_t expected_mod_revision) {
    if (expected_mod_revision == 0) {
        co_return false; // an absent key cannot be deleted
    }
    json compare = {{"target", "MOD"},
                    {"result", "EQUAL"},
                    {"key", base64_encode(key)},
                    {"mod_revision", int_string(expected_mod_revision)}};
    OpName op{"delete if unchanged", key};
    json request = {{"request_delete_range", {{"key", base64_encode(key)}}}};
    co_return co_await state_->txn(op, std::move(compare), std::move(request));
}

awaitable<std::int64_t> EtcdClient::lease_grant(std::int64_t ttl_seconds) {
    OpName op{"lease grant", {}};
    json body = {{"TTL", int_string(ttl_seconds)}};
    json answer = co_await state_->call(op, "/v3/lease/grant", std::move(body));
    co_return decoded(op, [&] {
        std::int64_t id = int_field(answer, "ID");
        if (id == 0) {
            throw Malformed("no lease id");
        }
        return id;
    });
}

awaitable<std::int64_t> EtcdClient::lease_keepalive(std::int64_t id) {
    OpName op{"lease keepalive", "lease " + int_string(id)};
    json body = {{"ID", int_string(id)}};
    json answer = co_await state_->call(op, "/v3/lease/keepalive", std::move(body));
    co_return decoded(op, [&] { return std::max<std::int64_t>(int_field(answer, "TTL"), 0); });
}

awaitable<void> EtcdClient::lease_revoke(std::int64_t id) {
    OpName op{"lease revoke", "lease " + int_string(id)};
    json body = {{"ID", int_string(id)}};
    co_await state_->call(op, "/v3/lease/revoke", std::move(body));
}

EtcdWatch EtcdClient::watch_prefix(std::string prefix, std::int64_t start_revision,
                                   WatchCallback callback) {
    auto state = std::make_shared<detail::WatchState>(state_, std::move(prefix), start_revision,
                                                      std::move(callback));
    asio::co_spawn(state_->executor, detail::WatchState::run(state), asio::detached);
    return EtcdWatch(std::move(state));
}

} // namespace weft
