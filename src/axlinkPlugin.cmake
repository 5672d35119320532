# SPDX-License-Identifier: MIT
#
# axlink_add_transport_plugin(<name> SOURCES <file>...
#                             [LIBRARIES <lib>...]
#                             [INSTALL_DESTINATION <dir> | NO_INSTALL])
#
# Build a transport plugin against an installed axlink, the way the
# library's own transports are built (docs/plugins.md):
#   - a MODULE library named axlink-transport-<name>.so (no "lib" prefix),
#     the file name the plugin loader looks for; <name> is the URI scheme;
#   - hidden visibility: the only exported symbol is the entry function
#     marked AX_PLUGIN_EXPORT;
#   - -Wl,--no-undefined, so a missing symbol fails the link here instead of
#     the dlopen() on a user's machine;
#   - the include folders of axlink::axlink, but NOT linked to libaxlink:
#     a plugin reaches the core only through the host table it is handed;
#   - installed to AXLINK_PLUGIN_DIR (the plugin folder of the axlink that
#     find_package() found), unless INSTALL_DESTINATION or NO_INSTALL says
#     otherwise.
# The target is called axlink-transport-<name>; add sources, definitions or
# options to it as to any other target. LIBRARIES are linked PRIVATE (a
# vendor SDK, say); never list axlink::axlink there.
#
# Installed beside axlinkConfig.cmake and included by it.

# Remember the plugin folder of the package that included this file, so the
# function still knows it when called from a directory that did not run
# find_package(axlink) itself.
set_property(GLOBAL PROPERTY AXLINK_PLUGIN_DIR "${AXLINK_PLUGIN_DIR}")

function(axlink_add_transport_plugin name)
  cmake_parse_arguments(PARSE_ARGV 1 AXP "NO_INSTALL" "INSTALL_DESTINATION" "SOURCES;LIBRARIES")
  if(AXP_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "axlink_add_transport_plugin(${name}): unknown arguments "
      "'${AXP_UNPARSED_ARGUMENTS}' (expected SOURCES, LIBRARIES, INSTALL_DESTINATION, "
      "NO_INSTALL)")
  endif()
  # The name becomes the file name and must be the scheme the descriptor declares.
  if(NOT name MATCHES "^[a-z][a-z0-9+.-]*$")
    message(FATAL_ERROR "axlink_add_transport_plugin(${name}): the name must be the URI "
      "scheme, lower case: [a-z][a-z0-9+.-]*")
  endif()
  if(NOT AXP_SOURCES)
    message(FATAL_ERROR "axlink_add_transport_plugin(${name}): no SOURCES given")
  endif()
  if(NOT TARGET axlink::axlink)
    message(FATAL_ERROR "axlink_add_transport_plugin(${name}): target axlink::axlink is "
      "missing; call find_package(axlink) first")
  endif()
  if(AXP_NO_INSTALL AND AXP_INSTALL_DESTINATION)
    message(FATAL_ERROR "axlink_add_transport_plugin(${name}): NO_INSTALL and "
      "INSTALL_DESTINATION exclude each other")
  endif()

  set(target axlink-transport-${name})
  add_library(${target} MODULE ${AXP_SOURCES})
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    OUTPUT_NAME ${target}
    SUFFIX ".so"
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  # The headers only: linking libaxlink would give the plugin a second copy
  # of the core's state when it is loaded into a process that has one.
  target_include_directories(${target} PRIVATE
    $<TARGET_PROPERTY:axlink::axlink,INTERFACE_INCLUDE_DIRECTORIES>)
  if(CMAKE_C_COMPILER_LOADED)
    target_compile_features(${target} PRIVATE c_std_11)
  endif()
  if(AXP_LIBRARIES)
    target_link_libraries(${target} PRIVATE ${AXP_LIBRARIES})
  endif()

  # Sanitizer runtimes are not linked into shared objects by every compiler
  # (clang leaves them to the executable), so their symbols stay undefined
  # in an instrumented plugin: only then is --no-undefined left out.
  set(_axp_flags "${CMAKE_C_FLAGS} ${CMAKE_CXX_FLAGS} ${CMAKE_MODULE_LINKER_FLAGS}")
  if(CMAKE_BUILD_TYPE)
    string(TOUPPER "${CMAKE_BUILD_TYPE}" _axp_cfg)
    string(APPEND _axp_flags " ${CMAKE_C_FLAGS_${_axp_cfg}} ${CMAKE_MODULE_LINKER_FLAGS_${_axp_cfg}}")
  endif()
  if(NOT APPLE AND NOT _axp_flags MATCHES "-fsanitize=")
    target_link_options(${target} PRIVATE "LINKER:--no-undefined")
  endif()

  if(NOT AXP_NO_INSTALL)
    if(NOT AXP_INSTALL_DESTINATION)
      set(AXP_INSTALL_DESTINATION "${AXLINK_PLUGIN_DIR}")
    endif()
    if(NOT AXP_INSTALL_DESTINATION)
      get_property(AXP_INSTALL_DESTINATION GLOBAL PROPERTY AXLINK_PLUGIN_DIR)
    endif()
    install(TARGETS ${target} LIBRARY DESTINATION "${AXP_INSTALL_DESTINATION}")
  endif()
endfunction()
