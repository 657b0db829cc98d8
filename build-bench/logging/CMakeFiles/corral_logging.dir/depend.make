# Empty dependencies file for corral_logging.
# This may be replaced when dependencies are built.
