# Empty dependencies file for shmetrics_static.
# This may be replaced when dependencies are built.
