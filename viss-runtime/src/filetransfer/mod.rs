//! File transfer (CORE App. C, `docs/filetransfer.md`): files to the vehicle (download)
//! and from it (upload) over a WebSocket data channel beside the VISS connection.
//!
//! * The **control channel** is VISS itself. A file resource is a leaf whose datatype is
//!   [`descriptor::STRUCT_TYPE`]: a `set` of an actuator announces a download (the client
//!   picks the `uid`), a `get` of a sensor starts an upload (the server picks it). The
//!   engine hands both to [`FileTransfer`] through the [`crate::engine::FileResources`]
//!   hook; the transfer waits, registered under its uid, for a data channel to claim it.
//! * The **data channel** ([`channel`], port 6445 by default, TLS like the other
//!   listeners) carries the binary messages of [`wire`]; [`download`] and [`upload`] are
//!   the two state machines, without I/O of their own beyond the file they read or write.
//!
//! Received files are written under the configured directory only, by the descriptor's
//! plain name ([`descriptor::checked_name`]); files sent are those the configuration maps
//! to upload sensors. No path a client sends is ever opened.

pub mod channel;
pub mod descriptor;
pub mod download;
pub mod upload;
pub mod wire;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde::Deserialize;
use sha1::{Digest, Sha1};

use crate::engine::FileResources;
use crate::error::{ErrorKind, VissError};
use crate::tree::{Forest, NodeId, NodeKind, VissTree};
use crate::value::Value;
use descriptor::FileDescriptor;
use download::PendingDownload;
use upload::PendingUpload;

/// `[filetransfer]`: off until `dir` is set.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileTransferConfig {
    /// Where received files go (`<dir>/<VSS path>/<name>`); turns file transfer on.
    pub dir: Option<PathBuf>,
    /// The data channel's port (CORE App. C recommends 6445 for WebSocket).
    pub port: u16,
    /// Largest file a download may bring.
    pub max_file_bytes: u64,
    /// Chunk size of uploads (the client picks its own for downloads).
    pub chunk_bytes: u32,
    /// Upload sensors and the file each serves: `"Vehicle.Cabin.DashCamClip" = "/path"`.
    pub uploads: BTreeMap<String, PathBuf>,
    /// Seconds a registered transfer waits for its data channel.
    pub claim_timeout_secs: u64,
    /// Transfers registered or under way at once, over all connections.
    pub max_transfers: usize,
}

impl Default for FileTransferConfig {
    fn default() -> Self {
        Self {
            dir: None,
            port: 6445,
            max_file_bytes: 1 << 30,
            chunk_bytes: 64 * 1024,
            uploads: BTreeMap::new(),
            claim_timeout_secs: 60,
            max_transfers: 64,
        }
    }
}

impl FileTransferConfig {
    pub fn enabled(&self) -> bool {
        self.dir.is_some()
    }
}

/// The folder under the directory where downloads grow until complete.
const INCOMING: &str = ".incoming";

/// A transfer registered by the control channel.
#[derive(Debug)]
pub enum Pending {
    Download(PendingDownload),
    Upload(PendingUpload),
}

impl Pending {
    /// The file resource, and the access its control request needed (`set`: write).
    pub fn resource(&self) -> (NodeId, crate::access::Access) {
        match self {
            Self::Download(download) => (download.node, crate::access::Access::Write),
            Self::Upload(upload) => (upload.node, crate::access::Access::Read),
        }
    }
}

/// The file-transfer service: which leaves are file resources, the transfers registered
/// and under way (bounded), and the hashes of the files served.
#[derive(Debug)]
pub struct FileTransfer {
    config: FileTransferConfig,
    dir: PathBuf,
    /// Download actuators and their VSS paths, by node id.
    downloads: BTreeMap<NodeId, String>,
    /// Upload sensors and the file each serves.
    uploads: BTreeMap<NodeId, Upload>,
    transfers: Mutex<Transfers>,
}

#[derive(Debug)]
struct Upload {
    source: PathBuf,
    name: String,
    /// The last hash computed, and what the file was then (so a large file is hashed once,
    /// not on every `get`).
    hashed: Mutex<Option<(FileVersion, [u8; 20])>>,
}

/// What tells one content of a file from another without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileVersion {
    dev: u64,
    ino: u64,
    len: u64,
    mtime_ns: i128,
}

#[derive(Debug, Default)]
struct Transfers {
    registered: HashMap<u32, (Instant, Pending)>,
    /// Claimed by a data channel and not finished.
    active: HashSet<u32>,
}

impl FileTransfer {
    /// The service for `forest` under `config`: every actuator of the file type is a
    /// download target; `config.uploads` names the upload sensors. A configured path that
    /// is not a file sensor, or a directory that cannot be made, is an error.
    pub fn new<T: VissTree>(
        forest: &Forest<T>,
        config: FileTransferConfig,
    ) -> Result<Self, String> {
        let dir = config
            .dir
            .clone()
            .ok_or("file transfer needs a directory for received files")?;
        std::fs::create_dir_all(&dir)
            .map_err(|error| format!("file transfer directory {}: {error}", dir.display()))?;
        // Partial files of downloads a crash cut short: no transfer can finish them now.
        let incoming = dir.join(INCOMING);
        if incoming.is_dir() {
            std::fs::remove_dir_all(&incoming).map_err(|error| {
                format!("file transfer: clearing {}: {error}", incoming.display())
            })?;
        }
        let mut downloads = BTreeMap::new();
        let mut sensors = HashSet::new();
        for index in 0..forest.node_count() {
            let id = NodeId(index as u32);
            let info = forest.node(id);
            if !descriptor::is_file_type(info.datatype.as_ref()) {
                continue;
            }
            match info.kind {
                NodeKind::Actuator => {
                    downloads.insert(id, info.path.to_string());
                }
                NodeKind::Sensor => {
                    sensors.insert(id);
                }
                _ => {}
            }
        }
        let mut uploads = BTreeMap::new();
        for (path, source) in &config.uploads {
            let node = forest
                .lookup(path)
                .filter(|node| sensors.contains(node))
                .ok_or_else(|| {
                    format!(
                        "file transfer: {path} is not a sensor of type {} in the tree",
                        descriptor::STRUCT_TYPE
                    )
                })?;
            let name = source
                .file_name()
                .and_then(|name| name.to_str())
                .and_then(|name| descriptor::checked_name(name).ok())
                .ok_or_else(|| {
                    format!(
                        "file transfer: {} is not a plain file name (A-Z a-z 0-9 . _ -)",
                        source.display()
                    )
                })?
                .to_owned();
            let upload = Upload {
                source: source.clone(),
                name,
                hashed: Mutex::new(None),
            };
            uploads.insert(node, upload);
        }
        Ok(Self {
            config,
            dir,
            downloads,
            uploads,
            transfers: Mutex::new(Transfers::default()),
        })
    }

    pub fn config(&self) -> &FileTransferConfig {
        &self.config
    }

    /// The directory received files go to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Takes the transfer registered under `uid` for a data channel, if `allowed` lets
    /// it (the channel's credential grants the access the control request needed); `None`
    /// when there is none (never registered, already claimed, or waited too long) or it is
    /// not allowed, in which case it stays registered for its rightful client.
    pub fn claim(
        &self,
        uid: u32,
        allowed: impl FnOnce(NodeId, crate::access::Access) -> bool,
    ) -> Option<Pending> {
        let (node, access) = {
            let mut transfers = self.transfers.lock();
            let (registered, pending) = transfers.registered.get(&uid)?;
            if registered.elapsed() > self.claim_timeout() {
                transfers.registered.remove(&uid);
                return None;
            }
            pending.resource()
        };
        // Outside the lock: checking a token verifies a signature.
        if !allowed(node, access) {
            return None;
        }
        let mut transfers = self.transfers.lock();
        // Still the transfer that was allowed (not one registered under the uid since).
        let (_, pending) = transfers.registered.get(&uid)?;
        if pending.resource() != (node, access) {
            return None;
        }
        let (_, pending) = transfers.registered.remove(&uid)?;
        transfers.active.insert(uid);
        Some(pending)
    }

    /// A claimed transfer has ended (completed, failed, aborted or its channel closed).
    pub fn release(&self, uid: u32) {
        self.transfers.lock().active.remove(&uid);
    }

    fn claim_timeout(&self) -> Duration {
        Duration::from_secs(self.config.claim_timeout_secs)
    }

    /// Registers `pending` under `uid`, unless the uid is taken or the limit is reached.
    fn register(&self, uid: u32, pending: Pending) -> Result<(), VissError> {
        let mut transfers = self.transfers.lock();
        let timeout = self.claim_timeout();
        transfers
            .registered
            .retain(|_, (registered, _)| registered.elapsed() <= timeout);
        if transfers.registered.contains_key(&uid) || transfers.active.contains(&uid) {
            return Err(VissError::InvalidValue);
        }
        if transfers.registered.len() + transfers.active.len() >= self.config.max_transfers {
            // Full: the transfer waiting longest for its data channel makes room (a client
            // that starts many and claims none cannot keep everybody else out); with
            // every slot under way, 503.
            let oldest = transfers
                .registered
                .iter()
                .min_by_key(|(_, (registered, _))| *registered)
                .map(|(uid, _)| *uid);
            match oldest {
                Some(oldest) => {
                    transfers.registered.remove(&oldest);
                }
                None => return Err(VissError::Default(ErrorKind::ServiceUnavailable)),
            }
        }
        transfers.registered.insert(uid, (Instant::now(), pending));
        Ok(())
    }

    /// A uid no transfer uses, from the operating system's CSPRNG: a data channel is
    /// claimed by uid, so it must not be guessable.
    fn fresh_uid(&self) -> Result<u32, VissError> {
        for _ in 0..16 {
            let mut bytes = [0; 4];
            getrandom::fill(&mut bytes)
                .map_err(|_| VissError::Default(ErrorKind::ServiceUnavailable))?;
            let uid = u32::from_be_bytes(bytes);
            let transfers = self.transfers.lock();
            if !transfers.registered.contains_key(&uid) && !transfers.active.contains(&uid) {
                return Ok(uid);
            }
        }
        Err(VissError::Default(ErrorKind::ServiceUnavailable))
    }

    fn begin_upload(&self, node: NodeId, upload: &Upload) -> Result<Value, VissError> {
        let unavailable = |error: std::io::Error| {
            tracing::warn!(%error, source = %upload.source.display(),
                "file transfer: the file of an upload sensor cannot be read");
            VissError::DataTemporarilyUnaccessible
        };
        let file = File::open(&upload.source).map_err(unavailable)?;
        let meta = file.metadata().map_err(unavailable)?;
        let version = FileVersion {
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.len(),
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
        };
        let known = *upload.hashed.lock();
        let hash = match known {
            Some((known, hash)) if known == version => hash,
            // Hashed outside the lock, and on a worker that may block: a large file takes
            // a while, once per version.
            _ => {
                let hash = crate::blocking::may_block(|| sha1_of(&file, version.len))
                    .map_err(unavailable)?;
                *upload.hashed.lock() = Some((version, hash));
                hash
            }
        };
        let uid = self.fresh_uid()?;
        let pending = PendingUpload {
            node,
            uid,
            file,
            len: version.len,
            chunk_bytes: self.config.chunk_bytes,
        };
        self.register(uid, Pending::Upload(pending))?;
        let descriptor = FileDescriptor {
            name: upload.name.clone(),
            hash,
            uid,
        };
        Ok(descriptor.to_value())
    }

    fn begin_download(&self, node: NodeId, path: &str, value: &Value) -> Result<(), VissError> {
        let descriptor = FileDescriptor::from_value(value)?;
        let uid = descriptor.uid;
        let pending = PendingDownload {
            node,
            destination: self.dir.join(path).join(&descriptor.name),
            partial: self.dir.join(INCOMING).join(format!("{uid:08x}.part")),
            descriptor,
            max_bytes: self.config.max_file_bytes,
        };
        self.register(uid, Pending::Download(pending))
    }
}

impl FileResources for FileTransfer {
    fn download(&self, node: NodeId, value: &Value) -> Option<Result<(), VissError>> {
        let path = self.downloads.get(&node)?;
        Some(self.begin_download(node, path, value))
    }

    fn upload(&self, node: NodeId) -> Option<Result<Value, VissError>> {
        let upload = self.uploads.get(&node)?;
        Some(self.begin_upload(node, upload))
    }
}

/// SHA-1 of the first `len` bytes of a file (what an upload sends: a file that grows
/// meanwhile is hashed as long as it was), read in 64 KiB blocks; an error when it has
/// fewer.
fn sha1_of(file: &File, len: u64) -> std::io::Result<[u8; 20]> {
    use std::io::Read;
    let mut hasher = Sha1::new();
    let mut reader = file.take(len);
    let mut buffer = vec![0; 64 * 1024];
    let mut total = 0;
    loop {
        let read = reader.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        total += read as u64;
        hasher.update(&buffer[..read]);
    }
    if total != len {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "the file shrank while it was hashed",
        ));
    }
    Ok(hasher.finalize().into())
}
