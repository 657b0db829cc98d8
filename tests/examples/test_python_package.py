"""test_python_package.py: the corral Python package (clients/python) as
shipped: its checked-in protobuf classes match proto/corral/v1/corral.proto
(protoc's descriptor of the file, field by field), and it builds as a wheel
with Debian's python3-build, offline, with the generated classes in it.

usage: test_python_package.py SOURCE_DIR"""
import os
import subprocess
import sys
import tempfile
import zipfile


def without_json_names(file):
    def clear(messages):
        for message in messages:
            for field in list(message.field) + list(message.extension):
                field.ClearField("json_name")
            clear(message.nested_type)
    clear(file.message_type)


def main():
    source = sys.argv[1]
    package = os.path.join(source, "clients", "python")
    sys.path.insert(0, package)
    from corral.v1 import corral_pb2
    from google.protobuf import descriptor_pb2

    with tempfile.TemporaryDirectory(prefix="corral-python.") as tmp:
        descriptors = os.path.join(tmp, "corral.pb")
        subprocess.run(["protoc", f"--proto_path={os.path.join(source, 'proto')}",
                        f"--descriptor_set_out={descriptors}", "corral/v1/corral.proto"],
                       check=True)
        with open(descriptors, "rb") as f:
            expected = descriptor_pb2.FileDescriptorSet.FromString(f.read()).file[0]
        without_json_names(expected)    # the generated code leaves them out
        shipped = descriptor_pb2.FileDescriptorProto.FromString(corral_pb2.DESCRIPTOR.serialized_pb)
        assert shipped == expected, (
            "clients/python/corral/v1/corral_pb2.py does not match proto/corral/v1/corral.proto: "
            "protoc --proto_path=proto --python_out=clients/python proto/corral/v1/corral.proto")

        # a copy: the build writes its egg-info next to the sources
        copy = os.path.join(tmp, "src")
        subprocess.run(["cp", "-r", package, copy], check=True)
        subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation",
                        "--outdir", os.path.join(tmp, "dist"), copy], check=True,
                       stdout=subprocess.DEVNULL)
        wheels = os.listdir(os.path.join(tmp, "dist"))
        assert len(wheels) == 1 and wheels[0].startswith("corral-"), wheels
        names = zipfile.ZipFile(os.path.join(tmp, "dist", wheels[0])).namelist()
        for module in ("corral/__init__.py", "corral/worker.py", "corral/handoff.py",
                       "corral/v1/corral_pb2.py"):
            assert module in names, (module, names)
    print("test_python_package: ok")


if __name__ == "__main__":
    main()
