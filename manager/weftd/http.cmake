# weftd's HTTP endpoint (metrics, liveness and readiness) over Boost.Beast,
# and its tests over real TCP on the loopback.
find_package(Threads REQUIRED)

add_library(weftdhttp STATIC weftd/metrics.cpp weftd/http_server.cpp)
target_include_directories(weftdhttp PUBLIC ${PROJECT_SOURCE_DIR}/weftd)
# Asio and Beast are header-only.
target_link_libraries(weftdhttp PUBLIC Boost::headers Threads::Threads)

# GCC 12 with optimisation warns falsely that an inlined coroutine frame's
# operator delete does not match its allocator (as for weftdetcd).
set(WEFT_HTTP_NO_FALSE_WARNING $<$<CXX_COMPILER_ID:GNU>:-Wno-mismatched-new-delete>)
target_compile_options(weftdhttp PRIVATE ${WEFT_HTTP_NO_FALSE_WARNING})

if(WEFT_BUILD_TESTS)
  add_executable(weftd_http_tests tests/weftd_http_test.cpp)
  target_compile_options(weftd_http_tests PRIVATE ${WEFT_HTTP_NO_FALSE_WARNING})
  target_link_libraries(weftd_http_tests PRIVATE weftdhttp GTest::gtest GTest::gtest_main)
  gtest_discover_tests(weftd_http_tests DISCOVERY_TIMEOUT 60)
endif()
