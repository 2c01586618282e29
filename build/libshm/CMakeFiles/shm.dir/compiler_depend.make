# Empty compiler generated dependencies file for shm.
# This may be replaced when dependencies are built.
