"""envelope.py: every frame is one corral.v1.Envelope of protocol 1."""
from .v1 import corral_pb2 as pb

PROTOCOL = 1


def envelope(**body):
    return pb.Envelope(protocol=PROTOCOL, **body).SerializeToString()
