# SPDX-License-Identifier: MIT
#
# The system-call counter (syscount.c): linked into a test executable and
# exported from it, so it interposes on libc for the dlopen()ed transports.
add_library(axlink_syscount STATIC ${CMAKE_CURRENT_LIST_DIR}/syscount.c)
target_include_directories(axlink_syscount PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(axlink_syscount PRIVATE axlink_warnings PUBLIC ${CMAKE_DL_LIBS})
set(_syscount_syms send sendto sendmsg recv recvfrom recvmsg read write poll ppoll
  __read_chk __recv_chk __recvfrom_chk __poll_chk socket connect setsockopt shutdown close)
foreach(s IN LISTS _syscount_syms)
  target_link_options(axlink_syscount INTERFACE "LINKER:--export-dynamic-symbol=${s}")
endforeach()
