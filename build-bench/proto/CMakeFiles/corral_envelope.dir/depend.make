# Empty dependencies file for corral_envelope.
# This may be replaced when dependencies are built.
