//! The VISS v3 runtime: a transport-independent engine that answers VISS v3.0 requests
//! (get, set, subscribe, unsubscribe, subscription events) in the primary JSON payload
//! format, generic over a [`VissTree`].
//!
//! * [`tree`]: the tree trait and [`DynamicTree`] (built at run time);
//! * [`value`], [`store`]: typed values and the per-leaf signal store;
//! * [`request`], [`response`], [`error`]: message parsing, encoding and the error table;
//! * [`filter`]: the seven filter variants;
//! * [`subscription`]: sessions, subscriptions and the bounded event queue;
//! * [`engine`]: [`Engine`], tying it together.
//!
//! ```
//! use viss_runtime::{DynamicTree, Engine, EngineConfig, NodeKind, NodeSpec, Value};
//!
//! let mut builder = DynamicTree::builder();
//! builder.insert_path("Vehicle.Speed", NodeSpec::leaf("Speed", NodeKind::Sensor, "float")).unwrap();
//! let engine = Engine::new(builder.build(), EngineConfig::default());
//! engine.update_path("Vehicle.Speed", Value::Float(41.5), jiff::Timestamp::now()).unwrap();
//! let mut session = engine.open_session();
//! let mut out = Vec::new();
//! engine.handle(&mut session, br#"{"action":"get","path":"Vehicle.Speed","requestId":"1"}"#, &mut out);
//! assert!(out.starts_with(br#"{"action":"get","requestId":"1","data":{"path":"Vehicle.Speed","dp":{"value":"41.5""#));
//! ```

pub mod engine;
pub mod error;
pub mod filter;
pub mod request;
pub mod response;
pub mod store;
pub mod subscription;
pub mod tree;
pub mod value;

pub use engine::{Clock, Engine, EngineConfig, ManualClock, SetHook, SystemClock};
pub use error::{ErrorKind, VissError};
pub use store::{HistoryConfig, Sample, SignalStore};
pub use subscription::{EventQueue, Session};
pub use tree::{
    DataType, DynamicTree, DynamicTreeBuilder, Literal, NodeId, NodeInfo, NodeKind, NodeSpec,
    ScalarType, VissTree,
};
pub use value::Value;
