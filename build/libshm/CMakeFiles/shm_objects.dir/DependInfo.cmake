
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/libshm/arena.c" "libshm/CMakeFiles/shm_objects.dir/arena.c.o" "gcc" "libshm/CMakeFiles/shm_objects.dir/arena.c.o.d"
  "/work/main/libshm/error.c" "libshm/CMakeFiles/shm_objects.dir/error.c.o" "gcc" "libshm/CMakeFiles/shm_objects.dir/error.c.o.d"
  "/work/main/libshm/hash.c" "libshm/CMakeFiles/shm_objects.dir/hash.c.o" "gcc" "libshm/CMakeFiles/shm_objects.dir/hash.c.o.d"
  "/work/main/libshm/names.c" "libshm/CMakeFiles/shm_objects.dir/names.c.o" "gcc" "libshm/CMakeFiles/shm_objects.dir/names.c.o.d"
  "/work/main/libshm/proc.c" "libshm/CMakeFiles/shm_objects.dir/proc.c.o" "gcc" "libshm/CMakeFiles/shm_objects.dir/proc.c.o.d"
  "/work/main/libshm/ring.c" "libshm/CMakeFiles/shm_objects.dir/ring.c.o" "gcc" "libshm/CMakeFiles/shm_objects.dir/ring.c.o.d"
  "/work/main/libshm/segment.c" "libshm/CMakeFiles/shm_objects.dir/segment.c.o" "gcc" "libshm/CMakeFiles/shm_objects.dir/segment.c.o.d"
  "/work/main/libshm/slot.c" "libshm/CMakeFiles/shm_objects.dir/slot.c.o" "gcc" "libshm/CMakeFiles/shm_objects.dir/slot.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
