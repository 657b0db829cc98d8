# Empty dependencies file for corral_config.
# This may be replaced when dependencies are built.
