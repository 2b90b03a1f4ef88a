// weftd's state database: the SQLite wrapper, the schema and its migrations,
// and the meta, nodes and endpoints tables.
#include "state.hpp"

#include <cerrno>
#include <climits>
#include <cstring>

#include <nlohmann/json.hpp>

#include <sqlite3.h>

namespace weft {

namespace {

// The schema, one step per version: migrations[i] takes a database from
// user_version i to i + 1. Steps are only ever appended.
const char* const migrations[] = {
    // v1: the first schema.
    R"sql(
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE nodes (
        name TEXT PRIMARY KEY,
        addr TEXT NOT NULL,
        encap TEXT NOT NULL,
        vtep_mac TEXT NOT NULL,
        block4 TEXT NOT NULL,
        block6 TEXT NOT NULL,
        updated INTEGER NOT NULL
    );
    -- family is 4 or 6; changed is when the row entered its state (Unix seconds).
    CREATE TABLE allocations (
        container_id TEXT NOT NULL,
        ifname TEXT NOT NULL,
        family INTEGER NOT NULL CHECK (family IN (4, 6)),
        addr TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('active', 'cooling')),
        changed INTEGER NOT NULL,
        PRIMARY KEY (container_id, ifname, family)
    );
    -- An address is held by at most one active attachment, whatever the code
    -- above this table does.
    CREATE UNIQUE INDEX allocations_active_addr ON allocations (addr) WHERE state = 'active';
    CREATE INDEX allocations_state ON allocations (state, family);
    )sql",
    // v2: pod endpoints get a table of their own (v1 kept them as one JSON
    // array in meta "endpoints", rewritten whole on every attach and
    // release); addrs is a JSON array of address texts.
    R"sql(
    CREATE TABLE endpoints (
        container_id TEXT NOT NULL,
        ifname TEXT NOT NULL,
        host_ifname TEXT NOT NULL,
        addrs TEXT NOT NULL,
        PRIMARY KEY (container_id, ifname)
    );
    INSERT OR REPLACE INTO endpoints (container_id, ifname, host_ifname, addrs)
        SELECT json_extract(e.value, '$.container_id'), json_extract(e.value, '$.ifname'),
               json_extract(e.value, '$.host_ifname'), json(json_extract(e.value, '$.addrs'))
        FROM meta, json_each(meta.value) AS e WHERE meta.key = 'endpoints';
    DELETE FROM meta WHERE key = 'endpoints';
    -- IPAM looks addresses up one by one (active or cooling).
    CREATE INDEX allocations_addr ON allocations (addr);
    )sql",
};
constexpr int migration_count = static_cast<int>(std::size(migrations));
static_assert(migration_count == Db::schema_version);

int errno_for(sqlite3* db, int code) {
    switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return EBUSY;
    case SQLITE_CONSTRAINT:
        return EEXIST;
    case SQLITE_FULL:
        return ENOSPC;
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH:
        return EACCES;
    case SQLITE_NOMEM:
        return ENOMEM;
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
        if (db != nullptr && sqlite3_system_errno(db) != 0) {
            return sqlite3_system_errno(db);
        }
        return code == SQLITE_CANTOPEN ? ENOENT : EIO;
    default:
        return EIO;
    }
}

[[noreturn]] void fail(sqlite3* db, int code, const std::string& doing) {
    std::string text = doing + ": ";
    text += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code);
    int primary = code & 0xff;
    if ((primary == SQLITE_CANTOPEN || primary == SQLITE_IOERR) && db != nullptr &&
        sqlite3_system_errno(db) != 0) {
        text += std::string(" (") + std::strerror(sqlite3_system_errno(db)) + ")";
    }
    throw DbError(code, errno_for(db, code), text);
}

// The SQL of a statement for an error message: its first line, trimmed.
std::string describe(sqlite3_stmt* stmt) {
    std::string_view sql = sqlite3_sql(stmt);
    auto start = sql.find_first_not_of(" \t\n");
    sql.remove_prefix(start == std::string_view::npos ? sql.size() : start);
    sql = sql.substr(0, sql.find('\n'));
    return "running \"" + std::string(sql) + "\"";
}

struct SqliteFree {
    void operator()(char* p) const noexcept { sqlite3_free(p); }
};

} // namespace

DbError::DbError(int sqlite_code, int errnum, const std::string& text)
    : Error(Verbatim{}, errnum, text), sqlite_code_(sqlite_code) {}

void SqliteCloser::operator()(sqlite3* db) const noexcept {
    // Statements are finalised by their owners first, so this cannot be
    // SQLITE_BUSY.
    sqlite3_close(db);
}

void StatementFinalizer::operator()(sqlite3_stmt* stmt) const noexcept {
    sqlite3_finalize(stmt);
}

// Statement

Statement::Statement(Db& db, std::string_view sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sql.size() > INT_MAX) {
        throw DbError(SQLITE_TOOBIG, E2BIG, "preparing a statement: SQL too long");
    }
    int rc =
        sqlite3_prepare_v2(db.handle(), sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
    stmt_.reset(stmt);
    if (rc != SQLITE_OK) {
        fail(db.handle(), rc, "preparing \"" + std::string(sql) + "\"");
    }
}

Statement& Statement::bind(int index, std::int64_t value) {
    int rc = sqlite3_bind_int64(stmt_.get(), index, value);
    if (rc != SQLITE_OK) {
        fail(sqlite3_db_handle(stmt_.get()), rc, "binding parameter " + std::to_string(index));
    }
    return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
    int rc = sqlite3_bind_text64(stmt_.get(), index, value.data(), value.size(), SQLITE_TRANSIENT,
                                 SQLITE_UTF8);
    if (rc != SQLITE_OK) {
        fail(sqlite3_db_handle(stmt_.get()), rc, "binding parameter " + std::to_string(index));
    }
    return *this;
}

Statement& Statement::bind_null(int index) {
    int rc = sqlite3_bind_null(stmt_.get(), index);
    if (rc != SQLITE_OK) {
        fail(sqlite3_db_handle(stmt_.get()), rc, "binding parameter " + std::to_string(index));
    }
    return *this;
}

bool Statement::step() {
    int rc = sqlite3_step(stmt_.get());
    if (rc == SQLITE_ROW) {
        return true;
    }
    if (rc == SQLITE_DONE) {
        return false;
    }
    sqlite3* db = sqlite3_db_handle(stmt_.get());
    std::string doing = describe(stmt_.get());
    // Reset so that a failed statement does not keep the database busy.
    sqlite3_reset(stmt_.get());
    fail(db, rc, doing);
}

void Statement::run() {
    while (step()) {
    }
}

void Statement::reset() {
    sqlite3_reset(stmt_.get());
}

std::int64_t Statement::column_int(int column) const {
    return sqlite3_column_int64(stmt_.get(), column);
}

std::string Statement::column_text(int column) const {
    const unsigned char* text = sqlite3_column_text(stmt_.get(), column);
    int len = sqlite3_column_bytes(stmt_.get(), column);
    if (text == nullptr) {
        return {};
    }
    return std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(len));
}

bool Statement::column_null(int column) const {
    return sqlite3_column_type(stmt_.get(), column) == SQLITE_NULL;
}

// Db

Db::Db(const std::string& path, std::chrono::milliseconds busy_timeout) : path_(path) {
    sqlite3* db = nullptr;
    int rc =
        sqlite3_open_v2(path.c_str(), &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW, nullptr);
    // Even a failed open may allocate a handle, which carries the message.
    db_.reset(db);
    std::string opening = "opening state database " + path;
    if (rc != SQLITE_OK) {
        fail(db, rc, opening);
    }
    sqlite3_extended_result_codes(db, 1);
    rc = sqlite3_busy_timeout(db, static_cast<int>(busy_timeout.count()));
    if (rc != SQLITE_OK) {
        fail(db, rc, opening);
    }
    // The journal mode is the one pragma that reports failure only through
    // its result: a file system without shared memory keeps the old mode.
    {
        Statement wal(*this, "PRAGMA journal_mode = WAL");
        if (!wal.step() || wal.column_text(0) != "wal") {
            throw DbError(SQLITE_ERROR, EIO,
                          opening + ": cannot switch to write-ahead logging (journal mode " +
                              wal.column_text(0) + ")");
        }
    }
    exec("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON", opening);
    migrate();
}

void Db::exec(const std::string& sql, const std::string& doing) {
    char* message = nullptr;
    int rc = sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, &message);
    std::unique_ptr<char, SqliteFree> owned(message);
    if (rc != SQLITE_OK) {
        std::string what = doing.empty() ? "running \"" + sql + "\"" : doing;
        if (owned) {
            throw DbError(rc, errno_for(db_.get(), rc), what + ": " + owned.get());
        }
        fail(db_.get(), rc, what);
    }
}

int Db::user_version() {
    Statement st(*this, "PRAGMA user_version");
    st.step();
    return static_cast<int>(st.column_int(0));
}

std::int64_t Db::changes() {
    return sqlite3_changes64(handle());
}

void Db::migrate() {
    auto too_new = [this](int version) {
        return DbError(SQLITE_ERROR, EPROTO,
                       "state database " + path_ + " has schema version " +
                           std::to_string(version) + ", newer than this weftd understands (" +
                           std::to_string(schema_version) + ")");
    };
    // The common case, a database already up to date, takes no write lock.
    int version = user_version();
    if (version == schema_version) {
        return;
    }
    if (version > schema_version) {
        throw too_new(version);
    }
    transaction([&] {
        // Read again under the write lock: another process may have
        // migrated the file meanwhile.
        version = user_version();
        if (version > schema_version) {
            throw too_new(version);
        }
        for (int v = version; v < migration_count; ++v) {
            exec(migrations[v], "migrating state database " + path_ + " to schema version " +
                                    std::to_string(v + 1));
        }
        exec("PRAGMA user_version = " + std::to_string(schema_version),
             "setting the schema version of " + path_);
    });
}

Db::Transaction::Transaction(Db& db) : db_(db), nested_(sqlite3_get_autocommit(db.handle()) == 0) {
    db_.exec(nested_ ? "SAVEPOINT weft_tx" : "BEGIN IMMEDIATE",
             "starting a transaction on " + db_.path());
}

void Db::Transaction::commit() {
    db_.exec(nested_ ? "RELEASE weft_tx" : "COMMIT", "committing a transaction on " + db_.path());
    done_ = true;
}

Db::Transaction::~Transaction() {
    if (done_) {
        return;
    }
    // Errors such as SQLITE_FULL roll the transaction back by themselves;
    // there is then nothing left to undo. Errors of the rollback itself
    // cannot be reported from here, and the exception on its way out says
    // what went wrong first.
    if (nested_) {
        sqlite3_exec(db_.handle(), "ROLLBACK TO weft_tx; RELEASE weft_tx", nullptr, nullptr,
                     nullptr);
    } else if (sqlite3_get_autocommit(db_.handle()) == 0) {
        sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
}

// meta

std::optional<std::string> Db::get_meta(const std::string& key) {
    Statement st(*this, "SELECT value FROM meta WHERE key = ?1");
    st.bind(1, key);
    if (!st.step()) {
        return std::nullopt;
    }
    return st.column_text(0);
}

void Db::set_meta(const std::string& key, const std::string& value) {
    Statement st(*this, "INSERT INTO meta (key, value) VALUES (?1, ?2) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
    st.bind(1, key).bind(2, value).run();
}

// nodes

namespace {

constexpr const char* node_columns = "name, addr, encap, vtep_mac, block4, block6, updated";

NodeRecord read_node(const Statement& st) {
    return NodeRecord{st.column_text(0), st.column_text(1), st.column_text(2), st.column_text(3),
                      st.column_text(4), st.column_text(5), st.column_int(6)};
}

} // namespace

void Db::put_node(const NodeRecord& node) {
    Statement st(*this, std::string("INSERT OR REPLACE INTO nodes (") + node_columns +
                            ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    st.bind(1, node.name)
        .bind(2, node.addr)
        .bind(3, node.encap)
        .bind(4, node.vtep_mac)
        .bind(5, node.block4)
        .bind(6, node.block6)
        .bind(7, node.updated)
        .run();
}

std::optional<NodeRecord> Db::get_node(const std::string& name) {
    Statement st(*this, std::string("SELECT ") + node_columns + " FROM nodes WHERE name = ?1");
    st.bind(1, name);
    if (!st.step()) {
        return std::nullopt;
    }
    return read_node(st);
}

std::vector<NodeRecord> Db::list_nodes() {
    Statement st(*this, std::string("SELECT ") + node_columns + " FROM nodes ORDER BY name");
    std::vector<NodeRecord> nodes;
    while (st.step()) {
        nodes.push_back(read_node(st));
    }
    return nodes;
}

bool Db::remove_node(const std::string& name) {
    Statement st(*this, "DELETE FROM nodes WHERE name = ?1");
    st.bind(1, name).run();
    return changes() > 0;
}

void Db::put_endpoint(const EndpointRecord& ep) {
    auto addrs = nlohmann::json::array();
    for (const auto& a : ep.addrs) {
        addrs.push_back(to_string(a));
    }
    Statement st(*this, "INSERT OR REPLACE INTO endpoints (container_id, ifname, host_ifname, "
                        "addrs) VALUES (?1, ?2, ?3, ?4)");
    st.bind(1, ep.container_id)
        .bind(2, ep.ifname)
        .bind(3, ep.host_ifname)
        .bind(4, addrs.dump())
        .run();
}

std::vector<EndpointRecord> Db::list_endpoints() {
    Statement st(*this, "SELECT container_id, ifname, host_ifname, addrs FROM endpoints "
                        "ORDER BY container_id, ifname");
    std::vector<EndpointRecord> out;
    while (st.step()) {
        EndpointRecord ep{st.column_text(0), st.column_text(1), st.column_text(2), {}};
        auto text = st.column_text(3);
        auto malformed = [&] {
            return DbError(0, EBADMSG,
                           "state database " + path_ + ": endpoint " + ep.container_id + "/" +
                               ep.ifname + " has addrs " + text +
                               " in the endpoints table, not an array of IP addresses");
        };
        auto addrs = nlohmann::json::parse(text, nullptr, false);
        if (!addrs.is_array()) {
            throw malformed();
        }
        for (const auto& a : addrs) {
            auto addr = a.is_string() ? parse_ip(a.get<std::string>()) : std::nullopt;
            if (!addr) {
                throw malformed();
            }
            ep.addrs.push_back(*addr);
        }
        out.push_back(std::move(ep));
    }
    return out;
}

bool Db::remove_endpoint(const std::string& container_id, const std::string& ifname) {
    Statement st(*this, "DELETE FROM endpoints WHERE container_id = ?1 AND ifname = ?2");
    st.bind(1, container_id).bind(2, ifname).run();
    return changes() > 0;
}

} // namespace weft
