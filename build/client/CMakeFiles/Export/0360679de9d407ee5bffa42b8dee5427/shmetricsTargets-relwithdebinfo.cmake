#----------------------------------------------------------------
# Generated CMake target import file for configuration "RelWithDebInfo".
#----------------------------------------------------------------

# Commands may need to know the format version.
set(CMAKE_IMPORT_FILE_VERSION 1)

# Import target "shmetrics::shmetrics" for configuration "RelWithDebInfo"
set_property(TARGET shmetrics::shmetrics APPEND PROPERTY IMPORTED_CONFIGURATIONS RELWITHDEBINFO)
set_target_properties(shmetrics::shmetrics PROPERTIES
  IMPORTED_LOCATION_RELWITHDEBINFO "${_IMPORT_PREFIX}/lib/libshmetrics.so.0.1.0"
  IMPORTED_SONAME_RELWITHDEBINFO "libshmetrics.so.0"
  )

list(APPEND _cmake_import_check_targets shmetrics::shmetrics )
list(APPEND _cmake_import_check_files_for_shmetrics::shmetrics "${_IMPORT_PREFIX}/lib/libshmetrics.so.0.1.0" )

# Import target "shmetrics::shmetrics_static" for configuration "RelWithDebInfo"
set_property(TARGET shmetrics::shmetrics_static APPEND PROPERTY IMPORTED_CONFIGURATIONS RELWITHDEBINFO)
set_target_properties(shmetrics::shmetrics_static PROPERTIES
  IMPORTED_LINK_INTERFACE_LANGUAGES_RELWITHDEBINFO "C"
  IMPORTED_LOCATION_RELWITHDEBINFO "${_IMPORT_PREFIX}/lib/libshmetrics.a"
  )

list(APPEND _cmake_import_check_targets shmetrics::shmetrics_static )
list(APPEND _cmake_import_check_files_for_shmetrics::shmetrics_static "${_IMPORT_PREFIX}/lib/libshmetrics.a" )

# Commands beyond this point should not need to know the version.
set(CMAKE_IMPORT_FILE_VERSION)
