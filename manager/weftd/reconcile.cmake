# weftd's reconciler: programs weft.ko's node, route and endpoint tables from
# the desired state (reconcile.cpp) through KernelTables (kernel.cpp).
add_library(weftdreconcile STATIC
  weftd/kernel.cpp
  weftd/reconcile.cpp
)
target_include_directories(weftdreconcile PUBLIC ${PROJECT_SOURCE_DIR}/weftd)
target_link_libraries(weftdreconcile PUBLIC weftdmodel)

if(WEFT_BUILD_TESTS)
  add_executable(weftd_reconcile_tests tests/weftd_reconcile_test.cpp)
  target_link_libraries(weftd_reconcile_tests PRIVATE weftdreconcile GTest::gtest GTest::gtest_main)
  gtest_discover_tests(weftd_reconcile_tests DISCOVERY_TIMEOUT 60)
endif()
