# weftd's shared model (nodes, encapsulations), used by every other part.
add_library(weftdmodel STATIC weftd/model.cpp)
target_include_directories(weftdmodel PUBLIC ${PROJECT_SOURCE_DIR}/weftd)
target_link_libraries(weftdmodel PUBLIC libweft)

# Settings: flags and config file.
add_library(weftdconfig STATIC weftd/config.cpp)
target_link_libraries(weftdconfig PUBLIC weftdmodel Boost::program_options)

if(WEFT_BUILD_TESTS)
  add_executable(weftd_core_tests tests/weftd_config_test.cpp)
  target_link_libraries(weftd_core_tests PRIVATE weftdconfig GTest::gtest GTest::gtest_main)
  gtest_discover_tests(weftd_core_tests DISCOVERY_TIMEOUT 60)
endif()
