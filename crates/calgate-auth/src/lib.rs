//! calgate-auth
