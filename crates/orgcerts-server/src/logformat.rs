//! The JSON log line (`--log-format json`), written straight into the line buffer.
//!
//! The lines are those of tracing-subscriber's own JSON format configured with
//! `.json().with_current_span(true).with_span_list(false)`, byte for byte apart from the clock
//! reading, so that log pipelines built for that format read them unchanged:
//!
//! ```text
//! {"timestamp":"2026-11-29T23:18:01.123456Z","level":"INFO","fields":{"message":"request","request_id":"req_…","method":"GET","path":"/v1/organization/certificates","status":200,"latency_us":83},"target":"orgcerts_server::middleware"}
//! ```
//!
//! - `timestamp`: UTC, RFC 3339 with microseconds (truncated) and `Z`;
//! - `level`: `TRACE`, `DEBUG`, `INFO`, `WARN` or `ERROR`;
//! - `fields`: the event's fields in the order they were recorded, the message as `message`;
//!   strings, `%Display` and `?Debug` fields, errors (their `Display`), 128-bit integers and
//!   byte slices as JSON strings; `u64`/`i64` as JSON integers, `f64` as JSON numbers (`null`
//!   when not finite), bools as JSON bools;
//! - `target`: the event's target (for a line that came through the `log` crate, the log
//!   record's target; its `log.*` fields stay in `fields`, as tracing-subscriber leaves them);
//! - `span`, only inside a span: the current span's fields, then its `name`.
//!
//! tracing-subscriber's formatter gets there by collecting each event's fields into a
//! serializer map and formatting the whole date for each line. Here each field is written as
//! it is visited, straight into the line (no allocation for strings, integers, bools,
//! `Display` or `Debug` values): strings through an escaper that passes the runs between
//! escapes on whole, integers through `itoa` (going through `serde_json`'s writer cost a UTF-8
//! check per piece and a tenth of the list request's instructions); and the
//! `YYYY-MM-DDTHH:MM:SS` part of the timestamp is formatted once per second per thread. The
//! span object, a rare path (the server itself creates no spans), is written the way
//! tracing-subscriber writes it: the span's stored JSON fields parsed and written back.

use std::cell::Cell;
use std::fmt::{self, Write as _};
use std::io;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::time::FormatTime;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormattedFields};
use tracing_subscriber::registry::{LookupSpan, SpanRef};

/// The JSON line format. Pair it with [`JsonFields`] as the field formatter
/// (`.fmt_fields(JsonFields::new()).event_format(JsonLines)`): spans' fields are stored as
/// JSON by it, and read back as such for the `span` object.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonLines;

impl<S> FormatEvent<S, JsonFields> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, JsonFields>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let normalized = event.normalized_metadata();
        let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());

        writer.write_str("{\"timestamp\":\"")?;
        write_timestamp(&mut writer)?;
        writer.write_str("\",\"level\":\"")?;
        writer.write_str(meta.level().as_str())?;
        writer.write_str("\",\"fields\":{")?;
        let mut fields = FieldWriter {
            out: &mut writer,
            first: true,
            result: Ok(()),
        };
        event.record(&mut fields);
        fields.result?;
        writer.write_str("},\"target\":")?;
        json_str(&mut writer, meta.target())?;
        let span = event
            .parent()
            .and_then(|id| ctx.span(id))
            .or_else(|| ctx.lookup_current());
        if let Some(span) = span {
            writer.write_str(",\"span\":")?;
            write_span(&mut writer, &span)?;
        }
        writer.write_str("}\n")
    }
}

/// Writes `value` as JSON into `out`: for the rare values (floats, the span's stored fields)
/// that are not strings or integers.
fn json<W, T>(out: &mut W, value: &T) -> fmt::Result
where
    W: fmt::Write + ?Sized,
    T: Serialize + ?Sized,
{
    serde_json::to_writer(FmtWriter(out), value).map_err(|_| fmt::Error)
}

/// `serde_json` writes into an [`io::Write`]; this one passes its output on to a
/// [`fmt::Write`]. `serde_json` writes whole UTF-8 pieces (string contents are split only at
/// the ASCII characters it escapes), so each piece is a `&str` again.
struct FmtWriter<'a, W: ?Sized>(&'a mut W);

impl<W: fmt::Write + ?Sized> io::Write for FmtWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = std::str::from_utf8(buf).map_err(io::Error::other)?;
        self.0.write_str(text).map_err(io::Error::other)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Writes `s` as a JSON string, quoted and escaped as `serde_json` escapes it.
fn json_str<W: fmt::Write + ?Sized>(out: &mut W, s: &str) -> fmt::Result {
    out.write_char('"')?;
    Escaped(out).write_str(s)?;
    out.write_char('"')
}

/// Writes `value`'s `Debug` form as a JSON string, formatted straight into the escaper.
fn json_debug<W: fmt::Write + ?Sized>(out: &mut W, value: &dyn fmt::Debug) -> fmt::Result {
    out.write_char('"')?;
    write!(Escaped(out), "{value:?}")?;
    out.write_char('"')
}

/// Writes an integer as JSON.
fn json_int<W: fmt::Write + ?Sized>(out: &mut W, value: impl itoa::Integer) -> fmt::Result {
    out.write_str(itoa::Buffer::new().format(value))
}

/// Escapes what is written through it as the inside of a JSON string, as `serde_json` does:
/// `"` and `\` backslashed, control characters as `\b`, `\f`, `\n`, `\r`, `\t` or
/// `\u00xx`; everything else (`DEL` and all of Unicode included) as it is. The runs between
/// escapes are passed on whole, so an ordinary string is one `write_str`.
struct Escaped<'a, W: ?Sized>(&'a mut W);

/// What `serde_json` writes after a backslash for each byte inside a string: `u` for the
/// `\u00xx` form, 0 for a byte written as it is.
static ESCAPES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = b'u';
        byte += 1;
    }
    table[0x08] = b'b';
    table[0x0c] = b'f';
    table[b'\n' as usize] = b'n';
    table[b'\r' as usize] = b'r';
    table[b'\t' as usize] = b't';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

impl<W: fmt::Write + ?Sized> fmt::Write for Escaped<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut run = 0;
        for (i, &byte) in s.as_bytes().iter().enumerate() {
            let escape = ESCAPES[usize::from(byte)];
            if escape == 0 {
                continue;
            }
            // Every byte escaped is ASCII, so `run..i` and `i + 1..` fall on character bounds.
            self.0.write_str(&s[run..i])?;
            self.0.write_char('\\')?;
            self.0.write_char(char::from(escape))?;
            if escape == b'u' {
                // One byte makes the two digits exactly: `encode_to_slice` cannot fail here.
                let mut digits = *b"0000";
                let _ = hex::encode_to_slice([byte], &mut digits[2..]);
                self.0
                    .write_str(std::str::from_utf8(&digits).map_err(|_| fmt::Error)?)?;
            }
            run = i + 1;
        }
        self.0.write_str(&s[run..])
    }
}

/// Writes an event's fields as `"name":value` pairs, in the order they are visited. After a
/// failed write it writes nothing more, and the line is not logged.
struct FieldWriter<'a, 'w> {
    out: &'a mut Writer<'w>,
    first: bool,
    result: fmt::Result,
}

impl FieldWriter<'_, '_> {
    fn entry(&mut self, field: &Field, value: impl FnOnce(&mut Writer<'_>) -> fmt::Result) {
        if self.result.is_err() {
            return;
        }
        let comma = !std::mem::replace(&mut self.first, false);
        self.result = (|| {
            if comma {
                self.out.write_char(',')?;
            }
            json_str(self.out, field.name())?;
            self.out.write_char(':')?;
            value(self.out)
        })();
    }
}

impl Visit for FieldWriter<'_, '_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.entry(field, |out| json_str(out, value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.entry(field, |out| json_int(out, value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.entry(field, |out| json_int(out, value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.entry(field, |out| json(out, &value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.entry(field, |out| {
            out.write_str(if value { "true" } else { "false" })
        });
    }

    /// `%Display` and `?Debug` fields, and the message, land here (also errors, 128-bit
    /// integers and byte slices, through `Visit`'s defaults). The value is formatted straight
    /// into the escaper, piece by piece, as tracing-subscriber does: no intermediate string.
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.entry(field, |out| json_debug(out, value));
    }
}

/// Writes the span as tracing-subscriber's JSON format does: the fields [`JsonFields`] stored
/// for it (an object with sorted keys), parsed and written back, then `"name"`. The branches
/// for stored fields that are not an object are tracing-subscriber's (it panics there in
/// debug builds); they cannot happen with [`JsonFields`].
fn write_span<S>(out: &mut Writer<'_>, span: &SpanRef<'_, S>) -> fmt::Result
where
    S: for<'a> LookupSpan<'a>,
{
    use serde_json::Value;

    let mut first = true;
    let mut entry = |out: &mut Writer<'_>, key: &str, value: &Value| {
        if !std::mem::replace(&mut first, false) {
            out.write_char(',')?;
        }
        json_str(out, key)?;
        out.write_char(':')?;
        json(out, value)
    };
    out.write_char('{')?;
    let extensions = span.extensions();
    let stored = extensions
        .get::<FormattedFields<JsonFields>>()
        .map_or("{}", |f| f.fields.as_str());
    match serde_json::from_str::<Value>(stored) {
        Ok(Value::Object(fields)) => {
            for (key, value) in &fields {
                entry(out, key, value)?;
            }
        }
        Ok(value) => {
            entry(out, "field", &value)?;
            // tracing-subscriber's wording, kept as it is.
            entry(out, "field_error", &"field was no a valid object".into())?;
        }
        Err(err) => entry(out, "field_error", &err.to_string().into())?,
    }
    entry(out, "name", &span.name().into())?;
    out.write_char('}')
}

thread_local! {
    /// The last second this thread formatted (seconds since the epoch), and its
    /// `YYYY-MM-DDTHH:MM:SS.` text.
    static SECOND: Cell<Option<(u64, [u8; 20])>> = const { Cell::new(None) };
}

/// Writes the current time as `YYYY-MM-DDTHH:MM:SS.ffffffZ`, in UTC, as tracing-subscriber's
/// default timer does.
fn write_timestamp(out: &mut Writer<'_>) -> fmt::Result {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH);
    let Some((since_epoch, prefix)) = since_epoch
        .ok()
        .and_then(|d| Some((d, second_prefix(d.as_secs())?)))
    else {
        // A clock before 1970 or after 9999: tracing-subscriber's own timer handles those.
        return tracing_subscriber::fmt::time::SystemTime.format_time(out);
    };
    let mut text = [0u8; 27];
    text[..20].copy_from_slice(&prefix);
    let mut micros = since_epoch.subsec_micros();
    for digit in text[20..26].iter_mut().rev() {
        *digit = b'0' + u8::try_from(micros % 10).unwrap_or(0);
        micros /= 10;
    }
    text[26] = b'Z';
    out.write_str(std::str::from_utf8(&text).map_err(|_| fmt::Error)?)
}

/// `YYYY-MM-DDTHH:MM:SS.` of `secs` seconds after the epoch, in UTC: from this thread's cache
/// when it is the second last asked for. `None` for years past 9999.
fn second_prefix(secs: u64) -> Option<[u8; 20]> {
    SECOND.with(|cache| {
        if let Some((cached, prefix)) = cache.get()
            && cached == secs
        {
            return Some(prefix);
        }
        let at = time::OffsetDateTime::from_unix_timestamp(i64::try_from(secs).ok()?).ok()?;
        if at.year() > 9999 {
            return None;
        }
        let mut prefix = [0u8; 20];
        io::Write::write_fmt(
            &mut &mut prefix[..],
            format_args!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.",
                at.year(),
                u8::from(at.month()),
                at.day(),
                at.hour(),
                at.minute(),
                at.second()
            ),
        )
        .ok()?;
        cache.set(Some((secs, prefix)));
        Some(prefix)
    })
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use serde_json::{Value, json};
    use tracing_subscriber::fmt::MakeWriter;
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    /// Lines written by a subscriber, readable by the test.
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Buf {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buf {
        type Writer = Buf;
        fn make_writer(&'a self) -> Buf {
            self.clone()
        }
    }

    impl Buf {
        fn lines(&self) -> Vec<String> {
            String::from_utf8(self.0.lock().unwrap().clone())
                .unwrap()
                .lines()
                .map(str::to_owned)
                .collect()
        }
    }

    /// The lines of `produce`'s events in this module's format, configured as `init_logging`
    /// configures it.
    fn ours(produce: impl FnOnce()) -> Vec<String> {
        let buf = Buf::default();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(buf.clone())
            .fmt_fields(JsonFields::new())
            .event_format(JsonLines)
            .finish();
        tracing::subscriber::with_default(subscriber, produce);
        buf.lines()
    }

    /// The same events formatted by this module and by tracing-subscriber's JSON format in the
    /// configuration above: one subscriber, two layers, so each event is formatted by both.
    fn both(produce: impl FnOnce()) -> (Vec<String>, Vec<String>) {
        let (mine, theirs) = (Buf::default(), Buf::default());
        let subscriber = tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(mine.clone())
                    .fmt_fields(JsonFields::new())
                    .event_format(JsonLines),
            )
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(theirs.clone())
                    .json()
                    .with_current_span(true)
                    .with_span_list(false),
            );
        tracing::subscriber::with_default(subscriber, produce);
        (mine.lines(), theirs.lines())
    }

    const TIMESTAMP_PREFIX: &str = "{\"timestamp\":\"";
    const TIMESTAMP_LEN: usize = "2026-11-29T23:18:01.123456Z".len();

    /// Splits a line into its timestamp and the text after it.
    fn split_timestamp(line: &str) -> (&str, &str) {
        let rest = line
            .strip_prefix(TIMESTAMP_PREFIX)
            .unwrap_or_else(|| panic!("line does not start with the timestamp: {line}"));
        rest.split_at(TIMESTAMP_LEN)
    }

    /// Asserts that both formats wrote the same lines apart from the timestamps: the same JSON
    /// values, and the same text (so the same key order, number and escape forms).
    fn assert_same(mine: &[String], theirs: &[String]) {
        assert_eq!(mine.len(), theirs.len(), "{mine:#?}\n{theirs:#?}");
        assert!(!mine.is_empty());
        for (m, t) in mine.iter().zip(theirs) {
            let (mut mv, mut tv): (Value, Value) = (
                serde_json::from_str(m).unwrap(),
                serde_json::from_str(t).unwrap(),
            );
            mv.as_object_mut().unwrap().remove("timestamp").unwrap();
            tv.as_object_mut().unwrap().remove("timestamp").unwrap();
            assert_eq!(mv, tv);
            assert_recent(split_timestamp(m).0);
            assert_recent(split_timestamp(t).0);
            assert_eq!(split_timestamp(m).1, split_timestamp(t).1);
            assert_eq!(top_level_keys(m), top_level_keys(t));
        }
    }

    /// The top-level keys of a JSON object line, in the order of the text.
    fn top_level_keys(line: &str) -> Vec<String> {
        struct Keys<'a>(&'a mut Vec<String>);
        impl<'de> serde::de::Visitor<'de> for Keys<'_> {
            type Value = ();
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
                while let Some(key) = map.next_key::<String>()? {
                    self.0.push(key);
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
                Ok(())
            }
        }
        let mut keys = Vec::new();
        let mut de = serde_json::Deserializer::from_str(line);
        serde::Deserializer::deserialize_map(&mut de, Keys(&mut keys)).unwrap();
        keys
    }

    fn parse(line: &str) -> Value {
        serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))
    }

    #[test]
    fn the_request_line_has_the_fields_and_values_of_the_json_format() {
        let lines = ours(info_request_line);
        let [line] = &lines[..] else {
            panic!("{lines:?}")
        };
        assert_eq!(
            top_level_keys(line),
            ["timestamp", "level", "fields", "target"]
        );
        let mut value = parse(line);
        let timestamp = value["timestamp"].as_str().unwrap().to_owned();
        assert_recent(&timestamp);
        value.as_object_mut().unwrap().remove("timestamp");
        assert_eq!(
            value,
            json!({
                "level": "INFO",
                "fields": {
                    "message": "request",
                    "request_id": "req_0123456789abcdef0123456789abcdef",
                    "method": "GET",
                    "path": "/v1/organization/certificates",
                    "status": 200,
                    "latency_us": 83,
                },
                "target": "orgcerts_server::logformat::tests",
            })
        );
        assert_eq!(
            split_timestamp(line).1,
            "\",\"level\":\"INFO\",\"fields\":{\"message\":\"request\",\
             \"request_id\":\"req_0123456789abcdef0123456789abcdef\",\"method\":\"GET\",\
             \"path\":\"/v1/organization/certificates\",\"status\":200,\"latency_us\":83},\
             \"target\":\"orgcerts_server::logformat::tests\"}"
        );
    }

    /// Asserts that `timestamp` is `YYYY-MM-DDTHH:MM:SS.ffffffZ` and within a second of now.
    fn assert_recent(timestamp: &str) {
        let b = timestamp.as_bytes();
        assert_eq!(b.len(), TIMESTAMP_LEN, "{timestamp}");
        for (i, c) in b.iter().enumerate() {
            let expected_separator = match i {
                4 | 7 => Some(b'-'),
                10 => Some(b'T'),
                13 | 16 => Some(b':'),
                19 => Some(b'.'),
                26 => Some(b'Z'),
                _ => None,
            };
            match expected_separator {
                Some(s) => assert_eq!(*c, s, "{timestamp}"),
                None => assert!(c.is_ascii_digit(), "{timestamp}"),
            }
        }
        let num = |range: std::ops::Range<usize>| timestamp[range].parse::<u32>().unwrap();
        let date = time::Date::from_calendar_date(
            i32::try_from(num(0..4)).unwrap(),
            time::Month::try_from(u8::try_from(num(5..7)).unwrap()).unwrap(),
            u8::try_from(num(8..10)).unwrap(),
        )
        .unwrap();
        let time = time::Time::from_hms_micro(
            u8::try_from(num(11..13)).unwrap(),
            u8::try_from(num(14..16)).unwrap(),
            u8::try_from(num(17..19)).unwrap(),
            num(20..26),
        )
        .unwrap();
        let at = time::PrimitiveDateTime::new(date, time).assume_utc();
        let off = (time::OffsetDateTime::now_utc() - at).abs();
        assert!(
            off < time::Duration::SECOND,
            "{timestamp} is {off} from now"
        );
    }

    /// A request line, with the fields and the message `middleware::ObserveLayer` logs.
    macro_rules! request_line {
        ($level:ident, $request_id:expr, $method:expr, $status:expr) => {{
            let (request_id, method): (&str, &str) = ($request_id, $method);
            let path = "/v1/organization/certificates";
            let latency_us: u64 = 83;
            tracing::$level!(
                request_id,
                method,
                path,
                status = $status,
                latency_us,
                "request"
            );
        }};
    }

    /// The request line of a success.
    fn info_request_line() {
        request_line!(info, "req_0123456789abcdef0123456789abcdef", "GET", 200u16);
    }

    /// The server's request lines: a success and a server error.
    fn request_lines() {
        info_request_line();
        request_line!(
            error,
            "req_00000000000000000123456789abcdef",
            "POST",
            500u16
        );
    }

    #[test]
    fn request_lines_are_those_of_the_json_format() {
        let (mine, theirs) = both(request_lines);
        assert_eq!(mine.len(), 2);
        assert_same(&mine, &theirs);
    }

    /// A message and a field value with everything JSON must escape, and more.
    const AWKWARD: &str = "quote \" backslash \\ slash / newline \n tab \t cr \r nul \0 bell \u{7} \
                           backspace \u{8} form-feed \u{c} unit-separator \u{1f} \
                           del \u{7f} e-acute \u{e9} crab \u{1f980} line-separator \u{2028} </script>";

    #[test]
    fn every_kind_of_field_is_written_as_the_json_format_writes_it() {
        let (mine, theirs) = both(|| {
            let n: i64 = -3;
            let err = io::Error::other("boom \"quoted\"");
            let addr = std::net::Ipv4Addr::LOCALHOST;
            tracing::warn!(
                s = AWKWARD,
                n,
                min = i64::MIN,
                max = u64::MAX,
                yes = true,
                no = false,
                f = 1.5,
                tiny = 1e-300,
                whole = 3.0,
                negative_zero = -0.0,
                nan = f64::NAN,
                inf = f64::INFINITY,
                display = %addr,
                awkward_display = %AWKWARD,
                debug = ?Some(AWKWARD),
                error = &err as &(dyn std::error::Error + 'static),
                big = 1u128 << 100,
                small = -(1i128 << 100),
                bytes = &b"ab\n"[..],
                r#type = "raw",
                http.method = "GET",
                "{AWKWARD} {}", 42
            );
            tracing::trace!("trace");
            tracing::debug!(only = 1);
            tracing::info!(target: "some::other::target", "elsewhere");
            tracing::error!("");
            tracing::info!(same = 1, same = 2, "a name twice");
        });
        assert_eq!(mine.len(), 6);
        assert_same(&mine, &theirs);
    }

    #[test]
    fn spans_are_written_as_the_json_format_writes_them() {
        let (mine, theirs) = both(|| {
            let outer =
                tracing::info_span!("outer", z = 1, a = AWKWARD, later = tracing::field::Empty);
            let _outer = outer.enter();
            tracing::info!("in outer");
            outer.record("later", 7u64);
            tracing::info!("after a record");
            let inner = tracing::debug_span!("inner", f = 0.25, b = true, d = ?["x"]);
            let _inner = inner.enter();
            tracing::info!(x = 1, "in inner");
            tracing::info!(parent: &outer, "explicit parent");
            tracing::info!(parent: None, "explicit root, still under the current span");
            let bare = tracing::info_span!("bare");
            tracing::info!(parent: &bare, "in a span without fields");
        });
        assert_eq!(mine.len(), 6);
        assert_same(&mine, &theirs);
        let inner = parse(&mine[2]);
        assert_eq!(
            inner["span"],
            json!({"b": true, "d": "[\"x\"]", "f": 0.25, "name": "inner"})
        );
        let outer = parse(&mine[1]);
        assert_eq!(outer["span"]["later"], 7);
        assert_eq!(outer["span"]["a"], AWKWARD);
    }

    #[test]
    fn log_records_are_written_as_the_json_format_writes_them() {
        use tracing_log::log;
        let (mine, theirs) = both(|| {
            tracing_log::format_trace(
                &log::Record::builder()
                    .args(format_args!("from the log crate: {AWKWARD}"))
                    .level(log::Level::Warn)
                    .target("rustls::common_state")
                    .module_path(Some("rustls::common_state"))
                    .file(Some("src/common_state.rs"))
                    .line(Some(42))
                    .build(),
            )
            .unwrap();
        });
        assert_eq!(mine.len(), 1);
        assert_same(&mine, &theirs);
        let line = parse(&mine[0]);
        assert_eq!(line["target"], "rustls::common_state");
        assert_eq!(line["level"], "WARN");
    }

    #[test]
    fn values_keep_their_json_types_and_strings_survive_escaping() {
        let lines = ours(|| {
            let addr = std::net::Ipv4Addr::LOCALHOST;
            tracing::info!(
                s = AWKWARD,
                u = u64::MAX,
                i = i64::MIN,
                yes = true,
                no = false,
                display = %addr,
                awkward = %AWKWARD,
                debug = ?(1, "two"),
                "{AWKWARD}"
            );
        });
        let [line] = &lines[..] else {
            panic!("{lines:?}")
        };
        assert!(!line.contains('\n'), "{line}");
        let value = parse(line);
        assert_recent(value["timestamp"].as_str().unwrap());
        let fields = value["fields"].as_object().unwrap();
        let mut keys: Vec<&str> = fields.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "awkward", "debug", "display", "i", "message", "no", "s", "u", "yes"
            ]
        );
        assert_eq!(fields["message"], AWKWARD);
        assert_eq!(fields["s"], AWKWARD);
        assert_eq!(fields["awkward"], AWKWARD);
        assert_eq!(fields["u"].as_u64(), Some(u64::MAX));
        assert_eq!(fields["i"].as_i64(), Some(i64::MIN));
        assert_eq!(fields["yes"], Value::Bool(true));
        assert_eq!(fields["no"], Value::Bool(false));
        assert_eq!(fields["display"], "127.0.0.1");
        assert_eq!(fields["debug"], "(1, \"two\")");
    }

    #[test]
    fn a_second_is_formatted_once_and_never_reused_for_another() {
        // 2026-11-29T23:18:00Z, then two minutes second by second, then back.
        let start = 1_795_994_280;
        for i in 0..120 {
            let expected = format!("2026-11-29T23:{:02}:{:02}.", 18 + i / 60, i % 60);
            assert_eq!(prefix(start + i), expected);
            assert_eq!(prefix(start + i), expected);
        }
        assert_eq!(prefix(start + 1), "2026-11-29T23:18:01.");
        assert_eq!(prefix(1_796_083_199), "2026-11-30T23:59:59.");
        assert_eq!(prefix(1_796_083_200), "2026-12-01T00:00:00.");
        assert_eq!(prefix(951_782_400), "2000-02-29T00:00:00.");
        assert_eq!(prefix(0), "1970-01-01T00:00:00.");
        assert_eq!(prefix(253_402_300_799), "9999-12-31T23:59:59.");
        assert_eq!(second_prefix(253_402_300_800), None);
    }

    #[test]
    fn timestamps_have_microseconds_and_go_forward() {
        let lines = ours(|| {
            for i in 0..50 {
                tracing::info!(i);
            }
        });
        let stamps: Vec<&str> = lines.iter().map(|l| split_timestamp(l).0).collect();
        for t in &stamps {
            assert_recent(t);
        }
        // RFC 3339 text of one length sorts as time does.
        assert!(stamps.is_sorted(), "{stamps:#?}");
        // Fifty readings all on a whole millisecond would mean the microseconds are lost.
        assert!(stamps.iter().any(|t| !t.ends_with("000Z")), "{stamps:#?}");
    }

    fn prefix(secs: u64) -> String {
        String::from_utf8(second_prefix(secs).unwrap().to_vec()).unwrap()
    }
}
