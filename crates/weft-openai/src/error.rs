//! Turning HTTP answers, transport failures and provider error payloads into [`weft_core::ChatError`]s:
//! the shared driver's mapping ([`weft_provider::error`]).

pub(crate) use weft_provider::error::{
    decode_error, encode_error, payload_error, status_error, timeout_error, transport_error,
};
