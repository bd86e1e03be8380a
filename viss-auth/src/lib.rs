//! The access grant token server (AGTS) and access token server (ATS) of VISS CORE §8,
//! with the consent dialogue of §9 through a file-backed consent store. A VISS server
//! checks the access tokens with the ATS's public key (`--token-key ES256:<file>`).
//!
//! - `keys`: the two ES256 signing keys, generated on first start;
//! - `clients`: who may ask for a grant, in which roles (proof secrets stored hashed);
//! - `consent`: the external consent framework interface and the file store;
//! - `service`: the AGTS and ATS dialogues;
//! - `http`: `POST /agts`, `POST /ats`.

pub mod clients;
pub mod consent;
pub mod http;
pub mod keys;
pub mod service;
