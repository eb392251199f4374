//! The parts of the project's automation that tests use too: building the Debian package.

pub mod package;
