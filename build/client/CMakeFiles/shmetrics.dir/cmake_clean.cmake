file(REMOVE_RECURSE
  "CMakeFiles/shmetrics.dir/client.c.o"
  "CMakeFiles/shmetrics.dir/client.c.o.d"
  "CMakeFiles/shmetrics.dir/family.c.o"
  "CMakeFiles/shmetrics.dir/family.c.o.d"
  "CMakeFiles/shmetrics.dir/producer.c.o"
  "CMakeFiles/shmetrics.dir/producer.c.o.d"
  "CMakeFiles/shmetrics.dir/series.c.o"
  "CMakeFiles/shmetrics.dir/series.c.o.d"
  "libshmetrics.pdb"
  "libshmetrics.so"
  "libshmetrics.so.0"
  "libshmetrics.so.0.1.0"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/shmetrics.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
