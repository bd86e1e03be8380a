//! vssgen: the generator library behind the `vssgen` command.
