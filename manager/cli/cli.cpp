// The weft tool's top level: global options, the object table, batch mode
// and the mapping of errors to messages and exit statuses.
#include "cli.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>

#include <fcntl.h>
#include <sched.h>

#include <weft/client.hpp>
#include <weft/error.hpp>
#include <weft/fd.hpp>
#include <weft/ifname.hpp>

#include <boost/program_options.hpp>

#ifndef WEFT_VERSION
#define WEFT_VERSION "0.1.0"
#endif

namespace po = boost::program_options;

namespace weft::cli {

namespace {

int help_main(Context& ctx, Args args);

// The objects of "weft OBJECT COMMAND": adding one is adding a line here
// (and its NAME_main in its own file).
constexpr Command object_table[] = {
    {"link", link_main},         {"node", node_main}, {"route", route_main},
    {"endpoint", endpoint_main}, {"help", help_main},
};

int help_main(Context& ctx, Args /*args*/) {
    print_usage(ctx.out());
    return exit_ok;
}

// Adapts weft::Client to the tool's Kernel interface.
class ClientKernel : public Kernel {
public:
    explicit ClientKernel(Client client) : client_(std::move(client)) {}
    DeviceInfo dev_get(const DevRef& dev) override { return client_.dev_get(dev); }
    std::vector<DeviceInfo> dev_dump() override { return client_.dev_dump(); }
    void dev_set(const DevSetRequest& request) override { client_.dev_set(request); }

    std::vector<NodeInfo> node_dump(const DevRef& dev) override { return client_.node_dump(dev); }
    void node_add(const NodeAddRequest& request) override { client_.node_add(request); }
    void node_del(const DevRef& dev, const IpAddr& addr) override { client_.node_del(dev, addr); }

    std::vector<Route> route_dump(const DevRef& dev) override { return client_.route_dump(dev); }
    void route_change(bool add, const DevRef& dev, std::span<const Route> routes,
                      bool replace) override {
        client_.route_change(add, dev, routes, replace);
    }

    std::vector<EndpointInfo> endpoint_dump(const DevRef& dev) override {
        return client_.endpoint_dump(dev);
    }
    void endpoint_add(const EndpointAddRequest& request) override { client_.endpoint_add(request); }
    void endpoint_del(const DevRef& dev, const EndpointKey& key) override {
        client_.endpoint_del(dev, key);
    }

private:
    Client client_;
};

void switch_netns(const std::string& name) {
    // Like "ip -n": a bare name lives in /run/netns, a path is used as is.
    std::string path = name.find('/') == std::string::npos ? "/run/netns/" + name : name;
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        throw UsageError("Cannot open network namespace \"" + name + "\": " + std::strerror(errno));
    }
    if (::setns(fd.get(), CLONE_NEWNET) < 0) {
        throw Error(errno, "setting the network namespace \"" + name + "\" failed");
    }
}

// Options that take a value, by every spelling the pre-scan must skip over.
bool takes_value(const std::string& arg) {
    if (arg.find('=') != std::string::npos) {
        return false;
    }
    std::string name = arg.substr(arg.find_first_not_of('-'));
    if (name.empty()) {
        return false;
    }
    for (const char* full : {"batch", "netns"}) {
        if (std::string_view(full).starts_with(name)) {
            return true;
        }
    }
    return false;
}

} // namespace

UsageError invalid_argument(const std::string& value, const std::string& what) {
    return UsageError("Error: argument \"" + value + "\" is wrong: " + what);
}

UsageError no_such_device(const std::string& name) {
    return UsageError("Cannot find device \"" + name + "\"");
}

Env Env::system() {
    Env env;
    env.out = &std::cout;
    env.err = &std::cerr;
    env.in = &std::cin;
    env.connect = [] {
        return std::make_unique<ClientKernel>(Client::connect());
    };
    env.name_to_index = ifname_to_index;
    env.index_to_name = ifindex_to_name;
    env.enter_netns = switch_netns;
    return env;
}

Kernel& Context::kernel() {
    if (!kernel_) {
        kernel_ = env_.connect();
    }
    return *kernel_;
}

std::string version_string() {
    return "weft utility, weft-" WEFT_VERSION;
}

std::span<const Command> objects() {
    return object_table;
}

void print_usage(std::ostream& out) {
    std::string list;
    for (const auto& obj : object_table) {
        if (std::string_view(obj.name) != "help") {
            list += list.empty() ? obj.name : std::string(" | ") + obj.name;
        }
    }
    out << "Usage: weft [ OPTIONS ] OBJECT { COMMAND | help }\n"
           "       weft [ -force ] -batch FILENAME\n"
           "where  OBJECT := { "
        << list
        << " }\n"
           "       OPTIONS := { -V[ersion] | -s[tats] | -j[son] | -p[retty] |\n"
           "                    -n[etns] NAME | -b[atch] FILENAME | -force | -h[elp] }\n";
}

CommandLine parse_command_line(const std::vector<std::string>& argv) {
    // Options stop at the first word that is not one, so that the words of
    // a command ("vni -1") are never taken for options.
    std::size_t end = 0;
    bool dashdash = false;
    while (end < argv.size()) {
        const std::string& arg = argv[end];
        if (arg == "--") {
            dashdash = true;
            break;
        }
        if (arg.size() < 2 || arg[0] != '-') {
            break;
        }
        end += takes_value(arg) && end + 1 < argv.size() ? 2 : 1;
    }
    std::vector<std::string> opts(argv.begin(), argv.begin() + static_cast<long>(end));

    po::options_description desc;
    auto add = desc.add_options();
    add("version,Version,V", "print the version");
    add("help,h", "print the usage");
    add("json,j", "JSON output");
    add("pretty,p", "indented JSON");
    add("stats,statistics,s", "show counters; repeat for more");
    add("force", "batch: go on after errors");
    add("batch,b", po::value<std::string>(), "read commands from a file");
    add("netns,n", po::value<std::string>(), "switch network namespace");

    CommandLine cl;
    try {
        auto parsed = po::command_line_parser(opts)
                          .options(desc)
                          .style(po::command_line_style::unix_style |
                                 po::command_line_style::allow_long_disguise)
                          .run();
        for (const auto& o : parsed.options) {
            const std::string& key = o.string_key;
            if (key == "version") {
                cl.options.version = true;
            } else if (key == "help") {
                cl.options.help = true;
            } else if (key == "json") {
                cl.options.json = true;
            } else if (key == "pretty") {
                cl.options.pretty = true;
            } else if (key == "stats") {
                ++cl.options.stats;
            } else if (key == "force") {
                cl.options.force = true;
            } else if (key == "batch") {
                cl.options.batch = o.value.at(0);
            } else if (key == "netns") {
                cl.options.netns = o.value.at(0);
            }
        }
    } catch (const po::unknown_option& e) {
        throw UsageError("Option \"" + e.get_option_name() + "\" is unknown, try \"weft -help\".");
    } catch (const po::error& e) {
        throw UsageError(std::string("Error: ") + e.what());
    }
    cl.args.assign(argv.begin() + static_cast<long>(end + (dashdash ? 1 : 0)), argv.end());
    return cl;
}

const Command& find_command(std::span<const Command> table, const std::string& word,
                            const std::string& kind, const std::string& help_hint) {
    const Command* match = nullptr;
    std::size_t matches = 0;
    std::string candidates;
    for (const auto& c : table) {
        if (word == c.name) {
            return c;
        }
        if (!word.empty() && std::string_view(c.name).starts_with(word)) {
            candidates += candidates.empty() ? c.name : std::string(", ") + c.name;
            match = &c;
            ++matches;
        }
    }
    if (matches == 1) {
        return *match;
    }
    if (matches > 1) {
        throw UsageError(kind + " \"" + word + "\" is ambiguous (" + candidates + "), try \"" +
                         help_hint + "\".");
    }
    throw UsageError(kind + " \"" + word + "\" is unknown, try \"" + help_hint + "\".");
}

int report_exception(Context& ctx) {
    try {
        throw;
    } catch (const UsageError& e) {
        ctx.err() << e.what() << "\n";
        return exit_usage;
    } catch (const std::exception& e) {
        // weft::Error (the kernel's or a system call's), FamilyNotFound and
        // anything unexpected.
        ctx.err() << "Error: " << e.what() << "\n";
        return exit_kernel;
    }
}

int run_command(Context& ctx, Args args) {
    try {
        if (args.empty()) {
            print_usage(ctx.err());
            return exit_usage;
        }
        const Command& obj = find_command(object_table, args[0], "Object", "weft help");
        return obj.handler(ctx, args.subspan(1));
    } catch (const std::exception&) {
        return report_exception(ctx);
    }
}

std::vector<std::string> split_batch_line(std::string_view line) {
    std::vector<std::string> words;
    std::string word;
    bool in_word = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        char c = line[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            if (in_word) {
                words.push_back(std::move(word));
                word.clear();
                in_word = false;
            }
        } else if (c == '#' && !in_word) {
            break;
        } else if (c == '\'' || c == '"') {
            std::size_t close = i + 1;
            std::string quoted;
            while (close < line.size() && line[close] != c) {
                if (c == '"' && line[close] == '\\' && close + 1 < line.size()) {
                    ++close;
                }
                quoted += line[close];
                ++close;
            }
            if (close >= line.size()) {
                throw UsageError(std::string("Error: unterminated ") +
                                 (c == '"' ? "double" : "single") + " quote");
            }
            word += quoted;
            in_word = true;
            i = close;
        } else if (c == '\\' && i + 1 < line.size()) {
            word += line[++i];
            in_word = true;
        } else {
            word += c;
            in_word = true;
        }
    }
    if (in_word) {
        words.push_back(std::move(word));
    }
    return words;
}

namespace {

// Runs a batch line by line, holding back route changes to send them
// together: consecutive lines of one RouteGroup until another line, the end
// of the file, or `max_pending` routes.
class BatchRunner {
public:
    static constexpr std::size_t max_pending = 16384;

    BatchRunner(Context& ctx, std::string name) : ctx_(ctx), name_(std::move(name)) {}

    // Runs or queues the command on the line starting at `lineno`; false
    // once the batch has to stop.
    bool line(unsigned lineno, std::string_view text);
    // Sends the queued route changes; false if one failed and the batch has
    // to stop.
    bool flush();
    int status() const { return status_; }

private:
    // Reports the failure (with status `rc`) of the line `lineno`; whether
    // the batch goes on.
    bool failed(unsigned lineno, int rc) {
        ctx_.err() << "Command failed " << name_ << ":" << lineno << "\n";
        status_ = rc;
        return ctx_.options().force;
    }

    Context& ctx_;
    std::string name_;
    int status_ = exit_ok;
    std::optional<RouteGroup> group_;
    std::vector<Route> routes_;
    std::vector<unsigned> lines_; // the line of each queued route
};

bool BatchRunner::line(unsigned lineno, std::string_view text) {
    std::vector<std::string> words;
    std::optional<RouteChange> change;
    try {
        words = split_batch_line(text);
        change = parse_route_change(words);
    } catch (const UsageError& e) {
        // The lines before this one take effect first.
        std::string message = e.what();
        if (!flush()) {
            return false;
        }
        ctx_.err() << message << "\n";
        return failed(lineno, exit_usage);
    }
    if (words.empty()) {
        return true;
    }
    if (change) {
        if (group_ && *group_ != change->group && !flush()) {
            return false;
        }
        group_ = change->group;
        routes_.push_back(change->route);
        lines_.push_back(lineno);
        return routes_.size() < max_pending || flush();
    }
    if (!flush()) {
        return false;
    }
    int rc = run_command(ctx_, words);
    return rc == exit_ok || failed(lineno, rc);
}

bool BatchRunner::flush() {
    bool go_on = true;
    std::size_t start = 0;
    while (go_on && start < routes_.size()) {
        std::size_t failed_at = start;
        int rc;
        try {
            change_routes(ctx_, *group_, std::span(routes_).subspan(start));
            break;
        } catch (const BulkError& e) {
            failed_at = std::min(start + e.index(), routes_.size() - 1);
            rc = report_exception(ctx_);
        } catch (const std::exception&) {
            rc = report_exception(ctx_);
        }
        go_on = failed(lines_[failed_at], rc);
        // The kernel stopped at the failing route: go on after it.
        start = failed_at + 1;
    }
    group_.reset();
    routes_.clear();
    lines_.clear();
    return go_on;
}

} // namespace

int run_batch(Context& ctx, std::istream& in, const std::string& name) {
    BatchRunner runner(ctx, name);
    std::string physical;
    unsigned lineno = 0;
    while (std::getline(in, physical)) {
        ++lineno;
        unsigned first_line = lineno;
        // A backslash at the end of a line continues the command on the next.
        std::string line = physical;
        while (!line.empty() && line.back() == '\\' && std::getline(in, physical)) {
            ++lineno;
            line.pop_back();
            line += " " + physical;
        }
        if (!runner.line(first_line, line)) {
            return runner.status();
        }
    }
    runner.flush();
    return runner.status();
}

int run(const std::vector<std::string>& argv, Env& env) {
    CommandLine cl;
    try {
        cl = parse_command_line(argv);
    } catch (const UsageError& e) {
        *env.err << e.what() << "\n";
        return exit_usage;
    }
    Context ctx(env, cl.options);
    const Options& opts = ctx.options();
    if (opts.help) {
        print_usage(ctx.out());
        return exit_ok;
    }
    if (opts.version) {
        ctx.out() << version_string() << "\n";
        return exit_ok;
    }
    try {
        if (opts.netns) {
            env.enter_netns(*opts.netns);
        }
    } catch (const std::exception&) {
        return report_exception(ctx);
    }
    if (opts.batch) {
        if (!cl.args.empty()) {
            ctx.err() << "Error: -batch takes no OBJECT on the command line (\"" << cl.args[0]
                      << "\")\n";
            return exit_usage;
        }
        if (*opts.batch == "-") {
            return run_batch(ctx, *env.in, "-");
        }
        std::ifstream file(*opts.batch);
        if (!file) {
            ctx.err() << "Cannot open file \"" << *opts.batch
                      << "\" for reading: " << std::strerror(errno) << "\n";
            return exit_usage;
        }
        return run_batch(ctx, file, *opts.batch);
    }
    return run_command(ctx, cl.args);
}

} // namespace weft::cli
