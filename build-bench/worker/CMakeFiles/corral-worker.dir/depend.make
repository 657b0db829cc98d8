# Empty dependencies file for corral-worker.
# This may be replaced when dependencies are built.
