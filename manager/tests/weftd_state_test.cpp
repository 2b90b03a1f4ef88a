// weftd's state database: opening, schema versions, errors, transactions and
// the nodes, meta and endpoints tables.
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "state.hpp"
#include <sqlite3.h>

namespace weft {

// Shared with weftd_ipam_test.cpp (one test binary): a new directory under
// $TMPDIR or /tmp, or "" (and a test failure) if it cannot be made.
std::string make_temp_dir(const std::string& stem) {
    std::string path = std::filesystem::temp_directory_path() / (stem + "-XXXXXX");
    if (mkdtemp(path.data()) == nullptr) {
        ADD_FAILURE() << "mkdtemp " << path << ": " << std::strerror(errno);
        return {};
    }
    return path;
}

namespace {

::testing::AssertionResult contains(const std::string& text, const std::string& part) {
    if (text.find(part) != std::string::npos) {
        return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "\"" << text << "\" lacks \"" << part << "\"";
}

IpAddr ip(std::string_view text) {
    return parse_ip(text).value();
}

class StateDb : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = make_temp_dir("weftd-state");
        ASSERT_FALSE(dir_.empty());
        path_ = dir_ + "/state.db";
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    // A database file written with SQLite directly, as an older or newer
    // weftd might have left it.
    void write_raw(const std::string& sql) {
        sqlite3* raw = nullptr;
        ASSERT_EQ(sqlite3_open(path_.c_str(), &raw), SQLITE_OK);
        std::unique_ptr<sqlite3, SqliteCloser> db(raw);
        ASSERT_EQ(sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    }

    static std::string pragma(Db& db, const std::string& name) {
        Statement st = db.prepare("PRAGMA " + name);
        EXPECT_TRUE(st.step());
        return st.column_text(0);
    }

    std::string dir_;
    std::string path_;
};

TEST_F(StateDb, CreatesSchemaWithSettings) {
    Db db(path_);
    EXPECT_EQ(db.user_version(), Db::schema_version);
    EXPECT_EQ(db.user_version(), 2);
    EXPECT_EQ(pragma(db, "journal_mode"), "wal");
    EXPECT_EQ(pragma(db, "synchronous"), "2"); // FULL
    EXPECT_EQ(pragma(db, "foreign_keys"), "1");
    for (const char* table : {"meta", "nodes", "allocations", "endpoints"}) {
        Statement st = db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = ?1");
        st.bind(1, table);
        ASSERT_TRUE(st.step());
        EXPECT_EQ(st.column_int(0), 1) << table;
    }
}

TEST_F(StateDb, ReopenKeepsDataAndVersion) {
    {
        Db db(path_);
        db.set_meta("k", "v");
    }
    Db db(path_);
    EXPECT_EQ(db.user_version(), 2);
    EXPECT_EQ(db.get_meta("k"), "v");
    EXPECT_EQ(db.get_meta("missing"), std::nullopt);
}

TEST_F(StateDb, MigratesVersionZeroFile) {
    write_raw("CREATE TABLE unrelated (x INTEGER); INSERT INTO unrelated VALUES (7)");
    Db db(path_);
    EXPECT_EQ(db.user_version(), 2);
    db.set_meta("k", "v");
    Statement st = db.prepare("SELECT x FROM unrelated");
    ASSERT_TRUE(st.step());
    EXPECT_EQ(st.column_int(0), 7);
}

TEST_F(StateDb, RefusesNewerSchema) {
    write_raw("PRAGMA user_version = 99");
    try {
        Db db(path_);
        FAIL() << "opened a database from the future";
    } catch (const DbError& e) {
        EXPECT_TRUE(contains(e.what(), path_));
        EXPECT_TRUE(contains(e.what(), "schema version 99, newer than this weftd understands (2)"));
    }
}

TEST_F(StateDb, OpenErrorNamesPathAndCause) {
    std::string bad = dir_ + "/no/such/dir/state.db";
    try {
        Db db(bad);
        FAIL() << "opened " << bad;
    } catch (const DbError& e) {
        EXPECT_EQ(std::string(e.what()), "opening state database " + bad +
                                             ": unable to open database file (No such file or "
                                             "directory)");
        EXPECT_EQ(e.errnum(), ENOENT);
        EXPECT_EQ(e.sqlite_code() & 0xff, SQLITE_CANTOPEN);
    }
}

TEST_F(StateDb, SqlErrorsNameTheStatement) {
    Db db(path_);
    try {
        db.prepare("SELECT * FROM nope");
        FAIL();
    } catch (const DbError& e) {
        EXPECT_EQ(std::string(e.what()), "preparing \"SELECT * FROM nope\": no such table: nope");
    }
    try {
        db.exec("DELETE FROM nope", "clearing nope");
        FAIL();
    } catch (const DbError& e) {
        EXPECT_EQ(std::string(e.what()), "clearing nope: no such table: nope");
    }
}

TEST_F(StateDb, ActiveAddressIsUnique) {
    Db db(path_);
    const char* insert = "INSERT INTO allocations VALUES (?1, 'eth0', 4, '10.0.0.2', ?2, 0)";
    db.prepare(insert).bind(1, "a").bind(2, "active").run();
    // A cooling row may name the address that an active one holds.
    db.prepare(insert).bind(1, "b").bind(2, "cooling").run();
    try {
        db.prepare(insert).bind(1, "c").bind(2, "active").run();
        FAIL() << "an address was held twice";
    } catch (const DbError& e) {
        EXPECT_EQ(e.errnum(), EEXIST);
        EXPECT_TRUE(contains(e.what(), "UNIQUE constraint failed: allocations.addr"));
        EXPECT_TRUE(contains(e.what(), "running \"INSERT INTO allocations"));
    }
    EXPECT_THROW(db.prepare(insert).bind(1, "d").bind(2, "gone").run(), DbError);
}

TEST_F(StateDb, TransactionCommitsOrRollsBack) {
    Db db(path_);
    EXPECT_EQ(db.transaction([&] {
        db.set_meta("kept", "1");
        return 42;
    }),
              42);
    EXPECT_THROW(db.transaction([&] {
        db.set_meta("lost", "1");
        throw std::runtime_error("abort");
    }),
                 std::runtime_error);
    EXPECT_EQ(db.get_meta("kept"), "1");
    EXPECT_EQ(db.get_meta("lost"), std::nullopt);
    // Not left inside a transaction.
    EXPECT_NE(sqlite3_get_autocommit(db.handle()), 0);
}

TEST_F(StateDb, NestedTransactionIsASavepoint) {
    Db db(path_);
    db.transaction([&] {
        db.set_meta("outer", "1");
        EXPECT_THROW(db.transaction([&] {
            db.set_meta("inner", "1");
            throw std::runtime_error("abort inner");
        }),
                     std::runtime_error);
        db.transaction([&] { db.set_meta("inner2", "1"); });
    });
    EXPECT_EQ(db.get_meta("outer"), "1");
    EXPECT_EQ(db.get_meta("inner"), std::nullopt);
    EXPECT_EQ(db.get_meta("inner2"), "1");
}

TEST_F(StateDb, LockedDatabaseTimesOut) {
    Db holder(path_);
    Db waiter(path_, std::chrono::milliseconds(50));
    holder.transaction([&] {
        holder.set_meta("k", "1");
        try {
            waiter.transaction([&] { waiter.set_meta("k", "2"); });
            FAIL() << "two writers at once";
        } catch (const DbError& e) {
            EXPECT_EQ(e.errnum(), EBUSY);
            EXPECT_EQ(std::string(e.what()),
                      "starting a transaction on " + path_ + ": database is locked");
        }
    });
    EXPECT_EQ(waiter.get_meta("k"), "1");
}

TEST_F(StateDb, Nodes) {
    Db db(path_);
    NodeRecord a{"node-a",        "192.0.2.1",          "vxlan", "02:00:00:00:00:01",
                 "10.244.1.0/24", "fd00:10:244:1::/64", 1000};
    NodeRecord b{"node-b", "192.0.2.2", "ipip", "", "10.244.2.0/24", "", 1001};
    db.put_node(b);
    db.put_node(a);
    EXPECT_EQ(db.get_node("node-a"), a);
    EXPECT_EQ(db.get_node("node-c"), std::nullopt);
    EXPECT_EQ(db.list_nodes(), (std::vector<NodeRecord>{a, b}));

    a.addr = "192.0.2.10";
    a.updated = 2000;
    db.put_node(a);
    EXPECT_EQ(db.get_node("node-a"), a);
    EXPECT_EQ(db.list_nodes().size(), 2u);

    EXPECT_TRUE(db.remove_node("node-b"));
    EXPECT_FALSE(db.remove_node("node-b"));
    EXPECT_EQ(db.list_nodes(), (std::vector<NodeRecord>{a}));
}

TEST_F(StateDb, Endpoints) {
    Db db(path_);
    EndpointRecord a{"c1", "eth0", "wft0123456789a", {ip("10.244.1.2"), ip("fd00:10:244:1::2")}};
    EndpointRecord b{"c2", "eth0", "wft0123456789b", {ip("10.244.1.3")}};
    db.put_endpoint(b);
    db.put_endpoint(a);
    EXPECT_EQ(db.list_endpoints(), (std::vector<EndpointRecord>{a, b}));
    a.host_ifname = "wft0123456789c";
    db.put_endpoint(a); // replaces by (container_id, ifname)
    EXPECT_EQ(db.list_endpoints(), (std::vector<EndpointRecord>{a, b}));
    EXPECT_TRUE(db.remove_endpoint("c2", "eth0"));
    EXPECT_FALSE(db.remove_endpoint("c2", "eth0"));
    EXPECT_EQ(db.list_endpoints(), (std::vector<EndpointRecord>{a}));
}

// The addresses are stored as a JSON array of their text forms, as schema
// version 2 (and its migration from version 1) has them.
TEST_F(StateDb, EndpointAddressesAreStoredAsText) {
    Db db(path_);
    db.put_endpoint({"c1", "eth0", "wft0123456789a", {ip("10.244.1.2"), ip("fd00:10:244:1::2")}});
    Statement st = db.prepare("SELECT addrs FROM endpoints");
    ASSERT_TRUE(st.step());
    EXPECT_EQ(st.column_text(0), R"(["10.244.1.2","fd00:10:244:1::2"])");
}

TEST_F(StateDb, MalformedEndpointAddressesAreAnError) {
    Db db(path_);
    for (const char* addrs :
         {R"(["10.244.1.256"])", R"(["10.244.1.2", 7])", R"("10.244.1.2")", "[10.244"}) {
        Statement st = db.prepare("INSERT OR REPLACE INTO endpoints VALUES ('c1', 'eth0', "
                                  "'wft0123456789a', ?1)");
        st.bind(1, addrs).run();
        try {
            db.list_endpoints();
            ADD_FAILURE() << addrs << " read as addresses";
        } catch (const DbError& e) {
            EXPECT_EQ(e.errnum(), EBADMSG);
            EXPECT_TRUE(contains(e.what(), "state database " + path_ +
                                               ": endpoint c1/eth0 has addrs " + addrs +
                                               " in the endpoints table, not an array of IP "
                                               "addresses"));
        }
    }
}

// Version 1 kept the endpoints as one JSON array in meta "endpoints":
// opening moves them into the table, and the meta row goes.
TEST_F(StateDb, MigratesVersionOneEndpoints) {
    write_raw(R"sql(
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE allocations (
            container_id TEXT NOT NULL, ifname TEXT NOT NULL, family INTEGER NOT NULL,
            addr TEXT NOT NULL, state TEXT NOT NULL, changed INTEGER NOT NULL,
            PRIMARY KEY (container_id, ifname, family));
        INSERT INTO meta VALUES ('cursor4', '10.244.1.9');
        INSERT INTO meta VALUES ('endpoints', '[
            {"container_id":"c1","ifname":"eth0","host_ifname":"wft0123456789a",
             "addrs":["10.244.1.2","fd00:10:244:1::2"]},
            {"container_id":"c2","ifname":"net1","host_ifname":"wft0123456789b",
             "addrs":["10.244.1.3"]}]');
        PRAGMA user_version = 1;
    )sql");
    Db db(path_);
    EXPECT_EQ(db.user_version(), 2);
    EXPECT_EQ(db.list_endpoints(),
              (std::vector<EndpointRecord>{
                  {"c1", "eth0", "wft0123456789a", {ip("10.244.1.2"), ip("fd00:10:244:1::2")}},
                  {"c2", "net1", "wft0123456789b", {ip("10.244.1.3")}}}));
    EXPECT_EQ(db.get_meta("endpoints"), std::nullopt);
    EXPECT_EQ(db.get_meta("cursor4"), "10.244.1.9");
}

} // namespace
} // namespace weft
