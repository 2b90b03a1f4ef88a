# weftd-scale, the driver of the weftd scale benchmark (bench/weftd-scale.sh):
# simulated nodes written to etcd through weftd's own client and datastore
# format, routes watched in weft.ko through libweft. Not installed.
add_executable(weftd-scale weftd/tools/scale_driver.cpp)
# GCC 12's false mismatched-new-delete warning on coroutine frames (etcd.cmake).
target_compile_options(weftd-scale PRIVATE ${WEFT_ETCD_NO_FALSE_WARNING})
target_link_libraries(weftd-scale PRIVATE weftddatastore libweft Boost::program_options
                      nlohmann_json::nlohmann_json)
