
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/client/client.c" "client/CMakeFiles/shmetrics_static.dir/client.c.o" "gcc" "client/CMakeFiles/shmetrics_static.dir/client.c.o.d"
  "/work/main/client/family.c" "client/CMakeFiles/shmetrics_static.dir/family.c.o" "gcc" "client/CMakeFiles/shmetrics_static.dir/family.c.o.d"
  "/work/main/client/producer.c" "client/CMakeFiles/shmetrics_static.dir/producer.c.o" "gcc" "client/CMakeFiles/shmetrics_static.dir/producer.c.o.d"
  "/work/main/client/series.c" "client/CMakeFiles/shmetrics_static.dir/series.c.o" "gcc" "client/CMakeFiles/shmetrics_static.dir/series.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
