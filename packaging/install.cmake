# What `cmake --install` and the .deb (cpack -G DEB, tools/package) hold.
# Included from the top-level CMakeLists.txt, so that CPack sees these
# variables. Paths are relative to the prefix (/usr in the package).
include(GNUInstallDirs)

# netacct is a root tool: sbin.
install(TARGETS netacct RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(FILES ${CMAKE_SOURCE_DIR}/packaging/netacct.service
  DESTINATION lib/systemd/system)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/netacct.bash-completion
  DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME netacct)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/examples/
  DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

# The man page, compressed as Debian ships them (gzip -9n: no name, no
# time stamp, so the same page gives the same bytes).
find_program(GZIP gzip REQUIRED)
set(_netacct_man_gz ${CMAKE_BINARY_DIR}/netacct.8.gz)
add_custom_command(OUTPUT ${_netacct_man_gz}
  COMMAND ${GZIP} -9n -c ${CMAKE_SOURCE_DIR}/packaging/netacct.8 > ${_netacct_man_gz}
  DEPENDS ${CMAKE_SOURCE_DIR}/packaging/netacct.8
  COMMENT "man page netacct.8.gz")
add_custom_target(netacct_man ALL DEPENDS ${_netacct_man_gz})
install(FILES ${_netacct_man_gz} DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME netacct)
set(CPACK_PACKAGE_VENDOR netacct)
set(CPACK_PACKAGE_CONTACT "netacct maintainers <netacct@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "per-process network traffic accounting from the kernel (eBPF)")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The long description; CPack puts the summary above it and indents it.
set(CPACK_PACKAGE_DESCRIPTION
  "netacct counts, in the kernel, the payload bytes every process sends and
receives, per connection, remote host, container and interface, with
nothing sampled or guessed. It shows them live (netacct top), as periodic
text, JSON or CSV reports (netacct report), or as Prometheus metrics
(netacct serve, run by the systemd unit netacct.service).")
# Depends from the binary's shared libraries (dpkg-shlibdeps: libbpf1,
# libelf1, libstdc++6...).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "prometheus, bash-completion")
# Maintainer scripts: the unit is installed, not enabled or started (a root
# daemon that attaches to every interface is the admin's choice).
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${CMAKE_SOURCE_DIR}/packaging/debian/postinst
  ${CMAKE_SOURCE_DIR}/packaging/debian/prerm
  ${CMAKE_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
