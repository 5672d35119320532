# SPDX-License-Identifier: MIT
#
# The serial transport's tests: USB-serial ports that umockdev emulates,
# opened through the real libserialport (serial_rig.h; ../shared/TEST-RIGS.md,
# Serial). Included from tests/CMakeLists.txt when the serial transport and
# the simulator are built. The tests run under umockdev-wrapper, with TMPDIR
# in the build tree (the testbed's folder goes there) and ASan told not to
# insist on coming first (umockdev's preload does).
pkg_check_modules(UMOCKDEV IMPORTED_TARGET umockdev-1.0)
find_program(UMOCKDEV_WRAPPER umockdev-wrapper)
if(NOT UMOCKDEV_FOUND OR NOT UMOCKDEV_WRAPPER)
  message(STATUS "Serial tests skipped: umockdev-wrapper or umockdev-1.0 missing "
    "(apt-get install umockdev libumockdev-dev)")
  return()
endif()

# An OBJECT library, so the ioctl() shim is always linked in (nothing calls it
# by name), and exported, so that libserialport (loaded with the plugin) binds to it.
add_library(axlink_serial_rig OBJECT
  ${CMAKE_CURRENT_LIST_DIR}/serial_rig.c ${CMAKE_CURRENT_LIST_DIR}/pty_modem_shim.c)
target_include_directories(axlink_serial_rig PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(axlink_serial_rig
  PUBLIC PkgConfig::UMOCKDEV ${CMAKE_DL_LIBS}
  PRIVATE axlink_warnings)
target_link_options(axlink_serial_rig INTERFACE "LINKER:--export-dynamic-symbol=ioctl")

set(AXLINK_SERIAL_TMPDIR ${CMAKE_CURRENT_BINARY_DIR}/serial-tmp)
file(MAKE_DIRECTORY ${AXLINK_SERIAL_TMPDIR})

# axlink_add_serial_test(<module>): tests/test_<module>.c against the emulated
# ports, through this build's serial plugin and simulator.
function(axlink_add_serial_test module)
  add_executable(test_${module} ${CMAKE_CURRENT_SOURCE_DIR}/test_${module}.c)
  target_link_libraries(test_${module} PRIVATE axlink axlink_serial_rig axlink_simdrive
    axlink_test_support PkgConfig::CMOCKA axlink_warnings Threads::Threads)
  target_include_directories(test_${module} PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_compile_definitions(test_${module} PRIVATE
    AXLINK_BUILD_PLUGIN_DIR="${AXLINK_PLUGIN_BUILD_DIR}")
  add_dependencies(test_${module} axlink-transport-serial axlink-sim)
  add_test(NAME ${module} COMMAND ${UMOCKDEV_WRAPPER} $<TARGET_FILE:test_${module}>)
  set_tests_properties(${module} PROPERTIES LABELS "sim;serial" TIMEOUT 120
    ENVIRONMENT "AXLINK_LOG=warn;TMPDIR=${AXLINK_SERIAL_TMPDIR};ASAN_OPTIONS=detect_leaks=1:verify_asan_link_order=0")
endfunction()
