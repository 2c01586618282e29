# Empty dependencies file for shm_objects.
# This may be replaced when dependencies are built.
