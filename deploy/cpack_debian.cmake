# Run by cpack after it staged the install and before it packs it
# (CPACK_PRE_BUILD_SCRIPTS, CMakeLists.txt): what a Debian package has and a plain
# `cmake --install` has not, as dh_installchangelogs and dh_compress would do it:
#
# - the manual pages compressed (gzip -9n: no name, no time stamp, so the same
#   input gives the same package);
# - /usr/share/doc/switchboard/changelog.Debian.gz from debian/changelog;
# - the documents of /usr/share/doc/switchboard over 4 KiB compressed (Debian
#   policy 12.3), except the copyright file.
set(_root "${CPACK_TEMPORARY_INSTALL_DIRECTORY}")
if(NOT EXISTS "${_root}/usr/sbin/switchboard")
  message(FATAL_ERROR "cpack_debian.cmake: no usr/sbin/switchboard under ${_root}")
endif()
find_program(_gzip gzip REQUIRED)

function(gzip_in_place file)
  execute_process(COMMAND ${_gzip} -9nf "${file}" RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "cpack_debian.cmake: gzip ${file} failed")
  endif()
endfunction()

file(GLOB _pages "${_root}/usr/share/man/man*/*")
foreach(_page IN LISTS _pages)
  if(NOT _page MATCHES "\\.gz$")
    gzip_in_place("${_page}")
  endif()
endforeach()

set(_doc "${_root}/usr/share/doc/switchboard")
file(COPY_FILE "${CPACK_SWITCHBOARD_DEBIAN_DIR}/changelog" "${_doc}/changelog.Debian")
gzip_in_place("${_doc}/changelog.Debian")
file(GLOB _docs "${_doc}/*.md")
foreach(_file IN LISTS _docs)
  file(SIZE "${_file}" _size)
  if(_size GREATER 4096)
    gzip_in_place("${_file}")
  endif()
endforeach()
file(CHMOD "${_doc}/changelog.Debian.gz" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
