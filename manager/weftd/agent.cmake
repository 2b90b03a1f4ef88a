# The weftd binary: the agent that wires the parts together.
find_package(spdlog REQUIRED)
# libnl-route: weft0 and the cluster route (links and routes go through
# rtnetlink's own library; libmnl is for weft's genl family).
pkg_check_modules(NLROUTE REQUIRED IMPORTED_TARGET libnl-route-3.0)

add_library(weftdagent STATIC weftd/agent.cpp weftd/host.cpp)
target_link_libraries(weftdagent PUBLIC weftdconfig weftdapi weftdhttp weftddatastore
                      weftdreconcile weftdstate weftdnat libweft spdlog::spdlog
                      PkgConfig::NLROUTE)
target_compile_options(weftdagent PRIVATE $<$<CXX_COMPILER_ID:GNU>:-Wno-mismatched-new-delete>)

add_executable(weftd weftd/main.cpp)
target_compile_definitions(weftd PRIVATE WEFT_VERSION="${WEFT_VERSION}")
target_compile_options(weftd PRIVATE $<$<CXX_COMPILER_ID:GNU>:-Wno-mismatched-new-delete>)
target_link_libraries(weftd PRIVATE weftdagent)
install(TARGETS weftd RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})

if(WEFT_BUILD_TESTS)
  add_test(NAME weftd.CommandLine
           COMMAND sh ${PROJECT_SOURCE_DIR}/tests/weftd_cli_test.sh $<TARGET_FILE:weftd>)
endif()
