"""Command-line flags the tests start servers with, in one place (docs/conformance.md
"Configuration": every engine knob is a flag, a VISS_* variable and a TOML key)."""

# --simulate's first round runs at start (the simulated leaves get a value), the next an hour
# later: values are realistic and stay put, so two reads of the same data can be compared.
FROZEN_SIMULATION = ("--simulate", "--simulate-period-ms", "3600000")

INSECURE = "--insecure"
NO_HTTP = "--no-http"
NO_GRPC = "--no-grpc"
INLINE_ERRORS = "--inline-errors"  # takes true|false
MAX_SUBSCRIPTION_DURATION_MS = "--max-subscription-duration-ms"
EVENT_QUEUE = "--event-queue"
HISTORY_SAMPLES = "--history-samples"
REQUIRE_SUBPROTOCOL = "--require-subprotocol"
DATA_DIR = "--data-dir"  # durable state: <dir>/viss.sqlite
RECORD_HISTORY = "--record-history"  # VISS path globs recorded in the database
POSTGRES = "--postgres"  # durable state in a shared PostgreSQL database (connection string)
POSTGRES_CA = "--postgres-ca"  # CA certificates the database's certificate is checked against
STORAGE_VEHICLE = "--storage-vehicle"  # this server's rows in a shared database

# VISS file transfer (CORE App. C, viss-core.md §10): on with a directory, where finished
# downloads land as <dir>/<VSS path of the actuator>/<descriptor name>.
FILETRANSFER_DIR = "--filetransfer-dir"
FILETRANSFER_PORT = "--filetransfer-port"  # the data channel's WebSocket port (0: any free one)
UPLOAD = "--upload"  # VSSPATH=FILE, repeatable: the file an upload sensor serves
FILETRANSFER_MAX_BYTES = "--filetransfer-max-bytes"  # the largest download accepted
FILETRANSFER_CHUNK_BYTES = "--filetransfer-chunk-bytes"  # the chunk size of uploads
