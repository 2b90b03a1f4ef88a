#include "datastore.hpp"

#include <algorithm>
#include <chrono>
#include <limits>

#include <nlohmann/json.hpp>

namespace weft {

namespace {

using json = nlohmann::json;

unsigned family_bits(const IpAddr& addr) {
    return is_ipv4(addr) ? 32 : 128;
}

void validate_family(const char* name, const std::optional<Prefix>& cidr, std::uint8_t block_len,
                     bool v4) {
    if (!cidr) {
        return;
    }
    const std::string what = std::string("cluster CIDR ") + name + " " + to_string(*cidr);
    if (is_ipv4(cidr->addr) != v4) {
        throw std::invalid_argument(what + " is not an IP" + name + " prefix");
    }
    if (host_bits_set(*cidr)) {
        throw std::invalid_argument(what + " has host bits set");
    }
    if (block_len < cidr->len || block_len > family_bits(cidr->addr)) {
        throw std::invalid_argument(what + ": a /" + std::to_string(block_len) +
                                    " block does not fit into it");
    }
}

// The text of an optional JSON string field; nothing if absent.
std::optional<std::string> text_field(const json& object, const char* field) {
    auto it = object.find(field);
    if (it == object.end() || it->is_null()) {
        return std::nullopt;
    }
    if (!it->is_string()) {
        throw std::invalid_argument(std::string("field \"") + field + "\" is not a string");
    }
    return it->get<std::string>();
}

[[noreturn]] void bad_field(const char* field, const std::string& text) {
    throw std::invalid_argument(std::string("field \"") + field + "\" is not valid: \"" + text +
                                "\"");
}

// Fills `node` from the text forms shared by the JSON record and the database
// row; an empty or absent value leaves the field unset (addr is required).
void fill_node(NodeSpec& node, const std::optional<std::string>& addr,
               const std::optional<std::string>& encap, const std::optional<std::string>& mac,
               const std::optional<std::string>& block4, const std::optional<std::string>& block6) {
    if (!addr || addr->empty()) {
        throw std::invalid_argument("field \"addr\" is missing");
    }
    auto ip = parse_ip(*addr);
    if (!ip) {
        bad_field("addr", *addr);
    }
    node.addr = *ip;
    if (encap && !encap->empty()) {
        auto e = parse_encap(*encap);
        if (!e) {
            bad_field("encap", *encap);
        }
        node.encap = *e;
    }
    if (mac && !mac->empty()) {
        node.vtep_mac = parse_mac(*mac);
        if (!node.vtep_mac) {
            bad_field("vtep_mac", *mac);
        }
    }
    auto block = [](const char* field, const std::optional<std::string>& text, bool v4) {
        std::optional<Prefix> prefix;
        if (text && !text->empty()) {
            prefix = parse_prefix(*text);
            if (!prefix || is_ipv4(prefix->addr) != v4 || host_bits_set(*prefix)) {
                bad_field(field, *text);
            }
        }
        return prefix;
    };
    node.block4 = block("block4", block4, true);
    node.block6 = block("block6", block6, false);
}

std::string optional_text(const std::optional<Prefix>& prefix) {
    return prefix ? to_string(*prefix) : std::string();
}

} // namespace

void validate(const ClusterConfig& cluster) {
    if (!cluster.cidr4 && !cluster.cidr6) {
        throw std::invalid_argument("the cluster has neither an IPv4 nor an IPv6 CIDR");
    }
    validate_family("v4", cluster.cidr4, cluster.block_len4, true);
    validate_family("v6", cluster.cidr6, cluster.block_len6, false);
}

std::vector<BlockFamily> block_families(const ClusterConfig& cluster) {
    std::vector<BlockFamily> families;
    if (cluster.cidr4) {
        families.push_back({"v4", *cluster.cidr4, cluster.block_len4, &NodeSpec::block4});
    }
    if (cluster.cidr6) {
        families.push_back({"v6", *cluster.cidr6, cluster.block_len6, &NodeSpec::block6});
    }
    return families;
}

std::uint64_t block_count(const Prefix& cidr, std::uint8_t block_len) {
    unsigned bits = block_len > cidr.len ? block_len - cidr.len : 0;
    if (bits >= 64) {
        return std::numeric_limits<std::uint64_t>::max();
    }
    return std::uint64_t(1) << bits;
}

Prefix nth_block(const Prefix& cidr, std::uint8_t block_len, std::uint64_t index) {
    Prefix block{cidr.addr, block_len};
    auto set_bit = [&](auto& bytes) {
        // Bit j of the index is address bit block_len - 1 - j (counted from
        // the most significant); the CIDR's host bits are all zero.
        for (unsigned j = 0; j < 64 && block_len >= cidr.len + j + 1; ++j) {
            if ((index >> j) & 1) {
                unsigned bit = block_len - 1 - j;
                bytes[bit / 8] |= std::uint8_t(0x80 >> (bit % 8));
            }
        }
    };
    std::visit(set_bit, block.addr);
    return block;
}

bool is_block_of(const Prefix& block, const Prefix& cidr, std::uint8_t block_len) {
    if (block.len != block_len || is_ipv4(block.addr) != is_ipv4(cidr.addr) ||
        host_bits_set(block) || block_len < cidr.len) {
        return false;
    }
    auto a = addr_bytes(block.addr);
    auto c = addr_bytes(cidr.addr);
    for (unsigned bit = 0; bit < cidr.len; ++bit) {
        std::uint8_t mask = std::uint8_t(0x80 >> (bit % 8));
        if ((a[bit / 8] & mask) != (c[bit / 8] & mask)) {
            return false;
        }
    }
    return true;
}

std::optional<Prefix> first_free_block(const BlockFamily& family,
                                       const std::set<std::string>& taken) {
    std::uint64_t count = block_count(family.cidr, family.block_len);
    // Only taken blocks can be skipped: at most taken.size() + 1 candidates.
    for (std::uint64_t i = 0; i < count && i <= taken.size(); ++i) {
        Prefix block = nth_block(family.cidr, family.block_len, i);
        if (!taken.contains(to_string(block))) {
            return block;
        }
    }
    return std::nullopt;
}

BlocksExhausted::BlocksExhausted(const BlockFamily& family, const std::string& node)
    : std::runtime_error("no free /" + std::to_string(family.block_len) + " block left in " +
                         to_string(family.cidr) + " for node \"" + node + "\" (" +
                         std::to_string(block_count(family.cidr, family.block_len)) +
                         " blocks, all owned)") {}

std::string node_to_json(const NodeSpec& node) {
    json j = {{"addr", to_string(node.addr)}, {"encap", to_string(node.encap)}};
    if (node.vtep_mac) {
        j["vtep_mac"] = mac_to_string(*node.vtep_mac);
    }
    if (node.block4) {
        j["block4"] = to_string(*node.block4);
    }
    if (node.block6) {
        j["block6"] = to_string(*node.block6);
    }
    return j.dump();
}

NodeSpec node_from_json(const std::string& name, std::string_view text) {
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded()) {
        throw std::invalid_argument("not JSON");
    }
    if (!j.is_object()) {
        throw std::invalid_argument("not a JSON object");
    }
    NodeSpec node;
    node.name = name;
    fill_node(node, text_field(j, "addr"), text_field(j, "encap"), text_field(j, "vtep_mac"),
              text_field(j, "block4"), text_field(j, "block6"));
    return node;
}

NodeRecord node_to_record(const NodeSpec& node) {
    NodeRecord record;
    record.name = node.name;
    record.addr = to_string(node.addr);
    record.encap = to_string(node.encap);
    record.vtep_mac = node.vtep_mac ? mac_to_string(*node.vtep_mac) : "";
    record.block4 = optional_text(node.block4);
    record.block6 = optional_text(node.block6);
    record.updated = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    return record;
}

NodeSpec node_from_record(const NodeRecord& record) {
    NodeSpec node;
    node.name = record.name;
    fill_node(node, record.addr, record.encap, record.vtep_mac, record.block4, record.block6);
    return node;
}

namespace detail {

std::vector<NodeSpec> sorted_nodes(const std::map<std::string, NodeSpec>& nodes) {
    std::vector<NodeSpec> all;
    all.reserve(nodes.size());
    for (const auto& entry : nodes) {
        all.push_back(entry.second);
    }
    return all;
}

void NodeHub::publish(std::map<std::string, NodeSpec> next, std::vector<std::string> errors) {
    NodeUpdate update;
    for (const auto& [name, node] : nodes_) {
        auto it = next.find(name);
        if (it == next.end()) {
            update.events.push_back({NodeEvent::Type::removed, node});
        } else if (!(it->second == node)) {
            update.events.push_back({NodeEvent::Type::updated, it->second});
        }
    }
    for (const auto& [name, node] : next) {
        if (!nodes_.contains(name)) {
            update.events.push_back({NodeEvent::Type::added, node});
        }
    }
    nodes_ = std::move(next);
    if (!errors.empty()) {
        status_.last_error = errors.back();
    }
    if (update.events.empty() && errors.empty()) {
        return;
    }
    update.nodes = sorted_nodes(nodes_);
    update.errors = std::move(errors);
    // A callback may stop its own watch or another one: look each up anew.
    std::vector<std::uint64_t> ids;
    for (const auto& entry : callbacks_) {
        ids.push_back(entry.first);
    }
    for (std::uint64_t id : ids) {
        auto it = callbacks_.find(id);
        if (it != callbacks_.end()) {
            NodeCallback callback = it->second;
            callback(update);
        }
    }
}

std::uint64_t NodeHub::subscribe(NodeCallback callback) {
    std::uint64_t id = next_id_++;
    callbacks_.emplace(id, std::move(callback));
    return id;
}

void NodeHub::unsubscribe(std::uint64_t id) noexcept {
    callbacks_.erase(id);
}

void NodeHub::set_ok() {
    status_.ok = true;
    status_.reason.clear();
}

void NodeHub::set_down(std::string reason) {
    status_.ok = false;
    status_.reason = std::move(reason);
}

void NodeHub::note_error(std::string error) {
    status_.last_error = std::move(error);
}

} // namespace detail

NodeWatch& NodeWatch::operator=(NodeWatch&& other) noexcept {
    if (this != &other) {
        stop();
        hub_ = std::move(other.hub_);
        id_ = std::exchange(other.id_, 0);
    }
    return *this;
}

void NodeWatch::stop() noexcept {
    if (auto hub = hub_.lock()) {
        hub->unsubscribe(id_);
    }
    hub_.reset();
    id_ = 0;
}

Datastore::Datastore() : hub_(std::make_shared<detail::NodeHub>()) {}

Datastore::~Datastore() = default;

NodeWatch Datastore::watch(NodeCallback callback) {
    NodeUpdate first;
    first.nodes = detail::sorted_nodes(hub_->nodes());
    for (const NodeSpec& node : first.nodes) {
        first.events.push_back({NodeEvent::Type::added, node});
    }
    std::uint64_t id = hub_->subscribe(callback);
    callback(first);
    return NodeWatch(hub_, id);
}

std::vector<NodeSpec> Datastore::known_nodes() const {
    return detail::sorted_nodes(hub_->nodes());
}

// EmbeddedDatastore

boost::asio::awaitable<NodeSpec> EmbeddedDatastore::join(NodeSpec self, ClusterConfig cluster) {
    validate(cluster);
    if (self.name.empty()) {
        throw std::invalid_argument("a node needs a name");
    }
    NodeSpec joined = db_.transaction([&] {
        std::set<std::string> taken;
        std::optional<NodeSpec> stored;
        for (const NodeRecord& record : db_.list_nodes()) {
            if (record.name == self.name) {
                try {
                    stored = node_from_record(record);
                } catch (const std::invalid_argument&) {
                    // A damaged row of our own: allocate afresh.
                }
                continue;
            }
            for (const std::string& block : {record.block4, record.block6}) {
                if (!block.empty()) {
                    taken.insert(block);
                }
            }
        }
        NodeSpec node = self;
        node.block4.reset();
        node.block6.reset();
        for (const BlockFamily& family : block_families(cluster)) {
            auto usable = [&](const std::optional<Prefix>& block) {
                return block && is_block_of(*block, family.cidr, family.block_len) &&
                       !taken.contains(to_string(*block));
            };
            if (usable(self.*family.field)) {
                node.*family.field = self.*family.field;
            } else if (stored && usable((*stored).*family.field)) {
                node.*family.field = (*stored).*family.field;
            } else if (auto block = first_free_block(family, taken)) {
                node.*family.field = block;
            } else {
                throw BlocksExhausted(family, self.name);
            }
        }
        db_.put_node(node_to_record(node));
        return node;
    });
    self_ = joined.name;
    hub()->set_ok();
    refresh();
    co_return joined;
}

boost::asio::awaitable<void> EmbeddedDatastore::leave() {
    if (self_) {
        db_.remove_node(*self_);
        self_.reset();
        hub()->set_down("not joined");
        refresh();
    }
    co_return;
}

boost::asio::awaitable<std::vector<NodeSpec>> EmbeddedDatastore::nodes() {
    std::vector<std::string> errors;
    auto nodes = detail::sorted_nodes(load(errors));
    for (std::string& error : errors) {
        hub()->note_error(std::move(error));
    }
    co_return nodes;
}

void EmbeddedDatastore::add_node(const NodeSpec& node) {
    db_.put_node(node_to_record(node));
    refresh();
}

bool EmbeddedDatastore::remove_node(const std::string& name) {
    bool removed = db_.remove_node(name);
    refresh();
    return removed;
}

std::map<std::string, NodeSpec> EmbeddedDatastore::load(std::vector<std::string>& errors) {
    std::map<std::string, NodeSpec> nodes;
    for (const NodeRecord& record : db_.list_nodes()) {
        try {
            nodes.emplace(record.name, node_from_record(record));
        } catch (const std::invalid_argument& e) {
            errors.push_back("node \"" + record.name + "\" in " + db_.path() +
                             " is not valid: " + e.what());
        }
    }
    return nodes;
}

void EmbeddedDatastore::refresh() {
    std::vector<std::string> errors;
    auto nodes = load(errors);
    hub()->publish(std::move(nodes), std::move(errors));
}

} // namespace weft
