//! calgate
