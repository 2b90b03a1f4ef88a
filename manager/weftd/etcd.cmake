# weftd's etcd client (the v3 JSON gateway over Boost.Beast) and its tests,
# which run a real three-member etcd cluster (Debian's etcd-server).
find_package(Threads REQUIRED)

add_library(weftdetcd STATIC weftd/etcd.cpp)
target_include_directories(weftdetcd PUBLIC ${PROJECT_SOURCE_DIR}/weftd)
# Asio and Beast are header-only.
target_link_libraries(weftdetcd PUBLIC Boost::headers Threads::Threads
                      PRIVATE nlohmann_json::nlohmann_json)

# With optimisation GCC 12 inlines Asio's coroutine frame allocator and then
# warns falsely that the frame's own operator delete does not match it.
set(WEFT_ETCD_NO_FALSE_WARNING
    $<$<CXX_COMPILER_ID:GNU>:-Wno-mismatched-new-delete>)
target_compile_options(weftdetcd PRIVATE ${WEFT_ETCD_NO_FALSE_WARNING})

if(WEFT_BUILD_TESTS)
  add_executable(weftd_etcd_tests tests/weftd_etcd_test.cpp)
  target_compile_options(weftd_etcd_tests PRIVATE ${WEFT_ETCD_NO_FALSE_WARNING})
  target_link_libraries(weftd_etcd_tests PRIVATE weftdetcd nlohmann_json::nlohmann_json
                        GTest::gtest GTest::gtest_main)
  gtest_discover_tests(weftd_etcd_tests DISCOVERY_TIMEOUT 60)
endif()
