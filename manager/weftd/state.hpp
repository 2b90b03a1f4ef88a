// weftd's embedded datastore: an SQLite database (by default
// /var/lib/weft/state.db) holding what the node agent must remember across
// restarts and crashes: the cluster's nodes as last seen, and the pod address
// allocations (see ipam.hpp).
//
// Every change happens inside Db::transaction(), which takes the write lock
// up front (BEGIN IMMEDIATE), so that two processes on the same file (weftd
// and a CNI plugin invocation, say) are serialised by SQLite's locking and
// its busy timeout rather than failing half-way. The database runs in WAL
// mode with synchronous=FULL: a transaction that returned has reached the
// disk, and one interrupted by a crash (or SIGKILL) is not visible at all.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <weft/addr.hpp>
#include <weft/error.hpp>

struct sqlite3;
struct sqlite3_stmt;

namespace weft {

inline constexpr const char* default_state_path = "/var/lib/weft/state.db";

// A failed SQLite call. what() says what weftd was doing and what SQLite
// reported, for example
//   "opening state database /x/state.db: unable to open database file (No such file or directory)".
// errnum() is the closest errno (EBUSY for a lock that the busy timeout did
// not see released, EEXIST for a constraint violation, EIO when nothing
// fits); sqlite_code() is SQLite's extended result code.
class DbError : public Error {
public:
    DbError(int sqlite_code, int errnum, const std::string& text);
    int sqlite_code() const noexcept { return sqlite_code_; }

private:
    int sqlite_code_;
};

struct SqliteCloser {
    void operator()(sqlite3* db) const noexcept;
};
struct StatementFinalizer {
    void operator()(sqlite3_stmt* stmt) const noexcept;
};

class Db;

// A prepared statement. Bind parameters count from 1, result columns from 0.
class Statement {
public:
    Statement(Db& db, std::string_view sql);

    Statement& bind(int index, std::int64_t value);
    Statement& bind(int index, std::string_view value);
    Statement& bind_null(int index);

    // Runs the statement to its next row: true if there is one to read,
    // false when it is done.
    bool step();
    // Runs a statement that returns no rows.
    void run();
    // Makes the statement ready to run again (bindings are kept).
    void reset();

    std::int64_t column_int(int column) const;
    std::string column_text(int column) const;
    bool column_null(int column) const;

private:
    std::unique_ptr<sqlite3_stmt, StatementFinalizer> stmt_;
};

// One node of the cluster as weftd last saw it. The text fields hold the
// usual text forms (an address, "vxlan" or "ipip", a MAC address, CIDR
// blocks); an empty string stands for an absent value (no IPv6 block, say).
// `updated` is a Unix time in seconds.
struct NodeRecord {
    std::string name;
    std::string addr;
    std::string encap;
    std::string vtep_mac;
    std::string block4;
    std::string block6;
    std::int64_t updated = 0;

    bool operator==(const NodeRecord&) const = default;
};

// A pod interface weftd registered in weft.ko: its attachment, the host
// side of its veth and its addresses.
struct EndpointRecord {
    std::string container_id;
    std::string ifname;
    std::string host_ifname;
    std::vector<IpAddr> addrs;

    bool operator==(const EndpointRecord&) const = default;
};

// An open state database. Opening creates the file if needed and brings its
// schema up to date (PRAGMA user_version counts the migrations applied);
// a database written by a newer weftd (a higher version) is refused.
// Not copyable or movable: statements and Ipam refer to it.
class Db {
public:
    // The schema version that this weftd writes.
    static constexpr int schema_version = 2;

    explicit Db(const std::string& path,
                std::chrono::milliseconds busy_timeout = std::chrono::seconds(5));
    Db(const Db&) = delete;
    Db& operator=(const Db&) = delete;

    const std::string& path() const noexcept { return path_; }
    sqlite3* handle() const noexcept { return db_.get(); }

    // Runs one or more statements that return no rows; `doing` describes
    // them for the error message ("" uses the SQL itself).
    void exec(const std::string& sql, const std::string& doing = "");
    Statement prepare(std::string_view sql) { return Statement(*this, sql); }
    int user_version();
    // Rows changed by the last INSERT, UPDATE or DELETE.
    std::int64_t changes();

    // Runs fn() in a transaction and returns its result: committed if fn
    // returns, rolled back if it throws (the exception goes on). A
    // transaction inside another one is a savepoint of the outer one.
    template <typename Fn>
    auto transaction(Fn&& fn) -> std::invoke_result_t<Fn&> {
        Transaction tx(*this);
        if constexpr (std::is_void_v<std::invoke_result_t<Fn&>>) {
            fn();
            tx.commit();
        } else {
            auto result = fn();
            tx.commit();
            return result;
        }
    }

    // The meta table: small named values (such as the allocation cursors).
    std::optional<std::string> get_meta(const std::string& key);
    void set_meta(const std::string& key, const std::string& value);

    // The nodes table. put_node() inserts or replaces by name; remove_node()
    // says whether there was such a node.
    void put_node(const NodeRecord& node);
    std::optional<NodeRecord> get_node(const std::string& name);
    std::vector<NodeRecord> list_nodes();
    bool remove_node(const std::string& name);

    // The endpoints table: the pod interfaces weftd registered in weft.ko.
    // put_endpoint() inserts or replaces by (container_id, ifname); the
    // addresses are stored as a JSON array of their text forms.
    // list_endpoints() throws a DbError (EBADMSG) for a row whose addrs is
    // not such an array.
    void put_endpoint(const EndpointRecord& ep);
    std::vector<EndpointRecord> list_endpoints();
    bool remove_endpoint(const std::string& container_id, const std::string& ifname);

private:
    // Begins on construction, rolls back on destruction unless committed.
    class Transaction {
    public:
        explicit Transaction(Db& db);
        Transaction(const Transaction&) = delete;
        Transaction& operator=(const Transaction&) = delete;
        ~Transaction();
        void commit();

    private:
        Db& db_;
        bool nested_;
        bool done_ = false;
    };

    void migrate();

    std::string path_;
    std::unique_ptr<sqlite3, SqliteCloser> db_;
};

} // namespace weft
