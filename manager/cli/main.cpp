// weft: show and change the weft pod network devices, like ip(8) and wg(8).
#include <string>
#include <vector>

#include "cli.hpp"

int main(int argc, char* argv[]) {
    std::vector<std::string> args(argv + 1, argv + argc);
    auto env = weft::cli::Env::system();
    return weft::cli::run(args, env);
}
