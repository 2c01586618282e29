file(REMOVE_RECURSE
  "libshm.a"
  "libshm.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/shm.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
