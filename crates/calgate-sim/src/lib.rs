//! calgate-sim
