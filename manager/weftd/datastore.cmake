# weftd's datastores (cluster membership): the interface with the embedded
# single-node backend (datastore.cpp) and the etcd backend, with their tests,
# which run a real three-member etcd cluster (Debian's etcd-server).
add_library(weftddatastore STATIC
  weftd/datastore.cpp
  weftd/etcd_datastore.cpp
)
target_include_directories(weftddatastore PUBLIC ${PROJECT_SOURCE_DIR}/weftd)
target_link_libraries(weftddatastore PUBLIC weftdmodel weftdstate weftdetcd
                      PRIVATE nlohmann_json::nlohmann_json)
# GCC 12's false mismatched-new-delete warning on coroutine frames (etcd.cmake).
target_compile_options(weftddatastore PRIVATE ${WEFT_ETCD_NO_FALSE_WARNING})

if(WEFT_BUILD_TESTS)
  add_executable(weftd_datastore_tests tests/weftd_datastore_test.cpp)
  target_compile_options(weftd_datastore_tests PRIVATE ${WEFT_ETCD_NO_FALSE_WARNING})
  target_link_libraries(weftd_datastore_tests PRIVATE weftddatastore nlohmann_json::nlohmann_json
                        GTest::gtest GTest::gtest_main)
  gtest_discover_tests(weftd_datastore_tests DISCOVERY_TIMEOUT 60)
endif()
