//! Compiles the VISS protobuf schema (`schemas/` at the workspace root) into Rust when the
//! `protobuf` feature is on: messages always, the gRPC service with `grpc` (its client with
//! `grpc-client`) too. protox
//! parses the files, so no machine needs `protoc`.

fn main() {
    #[cfg(feature = "protobuf")]
    if let Err(error) = protobuf::compile() {
        // A build script reports by failing; the message is the schema error with its place.
        eprintln!("{error:?}");
        std::process::exit(1);
    }
}

#[cfg(feature = "protobuf")]
mod protobuf {
    use std::path::PathBuf;

    /// The schema files, relative to the schema directory.
    const FILES: [&str; 2] = ["viss_v3_0.proto", "viss_protoenc.proto"];

    pub fn compile() -> Result<(), Box<dyn std::error::Error>> {
        let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
        let schemas = manifest.join("../schemas");
        for file in FILES {
            println!("cargo:rerun-if-changed={}", schemas.join(file).display());
        }
        let descriptors = protox::compile(FILES, [&schemas])?;
        // No transport helpers (`connect`): a client builds its own `Channel`.
        tonic_prost_build::configure()
            .build_server(cfg!(feature = "grpc"))
            .build_client(cfg!(feature = "grpc-client"))
            .build_transport(false)
            .compile_fds(descriptors)?;
        Ok(())
    }
}
