// "weft route": prefixes and the nodes they lead to (longest prefix match).
#include <ostream>

#include "cli.hpp"

namespace weft::cli {

namespace {

int route_add(Context& ctx, Args args);
int route_replace(Context& ctx, Args args);
int route_del(Context& ctx, Args args);
int route_show(Context& ctx, Args args);
int route_help(Context& ctx, Args args);

constexpr Command route_commands[] = {
    {"add", route_add},   {"replace", route_replace}, {"del", route_del},
    {"show", route_show}, {"list", route_show},       {"help", route_help},
};

// The verb and the implied WEFT_A_REPLACE of a change command.
struct ChangeKind {
    Handler handler;
    Verb verb;
    bool replace;
};

constexpr ChangeKind change_kinds[] = {
    {route_add, Verb::Add, false},
    {route_replace, Verb::Add, true},
    {route_del, Verb::Del, false},
};

// `args` (after the command word) as the change of `kind`.
RouteChange parse_change(const ChangeKind& kind, Args args) {
    RouteArgs a = parse_route_args(args, kind.verb);
    RouteChange c;
    c.group.add = kind.verb == Verb::Add;
    c.group.replace = kind.replace || a.replace;
    c.group.dev = a.dev;
    c.route.prefix = *a.prefix;
    c.route.node = a.via;
    return c;
}

int route_change(Context& ctx, Args args, const ChangeKind& kind) {
    if (wants_help(args)) {
        return route_help(ctx, {});
    }
    RouteChange c = parse_change(kind, args);
    change_routes(ctx, c.group, std::span(&c.route, 1));
    return exit_ok;
}

int route_add(Context& ctx, Args args) {
    return route_change(ctx, args, change_kinds[0]);
}

int route_replace(Context& ctx, Args args) {
    return route_change(ctx, args, change_kinds[1]);
}

int route_del(Context& ctx, Args args) {
    return route_change(ctx, args, change_kinds[2]);
}

int route_show(Context& ctx, Args args) {
    if (wants_help(args)) {
        return route_help(ctx, {});
    }
    RouteArgs a = parse_route_args(args, Verb::Show);
    auto via = [](const Route& r) {
        return r.node ? to_string(*r.node) : std::string("?");
    };
    return show_objects<Route>(
        ctx, a.dev, [&](const DevRef& dev) { return ctx.kernel().route_dump(dev); },
        [&](const Route& r) { return !a.prefix || r.prefix == *a.prefix; },
        [&](std::ostream& out, const Route& r, const std::string& dev) {
            out << to_string(r.prefix) << " via " << via(r) << " dev " << dev << "\n";
        },
        [&](const Route& r, const std::string& dev) {
            nlohmann::ordered_json j;
            j["prefix"] = to_string(r.prefix);
            j["via"] = r.node ? nlohmann::ordered_json(to_string(*r.node)) : nullptr;
            j["dev"] = dev;
            return j;
        });
}

int route_help(Context& ctx, Args /*args*/) {
    print_route_usage(ctx.out());
    return exit_ok;
}

Prefix route_prefix(const std::string& text) {
    auto prefix = parse_prefix(text);
    if (!prefix) {
        throw invalid_argument(text, "prefix must be ADDR/LEN or ADDR, IPv4 or IPv6");
    }
    if (host_bits_set(*prefix)) {
        throw invalid_argument(text, "prefix has bits set beyond its length /" +
                                         std::to_string(prefix->len));
    }
    return *prefix;
}

} // namespace

int route_main(Context& ctx, Args args) {
    return run_object(ctx, args, route_commands, route_show, "route");
}

void print_route_usage(std::ostream& out) {
    out << "Usage: weft route { add | replace } PREFIX via ADDR [ dev DEV ] [ replace ]\n"
           "       weft route del PREFIX [ dev DEV ]\n"
           "       weft route show [ dev DEV ] [ PREFIX ]\n"
           "       weft route help\n"
           "where  PREFIX := ADDR/LEN, IPv4 or IPv6, no bits set beyond LEN;\n"
           "                 a bare ADDR is a host route (/32 or /128)\n"
           "       ADDR (after via) := the underlay address of a node\n"
           "       DEV := a weft device; may be left out when there is only one\n";
}

RouteArgs parse_route_args(Args args, Verb verb) {
    bool add = verb == Verb::Add;
    RouteArgs a;
    ArgWalker w(args);
    while (w.more()) {
        const std::string& key = w.word();
        if (key == "dev") {
            w.ifname(key, a.dev);
        } else if (add && key == "via") {
            const std::string& v = w.value();
            set_once(a.via, key, v, ip_arg(v, "via must be the IPv4 or IPv6 address of a node"));
        } else if (add && key == "replace") {
            a.replace = true;
        } else if (!a.prefix) {
            a.prefix = route_prefix(key);
        } else {
            throw garbage("PREFIX", key);
        }
    }
    if (!a.prefix && verb != Verb::Show) {
        throw UsageError("Not enough information: the prefix is required.");
    }
    if (add && !a.via) {
        throw UsageError("Not enough information: \"via\" argument is required.");
    }
    return a;
}

std::optional<RouteChange> parse_route_change(Args words) {
    if (words.size() < 2 || wants_help(words)) {
        return std::nullopt;
    }
    const Command* object;
    const Command* command;
    try {
        object = &find_command(objects(), words[0], "Object", "weft help");
        if (object->handler != route_main) {
            return std::nullopt;
        }
        command = &find_command(route_commands, words[1], "Command", "weft route help");
    } catch (const UsageError&) {
        // Not a route change; running the line reports the mistake.
        return std::nullopt;
    }
    for (const auto& kind : change_kinds) {
        if (command->handler == kind.handler) {
            return parse_change(kind, words.subspan(2));
        }
    }
    return std::nullopt;
}

void change_routes(Context& ctx, const RouteGroup& group, std::span<const Route> routes) {
    DevRef dev = target_device(ctx, group.dev, "dev");
    ctx.kernel().route_change(group.add, dev, routes, group.replace);
}

} // namespace weft::cli
