// weft's NAT tables through libnftables: commands in nft's own language,
// listings read back as JSON.
#include "nat.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nftables/libnftables.h>

#include <nlohmann/json.hpp>

namespace weft {

namespace {

using nlohmann::json;

// The families weft has a table in (IPv4 first, then IPv6), and the
// protocol their rule matches.
struct Family {
    const char* name; // the table's family, as nft names it
    const char* proto;
};
constexpr std::array<Family, 2> families{{{"ip", "ip"}, {"ip6", "ip6"}}};

constexpr const char* chain_name = "postrouting";
constexpr int srcnat_priority = 100; // what nft lists for "priority srcnat"

// The pod CIDR of each family (by the index in `families`), or none.
using PerFamily = std::array<std::optional<Prefix>, families.size()>;

std::string describe(const Family& family, const std::string& table) {
    return std::string("table ") + family.name + " " + table;
}

// The errno whose text nft's message carries (the kernel's rejections read
// "Could not process rule: Operation not supported"), or EIO.
int errno_in(const std::string& message) {
    int found = EIO;
    std::size_t at = std::string::npos;
    for (int e = 1; e <= EHWPOISON; ++e) { // the last errno
        const char* text = strerrordesc_np(e);
        if (text == nullptr) {
            continue;
        }
        std::size_t pos = message.find(text);
        if (pos != std::string::npos && (at == std::string::npos || pos < at)) {
            at = pos;
            found = e;
        }
    }
    return found;
}

std::string trim(std::string_view text) {
    auto first = text.find_first_not_of(" \t\n");
    if (first == std::string_view::npos) {
        return {};
    }
    auto last = text.find_last_not_of(" \t\n");
    return std::string(text.substr(first, last - first + 1));
}

// nft's error output on one line: each "Error: ..." line (without nft's
// location prefix), followed by the input line it points at, if any; the
// caret lines underneath are dropped.
std::string condense(const std::string& output) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < output.size()) {
        std::size_t end = output.find('\n', start);
        if (end == std::string::npos) {
            end = output.size();
        }
        lines.push_back(output.substr(start, end - start));
        start = end + 1;
    }
    std::vector<std::string> errors;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        std::size_t pos = lines[i].find("Error: ");
        if (pos == std::string::npos) {
            continue;
        }
        std::string error = trim(std::string_view(lines[i]).substr(pos + 7));
        if (i + 1 < lines.size()) {
            std::string input = trim(lines[i + 1]);
            bool carets = input.find_first_not_of("^~ ") == std::string::npos;
            if (!input.empty() && !carets && input.find("Error: ") == std::string::npos) {
                error += " (in \"" + input + "\")";
            }
        }
        // A rejected transaction repeats the kernel's error for every
        // command in it, often pointing at the same line.
        if (std::find(errors.begin(), errors.end(), error) == errors.end()) {
            errors.push_back(error);
        }
    }
    std::string text;
    for (const auto& error : errors) {
        text += (text.empty() ? "" : "; ") + error;
    }
    if (text.empty()) {
        text = trim(output);
    }
    return text.empty() ? "nft failed without saying why" : text;
}

// Runs `commands` as one nft transaction; returns what nft printed (JSON
// when `json_output`). Throws NatError naming `doing`.
std::string run(nft_ctx* ctx, const std::string& commands, const std::string& doing,
                bool json_output) {
    unsigned flags = nft_ctx_output_get_flags(ctx);
    if (json_output) {
        flags |= NFT_CTX_OUTPUT_JSON;
    } else {
        flags &= ~static_cast<unsigned>(NFT_CTX_OUTPUT_JSON);
    }
    nft_ctx_output_set_flags(ctx, flags);
    int rc = nft_run_cmd_from_buffer(ctx, commands.c_str());
    // Reading a buffer also empties it for the next command.
    const char* out = nft_ctx_get_output_buffer(ctx);
    const char* err = nft_ctx_get_error_buffer(ctx);
    if (rc != 0) {
        std::string message = condense(err != nullptr ? err : "");
        throw NatError(errno_in(message), doing + ": " + message);
    }
    return out != nullptr ? out : "";
}

// The objects of a JSON listing (its "nftables" array without the
// metainfo), or nothing if nft printed something that is not the JSON it
// documents (which weft's own tables never make it do).
std::optional<std::vector<json>> listing(nft_ctx* ctx, const std::string& command,
                                         const std::string& doing) {
    std::string out = run(ctx, command, doing, true);
    std::vector<json> objects;
    try {
        json root = json::parse(out);
        for (const auto& object : root.at("nftables")) {
            if (!object.contains("metainfo")) {
                objects.push_back(object);
            }
        }
    } catch (const json::exception&) {
        return std::nullopt;
    }
    return objects;
}

// Which families hold weft's table. Read as text ("table FAMILY NAME" a
// line), which, unlike nft 1.0.6's JSON, stays readable whatever flags
// other tables have.
std::array<bool, families.size()> tables_present(nft_ctx* ctx, const std::string& table) {
    std::string out = run(ctx, "list tables", "listing nftables tables", false);
    std::array<bool, families.size()> found{};
    for (std::size_t i = 0; i < families.size(); ++i) {
        std::string line = describe(families[i], table) + "\n";
        found[i] = out.starts_with(line) || out.find("\n" + line) != std::string::npos;
    }
    return found;
}

// `prefix` as nft lists it in a match: a bare address for a host prefix.
json prefix_json(const Prefix& prefix) {
    bool host = prefix.len == (is_ipv4(prefix.addr) ? 32 : 128);
    if (host) {
        return to_string(prefix.addr);
    }
    return {{"prefix", {{"addr", to_string(prefix.addr)}, {"len", prefix.len}}}};
}

// weft's table of `family` for `cidr`, as nft lists it in JSON, with the
// handles left out and the counter at zero (see normalise()).
std::vector<json> expected_listing(const Family& family, const std::string& table,
                                   const Prefix& cidr, const std::string& device) {
    auto payload = [&](const char* field) {
        return json{{"payload", {{"protocol", family.proto}, {"field", field}}}};
    };
    json expr = json::array({
        {{"match", {{"op", "=="}, {"left", payload("saddr")}, {"right", prefix_json(cidr)}}}},
        {{"match", {{"op", "!="}, {"left", payload("daddr")}, {"right", prefix_json(cidr)}}}},
        {{"match", {{"op", "!="}, {"left", {{"meta", {{"key", "oifname"}}}}}, {"right", device}}}},
        {{"counter", {{"packets", 0}, {"bytes", 0}}}},
        {{"masquerade", nullptr}},
    });
    return {
        {{"table", {{"family", family.name}, {"name", table}}}},
        {{"chain",
          {{"family", family.name},
           {"table", table},
           {"name", chain_name},
           {"type", "nat"},
           {"hook", "postrouting"},
           {"prio", srcnat_priority},
           {"policy", "accept"}}}},
        {{"rule",
          {{"family", family.name}, {"table", table}, {"chain", chain_name}, {"expr", expr}}}},
    };
}

// A listed object without what changes by itself: handles and counter
// values.
json normalise(json object) {
    for (auto& [kind, body] : object.items()) {
        if (!body.is_object()) {
            continue;
        }
        body.erase("handle");
        if (kind != "rule" || !body.contains("expr") || !body["expr"].is_array()) {
            continue;
        }
        for (auto& statement : body["expr"]) {
            if (statement.is_object() && statement.contains("counter") &&
                statement["counter"].is_object()) {
                auto& counter = statement["counter"];
                if (counter.contains("packets")) {
                    counter["packets"] = 0;
                }
                if (counter.contains("bytes")) {
                    counter["bytes"] = 0;
                }
            }
        }
    }
    return object;
}

bool same(std::vector<json> listed, std::vector<json> expected) {
    if (listed.size() != expected.size()) {
        return false;
    }
    for (auto& object : listed) {
        object = normalise(std::move(object));
    }
    // Compared as sets: the order of a listing is nft's business.
    std::sort(listed.begin(), listed.end());
    std::sort(expected.begin(), expected.end());
    return listed == expected;
}

// Whether weft's table of `family` is what `cidr` asks for: absent for no
// CIDR, otherwise exactly the expected listing. `present` says whether
// the table exists (from tables_present()).
bool table_matches(nft_ctx* ctx, const Family& family, const std::string& table, bool present,
                   const std::optional<Prefix>& cidr, const std::string& device) {
    if (!cidr || !present) {
        return !cidr && !present;
    }
    std::string name = describe(family, table);
    // nft 1.0.6 reads freed memory when it prints a table's flags in JSON
    // (fixed in nft 1.0.9): a table with flags ("dormant", "owner") is not
    // what weft writes anyway, so it is found out in text and rewritten
    // without ever being listed in JSON.
    std::string text = run(ctx, "list " + name, "listing nftables " + name, false);
    if (text.find("\tflags ") != std::string::npos) {
        return false;
    }
    auto listed = listing(ctx, "list " + name, "listing nftables " + name);
    return listed && same(std::move(*listed), expected_listing(family, table, *cidr, device));
}

// weft's table of `family` for `cidr`, in nft's language, replacing the
// table whatever it holds (the add makes sure there is one to delete).
std::string table_commands(const Family& family, const std::string& table, const Prefix& cidr,
                           const std::string& device) {
    std::string head = std::string(family.name) + " " + table;
    std::string addr = to_string(cidr);
    std::string text = "add table " + head + "\n";
    text += "delete table " + head + "\n";
    text += "table " + head + " {\n";
    text += std::string("\tchain ") + chain_name + " {\n";
    text += "\t\ttype nat hook postrouting priority srcnat; policy accept;\n";
    text += std::string("\t\t") + family.proto + " saddr " + addr + " " + family.proto +
            " daddr != " + addr + " oifname != \"" + device + "\" counter masquerade\n";
    text += "\t}\n}\n";
    return text;
}

std::string removal_commands(const Family& family, const std::string& table) {
    std::string head = std::string(family.name) + " " + table;
    return "add table " + head + "\ndelete table " + head + "\n";
}

// An interface name that the kernel accepts and that nft reads back as the
// same literal string: no quotes, escapes or wildcard ('*' would make the
// match a prefix match).
bool valid_device(const std::string& name) {
    if (name.empty() || name.size() > 15 || name == "." || name == "..") {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
        return c > ' ' && c < 0x7f && std::strchr("/:\"\\*'", c) == nullptr;
    });
}

bool valid_table(const std::string& name) {
    if (name.empty() || name.size() > 64 || !std::isalpha(static_cast<unsigned char>(name[0]))) {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
    });
}

// The CIDR of each family in `spec`. Throws NatError (EINVAL).
PerFamily check(const NatSpec& spec) {
    if (!valid_device(spec.device)) {
        throw NatError(EINVAL, "NAT spec: \"" + spec.device + "\" is not a valid device name");
    }
    PerFamily cidrs;
    for (const auto& cidr : spec.cluster) {
        if (host_bits_set(cidr)) {
            throw NatError(EINVAL,
                           "NAT spec: cluster CIDR " + to_string(cidr) + " has host bits set");
        }
        auto& slot = cidrs[is_ipv4(cidr.addr) ? 0 : 1];
        if (slot && *slot != cidr) {
            throw NatError(EINVAL, "NAT spec: two cluster CIDRs of one family (" +
                                       to_string(*slot) + " and " + to_string(cidr) +
                                       "); weft masquerades for one per family");
        }
        slot = cidr;
    }
    return cidrs;
}

} // namespace

NatError::NatError(int errnum, const std::string& text) : Error(Verbatim{}, errnum, text) {}

void Nat::CtxFree::operator()(nft_ctx* ctx) const noexcept {
    nft_ctx_free(ctx);
}

Nat::Nat(std::string table) : table_(std::move(table)) {
    if (!valid_table(table_)) {
        throw NatError(EINVAL, "NAT: \"" + table_ + "\" is not a valid nftables table name");
    }
    ctx_.reset(nft_ctx_new(NFT_CTX_DEFAULT));
    if (!ctx_) {
        throw NatError(ENOMEM, "NAT: cannot create an nftables context");
    }
    // nft prints into buffers that run() reads, never onto weftd's stdout
    // or stderr.
    if (nft_ctx_buffer_output(ctx_.get()) != 0 || nft_ctx_buffer_error(ctx_.get()) != 0) {
        throw NatError(ENOMEM, "NAT: cannot buffer nftables output");
    }
}

bool Nat::ensure(const NatSpec& spec) {
    PerFamily cidrs = check(spec);
    auto have = tables_present(ctx_.get(), table_);
    std::string commands;
    std::string what = "nftables:";
    for (std::size_t i = 0; i < families.size(); ++i) {
        const Family& family = families[i];
        if (table_matches(ctx_.get(), family, table_, have[i], cidrs[i], spec.device)) {
            continue;
        }
        what += std::string(commands.empty() ? " " : ", ") + (cidrs[i] ? "writing " : "removing ") +
                describe(family, table_);
        commands += cidrs[i] ? table_commands(family, table_, *cidrs[i], spec.device)
                             : removal_commands(family, table_);
    }
    if (commands.empty()) {
        return false;
    }
    run(ctx_.get(), commands, what, false);
    return true;
}

bool Nat::remove() {
    auto have = tables_present(ctx_.get(), table_);
    std::string commands;
    std::string what = "nftables: removing";
    for (std::size_t i = 0; i < families.size(); ++i) {
        if (have[i]) {
            what += (commands.empty() ? " " : ", ") + describe(families[i], table_);
            commands += removal_commands(families[i], table_);
        }
    }
    if (commands.empty()) {
        return false;
    }
    run(ctx_.get(), commands, what, false);
    return true;
}

bool Nat::matches(const NatSpec& spec) const {
    PerFamily cidrs = check(spec);
    auto have = tables_present(ctx_.get(), table_);
    for (std::size_t i = 0; i < families.size(); ++i) {
        if (!table_matches(ctx_.get(), families[i], table_, have[i], cidrs[i], spec.device)) {
            return false;
        }
    }
    return true;
}

} // namespace weft
