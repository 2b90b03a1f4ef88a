# weft-cni, the CNI plugin: its logic as a library (driven directly by the
# unit tests), the executable a thin shell on it.
pkg_check_modules(CNI_NLROUTE REQUIRED IMPORTED_TARGET libnl-route-3.0)
# Flushing a released address's connections (conntrack over ctnetlink).
pkg_check_modules(NFCT REQUIRED IMPORTED_TARGET libnetfilter_conntrack)
find_package(Threads REQUIRED)

add_library(weftcni STATIC
  cni/cni.cpp
  cni/conntrack.cpp
  cni/netlink.cpp
  cni/plugin.cpp
  cni/weftd_client.cpp
)
target_include_directories(weftcni PUBLIC ${PROJECT_SOURCE_DIR}/cni)
target_link_libraries(weftcni PUBLIC libweft nlohmann_json::nlohmann_json PkgConfig::CNI_NLROUTE
                      PkgConfig::NFCT Threads::Threads)

add_executable(weft-cni cni/main.cpp)
target_link_libraries(weft-cni PRIVATE weftcni)
# Where runtimes look for CNI plugins.
install(TARGETS weft-cni RUNTIME DESTINATION /opt/cni/bin)
install(FILES ${PROJECT_SOURCE_DIR}/../Documentation/man/weft-cni.8
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)

if(WEFT_BUILD_TESTS)
  add_executable(weft_cni_tests
    tests/cni_parse_test.cpp
    tests/cni_plugin_test.cpp
  )
  # FakeWeftd answers over weftd's real API server (Asio), see cni_fake_weftd.hpp.
  target_compile_options(weft_cni_tests PRIVATE $<$<CXX_COMPILER_ID:GNU>:-Wno-mismatched-new-delete>)
  target_link_libraries(weft_cni_tests PRIVATE weftcni weftdapi GTest::gtest GTest::gtest_main)
  target_compile_definitions(weft_cni_tests PRIVATE WEFT_CNI_BINARY="$<TARGET_FILE:weft-cni>")
  add_dependencies(weft_cni_tests weft-cni)
  gtest_discover_tests(weft_cni_tests DISCOVERY_TIMEOUT 60)
endif()
