# SPDX-License-Identifier: MIT
#
# The USB transport's tests: emulated USB drives in a umockdev testbed that
# the real libusb talks to (usbemu.h; ../shared/TEST-RIGS.md, USB). Included
# from tests/CMakeLists.txt when the usb transport is built. The tests run
# under umockdev-wrapper, with TMPDIR in the build tree (the testbed's folder
# goes there) and ASan told not to insist on coming first (umockdev's
# preload does).
pkg_check_modules(UMOCKDEV IMPORTED_TARGET umockdev-1.0)
find_program(UMOCKDEV_WRAPPER umockdev-wrapper)
if(NOT UMOCKDEV_FOUND OR NOT UMOCKDEV_WRAPPER)
  message(STATUS "USB tests skipped: umockdev-wrapper or umockdev-1.0 missing "
    "(apt-get install umockdev libumockdev-dev)")
  return()
endif()

add_library(axlink_usbemu STATIC ${CMAKE_CURRENT_LIST_DIR}/usbemu.c)
target_include_directories(axlink_usbemu PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(axlink_usbemu
  PUBLIC axlink axlink_simdrive PkgConfig::UMOCKDEV Threads::Threads ${CMAKE_DL_LIBS}
  PRIVATE axlink_warnings)

# The open() interposer in usbemu.c must be what libusb (loaded with the plugin) binds to.
target_link_options(axlink_usbemu INTERFACE
  "LINKER:--export-dynamic-symbol=open,--export-dynamic-symbol=open64"
  "LINKER:--export-dynamic-symbol=__open_2,--export-dynamic-symbol=__open64_2")

set(AXLINK_USB_TMPDIR ${CMAKE_CURRENT_BINARY_DIR}/usb-tmp)
file(MAKE_DIRECTORY ${AXLINK_USB_TMPDIR})

# axlink_add_usb_test(<module> [TIMEOUT s] [LIBRARIES ...]): tests/test_<module>.c
# against the emulated devices, through the plugins of this build.
function(axlink_add_usb_test module)
  cmake_parse_arguments(T "" "TIMEOUT" "LIBRARIES" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  add_executable(test_${module} ${CMAKE_CURRENT_SOURCE_DIR}/test_${module}.c)
  target_link_libraries(test_${module} PRIVATE axlink axlink_usbemu PkgConfig::CMOCKA
    axlink_warnings Threads::Threads ${T_LIBRARIES})
  target_include_directories(test_${module} PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_compile_definitions(test_${module} PRIVATE
    AXLINK_BUILD_PLUGIN_DIR="${AXLINK_PLUGIN_BUILD_DIR}")
  add_dependencies(test_${module} axlink-transport-usb)
  if(TARGET axlink-transport-virtual)
    add_dependencies(test_${module} axlink-transport-virtual)
  endif()
  if(TARGET axlink-devices-db)
    add_dependencies(test_${module} axlink-devices-db)
  endif()
  add_test(NAME ${module} COMMAND ${UMOCKDEV_WRAPPER} $<TARGET_FILE:test_${module}>)
  set_tests_properties(${module} PROPERTIES LABELS "sim;usb" TIMEOUT ${T_TIMEOUT}
    ENVIRONMENT "AXLINK_LOG=warn;TMPDIR=${AXLINK_USB_TMPDIR};ASAN_OPTIONS=detect_leaks=1:verify_asan_link_order=0")
endfunction()
