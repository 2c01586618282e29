file(REMOVE_RECURSE
  "libshm.a"
)
