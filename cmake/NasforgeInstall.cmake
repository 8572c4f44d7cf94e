# nasforge_install_library(<target> <name>): installs a component library and its public headers
# (its include/ folder) and adds it to the nasforgeTargets export set as nasforge::<name>, which
# cmake/nasforgeConfig.cmake.in loads for find_package(nasforge).
function(nasforge_install_library target name)
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${name})
  install(TARGETS ${target} EXPORT nasforgeTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
endfunction()
