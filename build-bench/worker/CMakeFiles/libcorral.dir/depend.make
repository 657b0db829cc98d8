# Empty dependencies file for libcorral.
# This may be replaced when dependencies are built.
