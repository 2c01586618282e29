file(REMOVE_RECURSE
  "libshmetrics.a"
)
