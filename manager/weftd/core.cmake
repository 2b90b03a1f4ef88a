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

# The local API on a unix socket (weft-cni's way in).
find_package(Threads REQUIRED)
add_library(weftdapi STATIC weftd/api.cpp)
target_include_directories(weftdapi PUBLIC ${PROJECT_SOURCE_DIR}/weftd)
target_link_libraries(weftdapi PUBLIC Boost::headers Threads::Threads nlohmann_json::nlohmann_json)
# GCC 12 warns falsely on Asio's coroutine frames once inlined (see etcd.cmake).
target_compile_options(weftdapi PRIVATE $<$<CXX_COMPILER_ID:GNU>:-Wno-mismatched-new-delete>)

if(WEFT_BUILD_TESTS)
  add_executable(weftd_api_tests tests/weftd_api_test.cpp)
  target_compile_options(weftd_api_tests PRIVATE $<$<CXX_COMPILER_ID:GNU>:-Wno-mismatched-new-delete>)
  target_link_libraries(weftd_api_tests PRIVATE weftdapi GTest::gtest GTest::gtest_main)
  gtest_discover_tests(weftd_api_tests DISCOVERY_TIMEOUT 60)
endif()
