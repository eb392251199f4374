//! The server side of the EWS wire format (request readers, response writers), used by calgate-sim.
