//! calgate-ews against the simulator and the schema.
