"""The VISS protobuf messages and gRPC stubs for the tests, generated from the project's own
schema files (schemas/viss_v3_0.proto, schemas/viss_protoenc.proto) by a real peer:
`grpc_tools.protoc` (protoc from grpcio-tools, pinned in tests/peers/requirements.txt).
Generated once per test session into a temporary directory, never into the repository."""

import importlib
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
FILES = ("viss_v3_0.proto", "viss_protoenc.proto")

_loaded: SimpleNamespace | None = None


def compile_with_protoc(out_dir: Path, files=FILES, include=SCHEMAS, grpc: bool = True) -> None:
    """Runs protoc on `files`; raises with protoc's own message when it refuses them."""
    from grpc_tools import protoc

    args = ["protoc", f"-I{include}", f"--python_out={out_dir}"]
    if grpc:
        args.append(f"--grpc_python_out={out_dir}")
    # protoc's own well-known types (not needed by our files, but any import resolves).
    args.append(f"-I{Path(protoc.__file__).parent / '_proto'}")
    code = protoc.main([*args, *[str(name) for name in files]])
    if code != 0:
        raise AssertionError(f"protoc refused {files} (exit {code})")


def load() -> SimpleNamespace:
    """`pb` (messages), `grpc` (VISSStub), `enc` (ProtobufMessage envelope)."""
    global _loaded
    if _loaded is None:
        out_dir = Path(tempfile.mkdtemp(prefix="viss-pb-"))
        compile_with_protoc(out_dir)
        sys.path.insert(0, str(out_dir))
        _loaded = SimpleNamespace(
            pb=importlib.import_module("viss_v3_0_pb2"),
            grpc=importlib.import_module("viss_v3_0_pb2_grpc"),
            enc=importlib.import_module("viss_protoenc_pb2"),
        )
    return _loaded
