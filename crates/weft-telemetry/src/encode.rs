//! A batch of spans straight to the bytes of an OTLP `ExportTraceServiceRequest`.
//!
//! Written by hand because opentelemetry-otlp cannot do it cheaply: it first copies every
//! `SpanData` into `opentelemetry-proto`'s owned structs (a `String` per attribute key and
//! value, a `Vec` per id, grouped through a `HashMap` of scopes), then prost encodes them, and
//! prost computes each nested message's length again at every level (request, resource, scope,
//! span, attribute, value), then drops them all. On W1 (two spans a run) that was the largest
//! single cost of export (callgrind: about 35,000 instructions a run). Here each span is
//! written once into a scratch buffer, its length known when it is done; attribute lengths are
//! computed directly. The result decodes to exactly what `opentelemetry-proto`'s conversion
//! gives (the tests compare them).

use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{Link, SpanId, SpanKind, Status};
use opentelemetry::{Array, InstrumentationScope, KeyValue, StringValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SpanData;
use prost::encoding::{WireType, encoded_len_varint, key_len};

/// `SpanFlags.CONTEXT_HAS_IS_REMOTE_MASK`.
const HAS_IS_REMOTE: u32 = 0x100;
/// `SpanFlags.CONTEXT_IS_REMOTE_MASK`.
const IS_REMOTE: u32 = 0x200;

/// Writes `span` as a `Span` message (its fields, without a tag and length) to `out`.
pub(crate) fn span_message(span: &SpanData, out: &mut Vec<u8>) {
    encode_span(span, out);
}

/// Appends a `Span` message written by [`span_message`] to `out` as one entry of a
/// `ScopeSpans`' spans (field 2: tag, length, the message).
pub(crate) fn append_span_message(message: &[u8], out: &mut Vec<u8>) {
    encode_key(2, WireType::LengthDelimited, out);
    encode_varint(message.len() as u64, out);
    out.extend_from_slice(message);
}

/// An `ExportTraceServiceRequest` of one resource: `scopes` in order, each with its spans as
/// [`append_span_message`] wrote them.
pub(crate) fn request(resource: &Resource, scopes: &[(&InstrumentationScope, &[u8])]) -> Vec<u8> {
    // ResourceSpans: resource (1), scope_spans (2), schema_url (3).
    let resource_len =
        resource.iter().map(|(key, value)| field_len(1, key_value_len(key.as_str(), value))).sum();
    let scope_bodies: Vec<(usize, usize)> = scopes
        .iter()
        .map(|(scope, spans)| {
            let scope_len = scope_len(scope);
            let body =
                field_len(1, scope_len) + spans.len() + string_field_len(3, scope.schema_url().unwrap_or(""));
            (scope_len, body)
        })
        .collect();
    let schema_url = resource.schema_url().unwrap_or("");
    let resource_spans_len = field_len(1, resource_len)
        + scope_bodies.iter().map(|(_, body)| field_len(2, *body)).sum::<usize>()
        + string_field_len(3, schema_url);

    let mut out = Vec::with_capacity(field_len(1, resource_spans_len));
    encode_key(1, WireType::LengthDelimited, &mut out);
    encode_varint(resource_spans_len as u64, &mut out);
    encode_key(1, WireType::LengthDelimited, &mut out);
    encode_varint(resource_len as u64, &mut out);
    for (key, value) in resource.iter() {
        key_value(1, key.as_str(), value, &mut out);
    }
    for ((scope, spans), (scope_len, body)) in scopes.iter().zip(scope_bodies) {
        encode_key(2, WireType::LengthDelimited, &mut out);
        encode_varint(body as u64, &mut out);
        encode_key(1, WireType::LengthDelimited, &mut out);
        encode_varint(scope_len as u64, &mut out);
        string(1, scope.name(), &mut out);
        string(2, scope.version().unwrap_or(""), &mut out);
        for attribute in scope.attributes() {
            key_value(3, attribute.key.as_str(), &attribute.value, &mut out);
        }
        out.extend_from_slice(spans);
        string(3, scope.schema_url().unwrap_or(""), &mut out);
    }
    string(3, schema_url, &mut out);
    out
}

/// Encodes `spans` (grouped by instrumentation scope, in order of first appearance) under
/// `resource` as an `ExportTraceServiceRequest`.
#[cfg(test)]
pub(crate) fn export_request(spans: &[SpanData], resource: &Resource) -> Vec<u8> {
    let mut scopes: Vec<(&InstrumentationScope, Vec<u8>)> = Vec::new();
    let mut scratch = Vec::new();
    for span in spans {
        let index = match scopes.iter().position(|(scope, _)| *scope == &span.instrumentation_scope) {
            Some(index) => index,
            None => {
                scopes.push((&span.instrumentation_scope, Vec::new()));
                scopes.len() - 1
            }
        };
        scratch.clear();
        span_message(span, &mut scratch);
        append_span_message(&scratch, &mut scopes[index].1);
    }
    let scopes: Vec<(&InstrumentationScope, &[u8])> =
        scopes.iter().map(|(scope, spans)| (*scope, spans.as_slice())).collect();
    request(resource, &scopes)
}

/// `InstrumentationScope`: name (1), version (2), attributes (3).
fn scope_len(scope: &InstrumentationScope) -> usize {
    string_field_len(1, scope.name())
        + string_field_len(2, scope.version().unwrap_or(""))
        + scope.attributes().map(|attribute| field_len(3, attributes_len(attribute))).sum::<usize>()
}

fn attributes_len(attribute: &KeyValue) -> usize {
    key_value_len(attribute.key.as_str(), &attribute.value)
}

/// A field key (prost's `encode_key`, inlined: prost's own is a call per key).
#[inline(always)]
fn encode_key(tag: u32, wire_type: WireType, out: &mut Vec<u8>) {
    encode_varint(u64::from((tag << 3) | wire_type as u32), out);
}

/// A LEB128 varint (prost's `encode_varint`, inlined: most here are keys and short lengths, one
/// byte).
#[inline(always)]
fn encode_varint(mut value: u64, out: &mut Vec<u8>) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// One `Span` message's fields (without its own tag and length).
fn encode_span(span: &SpanData, out: &mut Vec<u8>) {
    let context = &span.span_context;
    bytes(1, &context.trace_id().to_bytes(), out);
    bytes(2, &context.span_id().to_bytes(), out);
    string(3, &context.trace_state().header(), out);
    if span.parent_span_id != SpanId::INVALID {
        bytes(4, &span.parent_span_id.to_bytes(), out);
    }
    string(5, &span.name, out);
    let kind = match span.span_kind {
        SpanKind::Internal => 1,
        SpanKind::Server => 2,
        SpanKind::Client => 3,
        SpanKind::Producer => 4,
        SpanKind::Consumer => 5,
    };
    uint(6, kind, out);
    fixed64(7, nanos(span.start_time), out);
    fixed64(8, nanos(span.end_time), out);
    for attribute in &span.attributes {
        key_value(9, attribute.key.as_str(), &attribute.value, out);
    }
    uint(10, u64::from(span.dropped_attributes_count), out);
    for event in span.events.iter() {
        let name: &str = &event.name;
        let len = fixed64_len(1, nanos(event.timestamp))
            + string_field_len(2, name)
            + event.attributes.iter().map(|attribute| field_len(3, attributes_len(attribute))).sum::<usize>()
            + uint_len(4, u64::from(event.dropped_attributes_count));
        encode_key(11, WireType::LengthDelimited, out);
        encode_varint(len as u64, out);
        fixed64(1, nanos(event.timestamp), out);
        string(2, name, out);
        for attribute in &event.attributes {
            key_value(3, attribute.key.as_str(), &attribute.value, out);
        }
        uint(4, u64::from(event.dropped_attributes_count), out);
    }
    uint(12, u64::from(span.events.dropped_count), out);
    for link in span.links.iter() {
        encode_link(link, out);
    }
    uint(14, u64::from(span.links.dropped_count), out);
    // Status: message (2), code (3); always present, as the SDK's conversion makes it.
    let (message, code): (&str, u64) = match &span.status {
        Status::Unset => ("", 0),
        Status::Ok => ("", 1),
        Status::Error { description } => (description.as_ref(), 2),
    };
    encode_key(15, WireType::LengthDelimited, out);
    encode_varint((string_field_len(2, message) + uint_len(3, code)) as u64, out);
    string(2, message, out);
    uint(3, code, out);
    fixed32(16, flags(span.parent_span_is_remote, context.trace_flags().to_u8()), out);
}

/// `Span.Link` (field 13).
fn encode_link(link: &Link, out: &mut Vec<u8>) {
    let context = &link.span_context;
    let trace_state = context.trace_state().header();
    let len = field_len(1, 16)
        + field_len(2, 8)
        + string_field_len(3, &trace_state)
        + link.attributes.iter().map(|attribute| field_len(4, attributes_len(attribute))).sum::<usize>()
        + uint_len(5, u64::from(link.dropped_attributes_count))
        + 5;
    encode_key(13, WireType::LengthDelimited, out);
    encode_varint(len as u64, out);
    bytes(1, &context.trace_id().to_bytes(), out);
    bytes(2, &context.span_id().to_bytes(), out);
    string(3, &trace_state, out);
    for attribute in &link.attributes {
        key_value(4, attribute.key.as_str(), &attribute.value, out);
    }
    uint(5, u64::from(link.dropped_attributes_count), out);
    fixed32(6, flags(context.is_remote(), context.trace_flags().to_u8()), out);
}

/// The span flags OTLP wants: the W3C trace flags, and whether the parent is remote.
fn flags(remote: bool, trace_flags: u8) -> u32 {
    u32::from(trace_flags) | HAS_IS_REMOTE | if remote { IS_REMOTE } else { 0 }
}

fn nanos(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |elapsed| u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX))
}

/// A `KeyValue` message as field `tag`: key (1), value (2, an `AnyValue`).
fn key_value(tag: u32, key: &str, value: &Value, out: &mut Vec<u8>) {
    encode_key(tag, WireType::LengthDelimited, out);
    encode_varint(key_value_len(key, value) as u64, out);
    string(1, key, out);
    encode_key(2, WireType::LengthDelimited, out);
    encode_varint(any_value_len(value) as u64, out);
    any_value(value, out);
}

fn key_value_len(key: &str, value: &Value) -> usize {
    string_field_len(1, key) + field_len(2, any_value_len(value))
}

/// The fields of an `AnyValue`: one of string (1), bool (2), int (3), double (4), array (5).
fn any_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Bool(value) => {
            encode_key(2, WireType::Varint, out);
            encode_varint(u64::from(*value), out);
        }
        Value::I64(value) => {
            encode_key(3, WireType::Varint, out);
            encode_varint(*value as u64, out);
        }
        Value::F64(value) => {
            encode_key(4, WireType::SixtyFourBit, out);
            out.extend_from_slice(&value.to_le_bytes());
        }
        Value::String(value) => {
            encode_key(1, WireType::LengthDelimited, out);
            encode_varint(value.as_str().len() as u64, out);
            out.extend_from_slice(value.as_str().as_bytes());
        }
        Value::Array(array) => {
            encode_key(5, WireType::LengthDelimited, out);
            encode_varint(array_len(array) as u64, out);
            match array {
                Array::Bool(items) => items.iter().for_each(|item| array_item(&Value::Bool(*item), out)),
                Array::I64(items) => items.iter().for_each(|item| array_item(&Value::I64(*item), out)),
                Array::F64(items) => items.iter().for_each(|item| array_item(&Value::F64(*item), out)),
                Array::String(items) => items.iter().for_each(|item| string_item(item, out)),
                // `Array` is non-exhaustive: a kind added later is sent as an empty array.
                _ => {}
            }
        }
        // `Value` is non-exhaustive: a kind added later is sent as its text.
        other => {
            let text = other.to_string();
            encode_key(1, WireType::LengthDelimited, out);
            encode_varint(text.len() as u64, out);
            out.extend_from_slice(text.as_bytes());
        }
    }
}

fn any_value_len(value: &Value) -> usize {
    match value {
        Value::Bool(_) => key_len(2) + 1,
        Value::I64(value) => key_len(3) + encoded_len_varint(*value as u64),
        Value::F64(_) => key_len(4) + 8,
        Value::String(value) => field_len(1, value.as_str().len()),
        Value::Array(array) => field_len(5, array_len(array)),
        other => field_len(1, other.to_string().len()),
    }
}

/// An `ArrayValue`'s length: its values (1), each an `AnyValue`.
fn array_len(array: &Array) -> usize {
    match array {
        Array::Bool(items) => items.iter().map(|item| field_len(1, any_value_len(&Value::Bool(*item)))).sum(),
        Array::I64(items) => items.iter().map(|item| field_len(1, any_value_len(&Value::I64(*item)))).sum(),
        Array::F64(items) => items.iter().map(|item| field_len(1, any_value_len(&Value::F64(*item)))).sum(),
        Array::String(items) => {
            items.iter().map(|item| field_len(1, field_len(1, item.as_str().len()))).sum()
        }
        _ => 0,
    }
}

fn array_item(value: &Value, out: &mut Vec<u8>) {
    encode_key(1, WireType::LengthDelimited, out);
    encode_varint(any_value_len(value) as u64, out);
    any_value(value, out);
}

fn string_item(item: &StringValue, out: &mut Vec<u8>) {
    encode_key(1, WireType::LengthDelimited, out);
    encode_varint(field_len(1, item.as_str().len()) as u64, out);
    encode_key(1, WireType::LengthDelimited, out);
    encode_varint(item.as_str().len() as u64, out);
    out.extend_from_slice(item.as_str().as_bytes());
}

/// A length-delimited field's size: key, length, `len` bytes.
fn field_len(tag: u32, len: usize) -> usize {
    key_len(tag) + encoded_len_varint(len as u64) + len
}

/// A proto3 string field's size (nothing when empty, as prost writes it).
fn string_field_len(tag: u32, value: &str) -> usize {
    if value.is_empty() { 0 } else { field_len(tag, value.len()) }
}

fn uint_len(tag: u32, value: u64) -> usize {
    if value == 0 { 0 } else { key_len(tag) + encoded_len_varint(value) }
}

fn fixed64_len(tag: u32, value: u64) -> usize {
    if value == 0 { 0 } else { key_len(tag) + 8 }
}

fn string(tag: u32, value: &str, out: &mut Vec<u8>) {
    if !value.is_empty() {
        bytes(tag, value.as_bytes(), out);
    }
}

fn bytes(tag: u32, value: &[u8], out: &mut Vec<u8>) {
    encode_key(tag, WireType::LengthDelimited, out);
    encode_varint(value.len() as u64, out);
    out.extend_from_slice(value);
}

fn uint(tag: u32, value: u64, out: &mut Vec<u8>) {
    if value != 0 {
        encode_key(tag, WireType::Varint, out);
        encode_varint(value, out);
    }
}

fn fixed64(tag: u32, value: u64, out: &mut Vec<u8>) {
    if value != 0 {
        encode_key(tag, WireType::SixtyFourBit, out);
        out.extend_from_slice(&value.to_le_bytes());
    }
}

fn fixed32(tag: u32, value: u32, out: &mut Vec<u8>) {
    encode_key(tag, WireType::ThirtyTwoBit, out);
    out.extend_from_slice(&value.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::time::Duration;

    use opentelemetry::trace::{Event, SpanContext, TraceFlags, TraceId, TraceState};
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
    use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};
    use prost::Message as _;

    use super::*;

    fn context(trace: u128, span: u64, remote: bool, state: &str) -> SpanContext {
        let state = TraceState::from_key_value(state.split(',').filter_map(|pair| pair.split_once('=')))
            .unwrap_or_default();
        SpanContext::new(TraceId::from(trace), SpanId::from(span), TraceFlags::SAMPLED, remote, state)
    }

    fn attributes() -> Vec<KeyValue> {
        vec![
            KeyValue::new("gen_ai.operation.name", "chat"),
            KeyValue::new("gen_ai.usage.input_tokens", 12_i64),
            KeyValue::new("negative", -3_i64),
            KeyValue::new("gen_ai.request.temperature", 0.25),
            KeyValue::new("flag", true),
            KeyValue::new("off", false),
            KeyValue::new("empty", ""),
            KeyValue::new(
                "gen_ai.response.finish_reasons",
                Value::Array(Array::String(vec!["stop".into(), "length".into()])),
            ),
            KeyValue::new("numbers", Value::Array(Array::I64(vec![1, -2, 0]))),
            KeyValue::new("ratios", Value::Array(Array::F64(vec![0.5, 0.0]))),
            KeyValue::new("answers", Value::Array(Array::Bool(vec![true, false]))),
            KeyValue::new("nothing", Value::Array(Array::String(Vec::new()))),
        ]
    }

    fn span(name: &'static str, scope: &InstrumentationScope, parent: u64, status: Status) -> SpanData {
        let start = UNIX_EPOCH + Duration::from_nanos(1_764_000_000_123_456_789);
        let mut events = SpanEvents::default();
        events.events = vec![
            Event::new("request_info", start, vec![KeyValue::new("weft.request", "x")], 0),
            Event::new("bare", UNIX_EPOCH, Vec::new(), 2),
        ];
        events.dropped_count = 1;
        let mut links = SpanLinks::default();
        links.links =
            vec![Link::new(context(5, 6, true, "vendor=x"), vec![KeyValue::new("fan_in", 2_i64)], 1)];
        SpanData {
            span_context: context(
                0x0af7_6519_16cd_43dd_8448_eb21_1c80_319c,
                0x00f0_67aa_0ba9_02b7,
                false,
                "",
            ),
            parent_span_id: SpanId::from(parent),
            parent_span_is_remote: parent == 7,
            span_kind: if parent == 0 { SpanKind::Server } else { SpanKind::Client },
            name: Cow::Borrowed(name),
            start_time: start,
            end_time: start + Duration::from_millis(3),
            attributes: attributes(),
            dropped_attributes_count: u32::from(parent == 7),
            events,
            links,
            status,
            instrumentation_scope: scope.clone(),
        }
    }

    #[test]
    fn the_bytes_decode_to_what_the_otlp_conversion_gives() {
        let weft = InstrumentationScope::builder("weft").build();
        let other = InstrumentationScope::builder("other")
            .with_version("1.2.3")
            .with_schema_url("https://opentelemetry.io/schemas/1.41.0")
            .with_attributes([KeyValue::new("scope.attr", "v")])
            .build();
        let spans = vec![
            span("chat echo", &weft, 42, Status::Unset),
            span("POST /v1/responses", &other, 0, Status::Ok),
            span("invoke_agent bench", &weft, 7, Status::error("budget exceeded")),
            span("", &weft, 1, Status::error("")),
        ];
        for resource in [
            Resource::builder_empty().build(),
            Resource::builder()
                .with_service_name("weft-bench")
                .with_attribute(KeyValue::new("deployment.environment", "test"))
                .with_schema_url([KeyValue::new("host.name", "h")], "https://opentelemetry.io/schemas/1.2.0")
                .build(),
        ] {
            let encoded = export_request(&spans, &resource);
            let decoded = ExportTraceServiceRequest::decode(encoded.as_slice()).expect("valid protobuf");
            let expected = ExportTraceServiceRequest {
                resource_spans: group_spans_by_resource_and_scope(
                    spans.clone(),
                    &ResourceAttributesWithSchema::from(&resource),
                ),
            };
            assert_eq!(decoded, expected);
            // prost writes the same fields, so the same length (the order may differ).
            assert_eq!(encoded.len(), expected.encoded_len());
        }
    }

    #[test]
    fn an_empty_batch_is_a_resource_without_scopes() {
        let resource = Resource::builder_empty().build();
        let decoded = ExportTraceServiceRequest::decode(export_request(&[], &resource).as_slice())
            .expect("valid protobuf");
        let expected = ExportTraceServiceRequest {
            resource_spans: group_spans_by_resource_and_scope(
                Vec::new(),
                &ResourceAttributesWithSchema::from(&resource),
            ),
        };
        assert_eq!(decoded, expected);
    }
}
