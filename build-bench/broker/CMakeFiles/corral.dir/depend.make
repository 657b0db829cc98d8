# Empty dependencies file for corral.
# This may be replaced when dependencies are built.
