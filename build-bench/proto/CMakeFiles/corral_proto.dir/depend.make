# Empty dependencies file for corral_proto.
# This may be replaced when dependencies are built.
