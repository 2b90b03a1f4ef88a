// The weft command line tool, as a library: everything but main() lives here
// so that argument handling and output can be tested without a kernel.
#pragma once

#include <cerrno>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <weft/error.hpp>
#include <weft/message.hpp>

#include <nlohmann/json.hpp>

namespace weft::cli {

// Exit statuses, as iproute2 uses them: 1 for a command line that cannot be
// carried out (bad arguments, unknown names), 2 for a failure reported by
// the kernel or the system.
inline constexpr int exit_ok = 0;
inline constexpr int exit_usage = 1;
inline constexpr int exit_kernel = 2;

// A command line mistake or a name that does not resolve. what() is the
// complete line printed on stderr; the exit status is 1.
class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// `Error: argument "VALUE" is wrong: WHAT`
UsageError invalid_argument(const std::string& value, const std::string& what);
// `Cannot find device "NAME"`
UsageError no_such_device(const std::string& name);

// The kernel operations the tool uses: weft::Client in real runs, a fake in
// the unit tests.
class Kernel {
public:
    virtual ~Kernel() = default;
    virtual DeviceInfo dev_get(const DevRef& dev) = 0;
    virtual std::vector<DeviceInfo> dev_dump() = 0;
    virtual void dev_set(const DevSetRequest& request) = 0;

    virtual std::vector<NodeInfo> node_dump(const DevRef& dev) = 0;
    virtual void node_add(const NodeAddRequest& request) = 0;
    virtual void node_del(const DevRef& dev, const IpAddr& addr) = 0;

    virtual std::vector<Route> route_dump(const DevRef& dev) = 0;
    // ROUTE_ADD (`add`) or ROUTE_DEL of `routes`, in order; throws BulkError
    // naming the route that failed.
    virtual void route_change(bool add, const DevRef& dev, std::span<const Route> routes,
                              bool replace) = 0;

    virtual std::vector<EndpointInfo> endpoint_dump(const DevRef& dev) = 0;
    virtual void endpoint_add(const EndpointAddRequest& request) = 0;
    virtual void endpoint_del(const DevRef& dev, const EndpointKey& key) = 0;
};

using NameToIndex = std::function<std::optional<std::uint32_t>(const std::string&)>;
using IndexToName = std::function<std::optional<std::string>(std::uint32_t)>;

// What the tool touches outside itself.
struct Env {
    std::ostream* out = nullptr;
    std::ostream* err = nullptr;
    std::istream* in = nullptr;
    // Opens the netlink connection; called once, on first use.
    std::function<std::unique_ptr<Kernel>()> connect;
    NameToIndex name_to_index;
    IndexToName index_to_name;
    // Moves the process into the named network namespace (-n NAME).
    std::function<void(const std::string&)> enter_netns;

    // The real thing: std streams, a weft::Client, if_nametoindex, setns.
    static Env system();
};

struct Options {
    bool json = false;
    bool pretty = false;
    int stats = 0;
    bool force = false;
    bool version = false;
    bool help = false;
    std::optional<std::string> batch;
    std::optional<std::string> netns;
};

struct CommandLine {
    Options options;
    std::vector<std::string> args; // OBJECT COMMAND ARGS...
};

// Parses the global options, which end at the first word that is not an
// option (or at "--"). Throws UsageError.
CommandLine parse_command_line(const std::vector<std::string>& argv);

// State of one run: the options and the lazily opened kernel connection.
class Context {
public:
    Context(Env& env, Options options) : env_(env), options_(std::move(options)) {}

    const Options& options() const { return options_; }
    Env& env() { return env_; }
    std::ostream& out() { return *env_.out; }
    std::ostream& err() { return *env_.err; }
    Kernel& kernel();

private:
    Env& env_;
    Options options_;
    std::unique_ptr<Kernel> kernel_;
};

using Args = std::span<const std::string>;
using Handler = int (*)(Context&, Args);

// One entry of an object or command table.
struct Command {
    const char* name;
    Handler handler;
};

// The entry named `word`, or the only one `word` is a prefix of. Throws
// UsageError naming `kind` ("Object", "Command") and the help hint when
// `word` matches none or is ambiguous.
const Command& find_command(std::span<const Command> table, const std::string& word,
                            const std::string& kind, const std::string& help_hint);

// The objects the tool knows, in the order "weft help" lists them.
std::span<const Command> objects();

// Runs one OBJECT COMMAND ARGS and turns every error into a message on
// stderr and an exit status.
int run_command(Context& ctx, Args args);

// Prints the message of the exception being handled (call it from a catch
// block) and returns its exit status: 1 for a UsageError, 2 otherwise.
int report_exception(Context& ctx);

// Runs the commands of a batch file, one per line; stops at the first
// failing one unless -force. Returns 0, or the status of the last failure.
// Consecutive route add, replace or del lines alike but for their route go
// to the kernel together, in requests below 64 KiB; a failure still names
// its line.
int run_batch(Context& ctx, std::istream& in, const std::string& name);

// Splits a batch line into words: blanks separate, '...' and "..." quote,
// a backslash escapes the next character (outside '...'), and a word
// starting with '#' starts a comment. Throws UsageError on an open quote.
std::vector<std::string> split_batch_line(std::string_view line);

// The whole tool: argv without the program name.
int run(const std::vector<std::string>& argv, Env& env);

std::string version_string();
void print_usage(std::ostream& out);

// ---- helpers shared by the objects ------------------------------------------

// `Command line is not complete. Try option "help"`
UsageError incomplete();
// `Error: duplicate "KEY": "VALUE" is the second value.`
UsageError duplicate(const std::string& key, const std::string& value);
// `Error: either "KEY" is duplicate, or "VALUE" is a garbage.`
UsageError garbage(const std::string& key, const std::string& value);
// Throws invalid_argument unless `name` can be an interface name.
void check_ifname(const std::string& name, const std::string& keyword = "dev");

// Walks the words of a command, keyword by keyword.
class ArgWalker {
public:
    explicit ArgWalker(Args args) : args_(args) {}
    bool more() const { return i_ < args_.size(); }
    // The next word.
    const std::string& word() { return args_[i_++]; }
    // The value of the keyword just read; throws incomplete() at the end.
    const std::string& value() {
        if (i_ >= args_.size()) {
            throw incomplete();
        }
        return args_[i_++];
    }
    // The value of the keyword `key` just read, checked as an interface
    // name, into `slot` (once).
    void ifname(const std::string& key, std::optional<std::string>& slot);

private:
    Args args_;
    std::size_t i_ = 0;
};

// Sets `slot` to `value` (read from the text `text` after `key`), once.
template <typename T, typename V>
void set_once(std::optional<T>& slot, const std::string& key, const std::string& text, V&& value) {
    if (slot) {
        throw duplicate(key, text);
    }
    slot = std::forward<V>(value);
}

inline void ArgWalker::ifname(const std::string& key, std::optional<std::string>& slot) {
    const std::string& v = value();
    check_ifname(v, key);
    set_once(slot, key, v, v);
}

// Whether the words ask for help.
bool wants_help(Args args);

// An IPv4 or IPv6 address argument; invalid_argument(text, what) otherwise.
IpAddr ip_arg(const std::string& text, const std::string& what);

// OBJECT_main: runs the command of `table` that args[0] names, or `show`
// without arguments; `object` names the object in the help hint.
int run_object(Context& ctx, Args args, std::span<const Command> table, Handler show,
               const std::string& object);

// Which words a command takes: add and replace take every keyword, del only
// the key of the object, show the filters.
enum class Verb { Add, Del, Show };

// A kernel "no such device" is the user's mistake, reported like iproute2.
template <typename F>
auto on_device(const std::string& name, F&& f) {
    try {
        return f();
    } catch (const Error& e) {
        if (e.errnum() == ENODEV) {
            throw no_such_device(name);
        }
        throw;
    }
}

// The weft device a change acts on: `name`, which must exist, or else the
// only weft device of the netns (UsageError if there are none or several;
// `keyword` is how the command names one: "dev" or "weft").
DevRef target_device(Context& ctx, const std::optional<std::string>& name,
                     const std::string& keyword);
// The weft devices a show lists: `name`, or every one of the netns.
std::vector<DevRef> shown_devices(Context& ctx, const std::optional<std::string>& name);

// The -s block of counters (RX and TX bytes, packets, drops).
void print_counters(std::ostream& out, const DeviceStats& st);
// {"rx": {"bytes", "packets", "drops"}, "tx": {...}}
nlohmann::ordered_json counters_json(const DeviceStats& st);
// A JSON array on one line, or indented with -p.
void print_json(Context& ctx, const nlohmann::ordered_json& value);

// Shows the objects of every shown device that `keep` accepts: one text
// line each (format(out, object, device name)), or with -j a JSON array of
// to_json(object, device name).
template <typename T, typename Dump, typename Keep, typename Format, typename ToJson>
int show_objects(Context& ctx, const std::optional<std::string>& dev, Dump dump, Keep keep,
                 Format format, ToJson to_json) {
    auto array = nlohmann::ordered_json::array();
    for (const DevRef& d : shown_devices(ctx, dev)) {
        std::vector<T> objects = on_device(d.ifname, [&] { return dump(d); });
        for (const T& o : objects) {
            if (!keep(o)) {
                continue;
            }
            if (ctx.options().json) {
                array.push_back(to_json(o, d.ifname));
            } else {
                format(ctx.out(), o, d.ifname);
            }
        }
    }
    if (ctx.options().json) {
        print_json(ctx, array);
    }
    return exit_ok;
}

// ---- link -------------------------------------------------------------------

int link_main(Context& ctx, Args args);
void print_link_usage(std::ostream& out);

// `[dev] NAME [vni N] [port P] [local ADDR|any] [underlay DEV|none]
//  [vtep-mac MAC] [crosssubnet on|off]` to a request. `name_to_index`
// resolves the underlay device. Throws UsageError.
DevSetRequest parse_link_set(Args args, const NameToIndex& name_to_index);

// `ip link`-style text of one device; stats_level is the number of -s.
std::string format_device(const DeviceInfo& dev, int stats_level, const IndexToName& index_to_name);
nlohmann::ordered_json device_json(const DeviceInfo& dev, bool with_stats,
                                   const IndexToName& index_to_name);

// Parses an unsigned number (decimal or 0x hex) no larger than `max`.
std::optional<std::uint64_t> parse_uint(std::string_view text, std::uint64_t max);

// ---- node -------------------------------------------------------------------

int node_main(Context& ctx, Args args);
void print_node_usage(std::ostream& out);

struct NodeArgs {
    std::optional<std::string> dev;
    std::optional<IpAddr> addr;
    std::optional<std::uint8_t> encap;
    std::optional<Mac> vtep_mac;
    bool replace = false;
};
// Add: `ADDR [dev DEV] [encap ENCAP] [vtep-mac MAC] [replace]`; Del:
// `ADDR [dev DEV]`; Show: `[dev DEV] [ADDR]`. Throws UsageError.
NodeArgs parse_node_args(Args args, Verb verb);

// ---- route ------------------------------------------------------------------

int route_main(Context& ctx, Args args);
void print_route_usage(std::ostream& out);

struct RouteArgs {
    std::optional<std::string> dev;
    std::optional<Prefix> prefix;
    std::optional<IpAddr> via;
    bool replace = false;
};
// Add: `PREFIX via ADDR [dev DEV] [replace]`; Del: `PREFIX [dev DEV]`;
// Show: `[dev DEV] [PREFIX]`. A prefix with bits beyond its length is
// refused. Throws UsageError.
RouteArgs parse_route_args(Args args, Verb verb);

// What route changes that go to the kernel together have in common.
struct RouteGroup {
    bool add = true;
    bool replace = false;
    std::optional<std::string> dev; // as given; empty for the only device

    bool operator==(const RouteGroup&) const = default;
};

struct RouteChange {
    RouteGroup group;
    Route route;
};

// `words` (OBJECT COMMAND ARGS) as a route add, replace or del; empty if
// they are some other command (or ask for help). Throws UsageError for a
// route change with bad arguments.
std::optional<RouteChange> parse_route_change(Args words);

// Sends `routes`, all of `group`, in as few requests as fit. Throws
// BulkError naming the index of the route that failed.
void change_routes(Context& ctx, const RouteGroup& group, std::span<const Route> routes);

// ---- endpoint ---------------------------------------------------------------

int endpoint_main(Context& ctx, Args args);
void print_endpoint_usage(std::ostream& out);

struct EndpointArgs {
    std::optional<std::string> weft;   // the weft device
    std::optional<std::string> hostif; // "dev": the pod's host interface
    std::vector<IpAddr> addrs;
    std::optional<std::uint32_t> identity;
    bool replace = false;
};
// Add: `ADDR [ADDR...] dev HOSTIF [weft DEV] [identity N] [replace]`; Del:
// `{ ADDR | dev HOSTIF } [weft DEV]`; Show: `[weft DEV] [dev HOSTIF] [ADDR]`.
// Throws UsageError.
EndpointArgs parse_endpoint_args(Args args, Verb verb);

} // namespace weft::cli
