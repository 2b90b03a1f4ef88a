// weft-cni: weft's CNI plugin. The container runtime runs it with the CNI_*
// environment and the network configuration on stdin; see weft-cni(8).
#include <iostream>
#include <iterator>
#include <map>
#include <string>

#include "plugin.hpp"

extern char** environ;

int main() {
    std::map<std::string, std::string> vars;
    for (char** e = environ; *e; ++e) {
        std::string entry(*e);
        auto eq = entry.find('=');
        if (eq != std::string::npos) {
            vars.emplace(entry.substr(0, eq), entry.substr(eq + 1));
        }
    }
    std::string input((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    return weft::cni::run(vars, input, std::cout, std::cerr);
}
