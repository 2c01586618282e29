file(REMOVE_RECURSE
  "CMakeFiles/shmetrics_static.dir/client.c.o"
  "CMakeFiles/shmetrics_static.dir/client.c.o.d"
  "CMakeFiles/shmetrics_static.dir/family.c.o"
  "CMakeFiles/shmetrics_static.dir/family.c.o.d"
  "CMakeFiles/shmetrics_static.dir/producer.c.o"
  "CMakeFiles/shmetrics_static.dir/producer.c.o.d"
  "CMakeFiles/shmetrics_static.dir/series.c.o"
  "CMakeFiles/shmetrics_static.dir/series.c.o.d"
  "libshmetrics.a"
  "libshmetrics.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/shmetrics_static.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
