# weftd's state: the SQLite datastore (state.cpp) and pod address management
# (ipam.cpp) on top of it, with their unit tests.
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)

add_library(weftdstate STATIC
  weftd/state.cpp
  weftd/ipam.cpp
)
target_include_directories(weftdstate PUBLIC ${PROJECT_SOURCE_DIR}/weftd)
target_link_libraries(weftdstate PUBLIC libweft PkgConfig::SQLITE3 PRIVATE nlohmann_json::nlohmann_json)

if(WEFT_BUILD_TESTS)
  add_executable(weftd_state_tests
    tests/weftd_state_test.cpp
    tests/weftd_ipam_test.cpp
  )
  target_link_libraries(weftd_state_tests PRIVATE weftdstate GTest::gtest GTest::gtest_main)
  gtest_discover_tests(weftd_state_tests DISCOVERY_TIMEOUT 60)
endif()
