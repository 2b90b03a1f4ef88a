// The weft command line tool, as a library: everything but main() lives here
// so that argument handling and output can be tested without a kernel.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

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

// Runs the commands of a batch file, one per line; stops at the first
// failing one unless -force. Returns 0, or the status of the last failure.
int run_batch(Context& ctx, std::istream& in, const std::string& name);

// Splits a batch line into words: blanks separate, '...' and "..." quote,
// a backslash escapes the next character (outside '...'), and a word
// starting with '#' starts a comment. Throws UsageError on an open quote.
std::vector<std::string> split_batch_line(std::string_view line);

// The whole tool: argv without the program name.
int run(const std::vector<std::string>& argv, Env& env);

std::string version_string();
void print_usage(std::ostream& out);

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

} // namespace weft::cli
