# weft-cni, the CNI plugin: its logic as a library (driven directly by the
# unit tests), the executable a thin shell on it.
pkg_check_modules(CNI_NLROUTE REQUIRED IMPORTED_TARGET libnl-route-3.0)
# Flushing a released address's connections (conntrack over ctnetlink).
pkg_check_modules(CNI_NLNF REQUIRED IMPORTED_TARGET libnl-nf-3.0)

add_library(weftcni STATIC
  cni/cni.cpp
  cni/conntrack.cpp
  cni/netlink.cpp
  cni/plugin.cpp
  cni/weftd_client.cpp
)
target_include_directories(weftcni PUBLIC ${PROJECT_SOURCE_DIR}/cni)
# libnl is linked by weftcni's users: shared for the tests, static for the
# plugin (below).
target_link_libraries(weftcni PUBLIC weftaddr nlohmann_json::nlohmann_json)
target_include_directories(weftcni PUBLIC ${CNI_NLROUTE_INCLUDE_DIRS})

# weft-cni is started for every pod operation, so its start-up is part of
# every ADD and DEL. It is one static executable (Debian ships static
# archives of libnl, libnl-route and libnl-nf): no dynamic linker, no symbol
# lookups. Starting the plugin cost 5.3 M instructions dynamically linked,
# 2.2 M with libc, libmnl and libnetfilter_conntrack left shared, 1.0 M
# static (bench/cni-bench.sh). Static-pie, not -static: a -static binary
# registers its unwind tables at start-up, and its first exception sorts
# them all (18 M instructions, callgrind), which every error reply pays;
# a static-pie finds them through the binary search table of .eh_frame_hdr.
find_library(NL3_STATIC libnl-3.a REQUIRED)
find_library(NL_ROUTE3_STATIC libnl-route-3.a REQUIRED)
find_library(NL_NF3_STATIC libnl-nf-3.a REQUIRED)
add_executable(weft-cni cni/main.cpp)
target_link_libraries(weft-cni PRIVATE weftcni ${NL_NF3_STATIC} ${NL_ROUTE3_STATIC} ${NL3_STATIC})
if(NOT WEFT_SANITIZE)
  target_link_options(weft-cni PRIVATE -static-pie)
endif()
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
  target_link_libraries(weft_cni_tests PRIVATE weftcni PkgConfig::CNI_NLNF PkgConfig::CNI_NLROUTE weftdapi GTest::gtest
                        GTest::gtest_main)
  target_compile_definitions(weft_cni_tests PRIVATE WEFT_CNI_BINARY="$<TARGET_FILE:weft-cni>")
  add_dependencies(weft_cni_tests weft-cni)
  gtest_discover_tests(weft_cni_tests DISCOVERY_TIMEOUT 60)
endif()
