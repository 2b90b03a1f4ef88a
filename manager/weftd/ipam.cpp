// Pod address allocation over the state database's allocations table.
#include "ipam.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <limits>
#include <stdexcept>
#include <variant>

namespace weft {

namespace {

// The family column: 4 or 6.
int family_of(const Prefix& block) {
    return is_ipv4(block.addr) ? 4 : 6;
}

// Offsets count addresses from the start of a block. Blocks have at most 64
// host bits (IPv4 at most 32, IPv6 at least /64), so an offset fits in 64
// bits and only the last (up to) 8 bytes of an address vary in a block.
std::uint64_t last_offset(const Prefix& block) {
    unsigned host_bits = (is_ipv4(block.addr) ? 32u : 128u) - block.len;
    return host_bits >= 64 ? std::numeric_limits<std::uint64_t>::max()
                           : (std::uint64_t{1} << host_bits) - 1;
}

// See ipam.hpp: the network address and the gateway come first, and an
// IPv4 block ends with its broadcast address.
constexpr std::uint64_t first_pod_offset = 2;
std::uint64_t last_pod_offset(const Prefix& block) {
    return is_ipv4(block.addr) ? last_offset(block) - 1 : last_offset(block);
}

std::size_t low_size(std::span<const std::uint8_t> bytes) {
    return std::min<std::size_t>(bytes.size(), 8);
}

std::uint64_t low_word(std::span<const std::uint8_t> bytes) {
    std::uint64_t word = 0;
    for (auto b : bytes.last(low_size(bytes))) {
        word = (word << 8) | b;
    }
    return word;
}

IpAddr at_offset(const Prefix& block, std::uint64_t offset) {
    IpAddr addr = block.addr;
    std::uint64_t word = low_word(addr_bytes(addr)) + offset;
    std::visit(
        [word](auto& bytes) mutable {
            for (std::size_t i = 0; i < low_size(bytes); ++i) {
                bytes[bytes.size() - 1 - i] = static_cast<std::uint8_t>(word);
                word >>= 8;
            }
        },
        addr);
    return addr;
}

// The offset of `addr` in `block`, if it lies inside it.
std::optional<std::uint64_t> offset_in(const Prefix& block, const IpAddr& addr) {
    if (addr.index() != block.addr.index()) {
        return std::nullopt;
    }
    auto bytes = addr_bytes(addr);
    auto base = addr_bytes(block.addr);
    std::size_t high = bytes.size() - low_size(bytes);
    if (!std::equal(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(high),
                    base.begin())) {
        return std::nullopt;
    }
    std::uint64_t word = low_word(bytes);
    std::uint64_t base_word = low_word(base);
    std::uint64_t host_mask = last_offset(block);
    if ((word & ~host_mask) != base_word) {
        return std::nullopt;
    }
    return word & host_mask;
}

std::string cursor_key(const Prefix& block) {
    return "ipam.cursor" + std::to_string(family_of(block));
}

void check_attachment(const std::string& container_id, const std::string& ifname) {
    if (container_id.empty()) {
        throw std::invalid_argument("empty container ID");
    }
    if (ifname.empty()) {
        throw std::invalid_argument("empty interface name");
    }
}

void check_blocks(const std::vector<Prefix>& blocks) {
    if (blocks.empty() || blocks.size() > 2 ||
        (blocks.size() == 2 && blocks[0].addr.index() == blocks[1].addr.index())) {
        throw std::invalid_argument("pod blocks: expected one IPv4 block, one IPv6 block or one "
                                    "of each");
    }
    for (const auto& block : blocks) {
        if (host_bits_set(block)) {
            throw std::invalid_argument("pod block " + to_string(block) + " has host bits set");
        }
        if (is_ipv4(block.addr) && block.len > 30) {
            throw std::invalid_argument("pod block " + to_string(block) +
                                        " is too small: an IPv4 block must be /30 or larger");
        }
        if (!is_ipv4(block.addr) && (block.len < 64 || block.len > 126)) {
            throw std::invalid_argument("pod block " + to_string(block) +
                                        ": an IPv6 block must be between /64 and /126");
        }
    }
}

// Addresses are stored in their text form, which inet_ntop makes canonical,
// so that the unique index on addr compares addresses.
IpAddr stored_addr(Db& db, const std::string& text) {
    auto addr = parse_ip(text);
    if (!addr) {
        throw DbError(0, EBADMSG,
                      "state database " + db.path() + ": bad address \"" + text +
                          "\" in the allocations table");
    }
    return *addr;
}

// Reads rows of (container_id, ifname, addr), ordered by attachment, into
// attachments.
std::vector<Attachment> read_attachments(Db& db, Statement& st) {
    std::vector<Attachment> out;
    while (st.step()) {
        std::string container_id = st.column_text(0);
        std::string ifname = st.column_text(1);
        if (out.empty() || out.back().container_id != container_id || out.back().ifname != ifname) {
            out.push_back(Attachment{container_id, ifname, {}});
        }
        out.back().addrs.push_back(stored_addr(db, st.column_text(2)));
    }
    return out;
}

} // namespace

AddressesExhausted::AddressesExhausted(const Prefix& block, std::uint64_t in_use,
                                       std::uint64_t cooling)
    : Error(Verbatim{}, ENOSPC,
            "no free address in " + to_string(block) + " (" + std::to_string(in_use) + " in use, " +
                std::to_string(cooling) + " cooling down)"),
      block_(block) {}

std::int64_t Ipam::wall_clock() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

Ipam::Ipam(Db& db, std::vector<Prefix> blocks, std::int64_t cooldown, Clock clock)
    : db_(db), blocks_(std::move(blocks)), cooldown_(cooldown), clock_(std::move(clock)) {
    check_blocks(blocks_);
    if (cooldown_ < 0) {
        throw std::invalid_argument("negative address cool-down");
    }
    if (!clock_) {
        clock_ = wall_clock;
    }
}

std::vector<IpAddr> Ipam::gateways() const {
    std::vector<IpAddr> out;
    for (const auto& block : blocks_) {
        out.push_back(at_offset(block, 1));
    }
    return out;
}

IpAddr Ipam::pick(const Prefix& block, std::int64_t now) {
    const std::uint64_t first = first_pod_offset;
    const std::uint64_t last = last_pod_offset(block);
    std::uint64_t next = first;
    if (auto cursor = db_.get_meta(cursor_key(block))) {
        auto addr = parse_ip(*cursor);
        auto offset = addr ? offset_in(block, *addr) : std::nullopt;
        if (offset && *offset >= first && *offset < last) {
            next = *offset + 1;
        }
    }
    auto advance = [&](std::uint64_t offset) {
        return offset == last ? first : offset + 1;
    };
    auto take = [&](std::uint64_t offset) {
        IpAddr addr = at_offset(block, offset);
        db_.set_meta(cursor_key(block), to_string(addr));
        return addr;
    };
    const std::uint64_t usable = last - first + 1;

    // Next-fit leaves the addresses after the cursor free unless the block
    // has wrapped around: a few indexed lookups (allocations_addr) find one
    // without reading the whole table.
    Statement busy_st = db_.prepare("SELECT 1 FROM allocations WHERE addr = ?1 "
                                    "AND (state = 'active' OR changed > ?2) LIMIT 1");
    busy_st.bind(2, now - cooldown_);
    for (std::uint64_t n = 0; n < std::min<std::uint64_t>(usable, probe_limit); ++n) {
        busy_st.bind(1, to_string(at_offset(block, next)));
        bool busy = busy_st.step();
        busy_st.reset();
        if (!busy) {
            return take(next);
        }
        next = advance(next);
    }

    // A crowded block: one pass over what is busy in it.
    std::set<std::uint64_t> busy;
    std::uint64_t in_use = 0;
    std::uint64_t cooling = 0;
    Statement st = db_.prepare("SELECT addr, state FROM allocations "
                               "WHERE family = ?1 AND (state = 'active' OR changed > ?2)");
    st.bind(1, family_of(block)).bind(2, now - cooldown_);
    while (st.step()) {
        auto offset = offset_in(block, stored_addr(db_, st.column_text(0)));
        if (offset && busy.insert(*offset).second) {
            ++(st.column_text(1) == "active" ? in_use : cooling);
        }
    }
    // Every step past a busy address; so this ends after at most
    // busy.size() + 1 steps, or after all pod addresses when they are all
    // busy.
    for (std::uint64_t n = 0; n < usable; ++n) {
        if (!busy.contains(next)) {
            return take(next);
        }
        next = advance(next);
    }
    throw AddressesExhausted(block, in_use, cooling);
}

std::vector<IpAddr> Ipam::allocate(const std::string& container_id, const std::string& ifname) {
    check_attachment(container_id, ifname);
    return db_.transaction([&] {
        // Read under the write lock, which may have taken a while to get.
        const std::int64_t now = clock_();
        std::vector<IpAddr> out;
        for (const auto& block : blocks_) {
            const int family = family_of(block);
            Statement held =
                db_.prepare("SELECT addr FROM allocations WHERE container_id = ?1 AND ifname = ?2 "
                            "AND family = ?3 AND state = 'active'");
            held.bind(1, container_id).bind(2, ifname).bind(3, family);
            if (held.step()) {
                out.push_back(stored_addr(db_, held.column_text(0)));
                continue;
            }
            IpAddr addr = pick(block, now);
            std::string text = to_string(addr);
            // Whatever still remembers this address has cooled down.
            db_.prepare("DELETE FROM allocations WHERE addr = ?1 AND state = 'cooling'")
                .bind(1, text)
                .run();
            // The attachment's own row from an earlier release, if any, is
            // taken over.
            db_.prepare("INSERT INTO allocations (container_id, ifname, family, addr, state, "
                        "changed) VALUES (?1, ?2, ?3, ?4, 'active', ?5) "
                        "ON CONFLICT (container_id, ifname, family) DO UPDATE SET "
                        "addr = excluded.addr, state = 'active', changed = excluded.changed")
                .bind(1, container_id)
                .bind(2, ifname)
                .bind(3, family)
                .bind(4, text)
                .bind(5, now)
                .run();
            out.push_back(addr);
        }
        return out;
    });
}

std::vector<IpAddr> Ipam::release_locked(const std::string& container_id,
                                         const std::string& ifname) {
    Statement held = db_.prepare("SELECT addr FROM allocations WHERE container_id = ?1 "
                                 "AND ifname = ?2 AND state = 'active' ORDER BY family");
    held.bind(1, container_id).bind(2, ifname);
    std::vector<IpAddr> out;
    while (held.step()) {
        out.push_back(stored_addr(db_, held.column_text(0)));
    }
    if (!out.empty()) {
        db_.prepare("UPDATE allocations SET state = 'cooling', changed = ?3 "
                    "WHERE container_id = ?1 AND ifname = ?2 AND state = 'active'")
            .bind(1, container_id)
            .bind(2, ifname)
            .bind(3, clock_())
            .run();
    }
    return out;
}

std::vector<IpAddr> Ipam::release(const std::string& container_id, const std::string& ifname) {
    check_attachment(container_id, ifname);
    return db_.transaction([&] { return release_locked(container_id, ifname); });
}

std::optional<Attachment> Ipam::find(const std::string& container_id, const std::string& ifname) {
    Statement st = db_.prepare("SELECT container_id, ifname, addr FROM allocations "
                               "WHERE container_id = ?1 AND ifname = ?2 AND state = 'active' "
                               "ORDER BY family");
    st.bind(1, container_id).bind(2, ifname);
    auto found = read_attachments(db_, st);
    if (found.empty()) {
        return std::nullopt;
    }
    return std::move(found.front());
}

std::vector<Attachment> Ipam::list() {
    Statement st = db_.prepare("SELECT container_id, ifname, addr FROM allocations "
                               "WHERE state = 'active' ORDER BY container_id, ifname, family");
    return read_attachments(db_, st);
}

std::vector<Attachment> Ipam::gc(const std::set<AttachmentKey>& valid) {
    return db_.transaction([&] {
        std::vector<Attachment> released;
        for (auto& attachment : list()) {
            if (!valid.contains(AttachmentKey{attachment.container_id, attachment.ifname})) {
                release_locked(attachment.container_id, attachment.ifname);
                released.push_back(std::move(attachment));
            }
        }
        return released;
    });
}

std::size_t Ipam::expire() {
    return db_.transaction([&] {
        db_.prepare("DELETE FROM allocations WHERE state = 'cooling' AND changed <= ?1")
            .bind(1, clock_() - cooldown_)
            .run();
        return static_cast<std::size_t>(db_.changes());
    });
}

} // namespace weft
