//! calgate-engine
