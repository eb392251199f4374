//! Namespace URIs. Elements are matched by URI, never by prefix: servers use `m:`/`t:`,
//! default namespaces or other prefixes.

pub const SOAP_ENV: &str = "http://schemas.xmlsoap.org/soap/envelope/";
pub const MESSAGES: &str = "http://schemas.microsoft.com/exchange/services/2006/messages";
pub const TYPES: &str = "http://schemas.microsoft.com/exchange/services/2006/types";
pub const ERRORS: &str = "http://schemas.microsoft.com/exchange/services/2006/errors";
pub const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
