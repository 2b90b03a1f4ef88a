# weftd's outgoing NAT for the pod network: nftables tables of weft's own,
# written and read back through libnftables.
pkg_check_modules(NFTABLES REQUIRED IMPORTED_TARGET libnftables)

add_library(weftdnat STATIC weftd/nat.cpp)
target_include_directories(weftdnat PUBLIC ${PROJECT_SOURCE_DIR}/weftd)
target_link_libraries(weftdnat PUBLIC libweft PkgConfig::NFTABLES
                      PRIVATE nlohmann_json::nlohmann_json)

if(WEFT_BUILD_TESTS)
  # The tests run in a network namespace of their own (they unshare one at
  # start), so they need root; they check the kernel's tables with nft(8).
  add_executable(weftd_nat_test tests/weftd_nat_test.cpp)
  target_link_libraries(weftd_nat_test PRIVATE weftdnat nlohmann_json::nlohmann_json GTest::gtest)
  gtest_discover_tests(weftd_nat_test DISCOVERY_TIMEOUT 60)
endif()
