// weftd: weft's node agent. See weftd(8).
#include <csignal>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <utility>

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "agent.hpp"
#include "config.hpp"

namespace {

// Under systemd (JOURNAL_STREAM set) the journal stamps each line itself.
void setup_logging(const std::string& level) {
    if (std::getenv("JOURNAL_STREAM")) {
        spdlog::set_pattern("<%l> %v");
    } else {
        spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %l %v");
    }
    spdlog::set_level(spdlog::level::from_str(level));
}

} // namespace

int main(int argc, char* argv[]) {
    weft::Invocation inv;
    try {
        inv = weft::parse_args(argc, argv);
    } catch (const weft::ConfigError& e) {
        std::cerr << "weftd: " << e.what() << "\nTry 'weftd --help' for more information.\n";
        return 2;
    }
    if (inv.help) {
        std::cout << weft::usage();
        return 0;
    }
    if (inv.version) {
        std::cout << "weftd " << WEFT_VERSION << '\n';
        return 0;
    }
    setup_logging(inv.config.log_level);

    boost::asio::io_context io;
    weft::Agent agent(io, inv.config);
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&agent, &io](const boost::system::error_code& ec, int signal) {
        if (!ec) {
            spdlog::info("signal {}: stopping", signal);
            agent.stop();
            // The datastore's own coroutines (lease keepalive, watch, a
            // join retrying while etcd is down) end with the loop.
            io.stop();
        }
    });
    int status = 0;
    boost::asio::co_spawn(io, agent.run(), [&](std::exception_ptr error) {
        if (error) {
            try {
                std::rethrow_exception(error);
            } catch (const weft::ConfigError& e) {
                spdlog::error("{}", e.what());
                status = 2;
            } catch (const std::exception& e) {
                spdlog::error("{}", e.what());
                status = 1;
            }
        }
        agent.stop();
        io.stop();
    });
    io.run();
    return status;
}
