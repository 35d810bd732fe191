# Run by `cmake --install` and by cpack (install(SCRIPT) in CMakeLists.txt), with
# CMAKE_INSTALL_PREFIX as it is at install time: /usr/local by default, /usr for
# the Debian package, whatever `cmake --install --prefix` says. It installs:
#
# - the systemd unit, deploy/switchboard.service with ExecStart naming the
#   installed daemon and --config the installed config file, in lib/systemd/system
#   under the prefix (systemd reads /usr/local/lib/systemd/system too);
# - the example configuration as switchboard/switchboard.conf in the sysconfdir
#   (/etc for the prefixes / and /usr, as GNUInstallDirs has it, else
#   PREFIX/etc), unless a file is there already: an operator's edited file is
#   never overwritten by `cmake --install` (the package marks it a conffile and
#   dpkg asks);
# - the logrotate file as logrotate.d/switchboard in the sysconfdir.
#
# A template expanded at configure time (configure_file) would name the prefix the
# tree was configured with, which is not the one cpack installs with.
set(_prefix "${CMAKE_INSTALL_PREFIX}")
string(REGEX REPLACE "/+$" "" _prefix "${_prefix}")
if(_prefix STREQUAL "" OR _prefix STREQUAL "/usr")
  set(_etc "/etc")
elseif(_prefix MATCHES "^/opt/")
  set(_etc "/etc${_prefix}")
else()
  set(_etc "${_prefix}/etc")
endif()
set(_daemon "${_prefix}/${SWITCHBOARD_SBINDIR}/switchboard")
set(_config "${_etc}/switchboard/switchboard.conf")
set(_unit_dir "${_prefix}/lib/systemd/system")

# The unit. The hand-install paths of deploy/switchboard.service are replaced.
file(READ "${SWITCHBOARD_DEPLOY_DIR}/switchboard.service" _unit)
string(REPLACE "/usr/local/bin/switchboard --" "${_daemon} --" _unit "${_unit}")
string(REPLACE "--config /etc/switchboard/switchboard.conf" "--config ${_config}" _unit "${_unit}")
set(_unit_file "$ENV{DESTDIR}${_unit_dir}/switchboard.service")
message(STATUS "Installing: ${_unit_file}")
file(MAKE_DIRECTORY "$ENV{DESTDIR}${_unit_dir}")
file(WRITE "${_unit_file}" "${_unit}")
file(CHMOD "${_unit_file}" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
list(APPEND CMAKE_INSTALL_MANIFEST_FILES "${_unit_file}")

# The configuration, once.
if(EXISTS "$ENV{DESTDIR}${_config}")
  message(STATUS "Keeping: $ENV{DESTDIR}${_config} (already there; the example is in the doc directory)")
else()
  file(INSTALL "${SWITCHBOARD_DEPLOY_DIR}/switchboard.conf.example" DESTINATION "${_etc}/switchboard"
       RENAME switchboard.conf PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endif()

file(INSTALL "${SWITCHBOARD_DEPLOY_DIR}/logrotate.d/switchboard" DESTINATION "${_etc}/logrotate.d"
     PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
