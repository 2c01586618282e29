# Empty dependencies file for shmetrics.
# This may be replaced when dependencies are built.
