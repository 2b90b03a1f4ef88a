# weftd's shared model (nodes, encapsulations), used by every other part.
add_library(weftdmodel STATIC weftd/model.cpp)
target_include_directories(weftdmodel PUBLIC ${PROJECT_SOURCE_DIR}/weftd)
target_link_libraries(weftdmodel PUBLIC libweft)
