file(REMOVE_RECURSE
  "CMakeFiles/shm_objects.dir/arena.c.o"
  "CMakeFiles/shm_objects.dir/arena.c.o.d"
  "CMakeFiles/shm_objects.dir/error.c.o"
  "CMakeFiles/shm_objects.dir/error.c.o.d"
  "CMakeFiles/shm_objects.dir/hash.c.o"
  "CMakeFiles/shm_objects.dir/hash.c.o.d"
  "CMakeFiles/shm_objects.dir/names.c.o"
  "CMakeFiles/shm_objects.dir/names.c.o.d"
  "CMakeFiles/shm_objects.dir/proc.c.o"
  "CMakeFiles/shm_objects.dir/proc.c.o.d"
  "CMakeFiles/shm_objects.dir/ring.c.o"
  "CMakeFiles/shm_objects.dir/ring.c.o.d"
  "CMakeFiles/shm_objects.dir/segment.c.o"
  "CMakeFiles/shm_objects.dir/segment.c.o.d"
  "CMakeFiles/shm_objects.dir/slot.c.o"
  "CMakeFiles/shm_objects.dir/slot.c.o.d"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/shm_objects.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
