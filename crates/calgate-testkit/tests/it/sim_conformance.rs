//! calgate-sim driven by unmodified third-party clients.
