//! The realtime service's commands (`GenericCommand`), as its WebSocket carries them:
//! the part LiveQuery uses, encoded and decoded by the same type in both directions (the
//! emulator decodes what a client encodes, and tests speak as a client with it).
//!
//! Sources (the official SDKs, pinned in `conformance/js-sdk/package-lock.json`):
//! - the messages, their field numbers and the command and op numbers:
//!   `leancloud-realtime` 5.0.0-rc.8, `dist/core.js` (`messageCompiled`, package
//!   `push_server.messages2`, proto2);
//! - the subprotocols `lc.protobuf2.3` (binary frames), `lc.proto2base64.3` (text frames,
//!   the same bytes in base64): `dist/core.js`, `Connection` (`"lc." + format + "." +
//!   version`) and `Realtime#_open` (`noBinary`);
//! - `lc.json.3` (text frames, a JSON object per command, `cmd` by name, a data command's
//!   `msg` as JSON objects, an error under `error`): leancloud/csharp-sdk
//!   `LiveQuery/LiveQuery/Internal/LCLiveQueryConnection.cs` (`SUB_PROTOCOL`,
//!   `OnClientMessage`) and `LiveQuery/LiveQuery/Public/LCLiveQuery.cs` (`Login`,
//!   `OnNotification`).
//!
//! Only the fields LiveQuery needs are kept; others are skipped when decoding, as
//! protobuf readers do.

use serde_json::{Map, Value, json};

/// The subprotocol of binary frames: each a `GenericCommand` in protobuf.
pub const PROTOBUF: &str = "lc.protobuf2.3";
/// The subprotocol of text frames: each a `GenericCommand` in protobuf, in base64.
pub const PROTOBUF_BASE64: &str = "lc.proto2base64.3";
/// The subprotocol of text frames: each a command as a JSON object.
pub const JSON: &str = "lc.json.3";

/// The `service` of a LiveQuery command (`command.service === 1`:
/// leancloud-realtime-plugin-live-query `src/index.js`, `beforeCommandDispatch`).
pub const LIVE_QUERY_SERVICE: i32 = 1;

/// The realtime service's error codes LiveQuery meets, with their names and messages
/// as the JavaScript SDK has them (leancloud-realtime 5.0.0-rc.8 `dist/core.js`, the
/// error table) and their meaning as the error-code page gives it (weakish/docs, a 2019
/// copy of leancloud/docs, `views/_im.njk`, `errorCodes`). Sent in an error command's
/// `code` and `reason`, or as a WebSocket close code.
pub mod code {
    /// The app does not exist, or its realtime service is off.
    pub const APP_NOT_AVAILABLE: (i32, &str) = (
        4100,
        "App not exists or realtime message service is disabled.",
    );
    /// A malformed client id (installation id): the page says longer than 64 characters.
    pub const INVALID_LOGIN: (i32, &str) = (4103, "Malformed clientId.");
    /// A command that needs a session (a login) before it.
    pub const SESSION_REQUIRED: (i32, &str) = (4105, "Message sent before session opened.");
    /// A frame longer than the service takes.
    pub const FRAME_TOO_LONG: (i32, &str) = (4109, "FRAME_TOO_LONG");
    /// A frame the server cannot decode.
    pub const UNPARSEABLE_RAW_MESSAGE: (i32, &str) = (4114, "UNPARSEABLE_RAW_MESSAGE");
    /// The server's own failure.
    pub const INTERNAL_ERROR: (i32, &str) = (
        4200,
        "Internal error, please contact LeanCloud for support.",
    );
}

/// How commands travel on one connection: its subprotocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Protobuf,
    ProtobufBase64,
    Json,
}

impl Format {
    /// The format of a subprotocol name, if it is one of the service's.
    pub fn from_protocol(name: &str) -> Option<Format> {
        match name {
            PROTOBUF => Some(Format::Protobuf),
            PROTOBUF_BASE64 => Some(Format::ProtobufBase64),
            JSON => Some(Format::Json),
            _ => None,
        }
    }

    /// Every subprotocol, the binary one first.
    pub const PROTOCOLS: [&'static str; 3] = [PROTOBUF, PROTOBUF_BASE64, JSON];
}

/// One frame's payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    Binary(Vec<u8>),
    Text(String),
}

/// `CommandType` (leancloud-realtime `dist/core.js`): the command's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmd {
    Session,
    Conv,
    Direct,
    Ack,
    Rcp,
    Unread,
    Logs,
    Error,
    Login,
    Data,
    Room,
    Read,
    Presence,
    Report,
    Echo,
    LoggedIn,
    Logout,
    LoggedOut,
    Patch,
    Pubsub,
    Blacklist,
    Goaway,
    /// A number this table does not name.
    Other(i32),
}

const CMD_NAMES: [(&str, Cmd); 22] = [
    ("session", Cmd::Session),
    ("conv", Cmd::Conv),
    ("direct", Cmd::Direct),
    ("ack", Cmd::Ack),
    ("rcp", Cmd::Rcp),
    ("unread", Cmd::Unread),
    ("logs", Cmd::Logs),
    ("error", Cmd::Error),
    ("login", Cmd::Login),
    ("data", Cmd::Data),
    ("room", Cmd::Room),
    ("read", Cmd::Read),
    ("presence", Cmd::Presence),
    ("report", Cmd::Report),
    ("echo", Cmd::Echo),
    ("loggedin", Cmd::LoggedIn),
    ("logout", Cmd::Logout),
    ("loggedout", Cmd::LoggedOut),
    ("patch", Cmd::Patch),
    ("pubsub", Cmd::Pubsub),
    ("blacklist", Cmd::Blacklist),
    ("goaway", Cmd::Goaway),
];

impl Cmd {
    /// The command's number on the wire (its position in the table).
    pub fn number(self) -> i32 {
        match self {
            Cmd::Other(n) => n,
            named => CMD_NAMES
                .iter()
                .position(|(_, c)| *c == named)
                .map_or(-1, |p| p as i32),
        }
    }

    pub fn from_number(n: i32) -> Cmd {
        usize::try_from(n)
            .ok()
            .and_then(|i| CMD_NAMES.get(i))
            .map_or(Cmd::Other(n), |(_, c)| *c)
    }

    /// The command's name in the JSON format.
    pub fn name(self) -> Option<&'static str> {
        CMD_NAMES.iter().find(|(_, c)| *c == self).map(|(n, _)| *n)
    }

    pub fn from_name(name: &str) -> Option<Cmd> {
        CMD_NAMES.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
    }
}

/// `DataCommand`: pushed messages, each a JSON text (`JsonObjectMessage.data`), and the
/// ids the client acknowledges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DataCommand {
    pub ids: Vec<String>,
    pub msg: Vec<String>,
}

/// `ErrorCommand`: the answer to a command that failed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorCommand {
    pub code: i32,
    pub reason: String,
    pub detail: Option<String>,
}

/// `AckCommand`: what a client received (`ids`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AckCommand {
    pub code: Option<i32>,
    pub reason: Option<String>,
    pub ids: Vec<String>,
}

/// `GenericCommand`, the fields LiveQuery uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Command {
    pub cmd: Option<Cmd>,
    pub op: Option<i32>,
    pub app_id: Option<String>,
    pub peer_id: Option<String>,
    /// The serial number a client puts on a command it waits an answer for; the answer
    /// carries it back. Pushes have none.
    pub i: Option<i32>,
    pub installation_id: Option<String>,
    pub service: Option<i32>,
    pub server_ts: Option<i64>,
    pub client_ts: Option<i64>,
    pub data: Option<DataCommand>,
    pub error: Option<ErrorCommand>,
    pub ack: Option<AckCommand>,
}

/// A frame that is not a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DecodeError {}

fn bad(what: impl Into<String>) -> DecodeError {
    DecodeError(what.into())
}

impl Command {
    /// A command of kind `cmd` and nothing else.
    pub fn new(cmd: Cmd) -> Command {
        Command {
            cmd: Some(cmd),
            ..Command::default()
        }
    }

    /// This command as one frame of `format`.
    pub fn to_frame(&self, format: Format) -> Frame {
        match format {
            Format::Protobuf => Frame::Binary(self.encode()),
            Format::ProtobufBase64 => {
                use base64::Engine;
                Frame::Text(base64::engine::general_purpose::STANDARD.encode(self.encode()))
            }
            Format::Json => Frame::Text(self.to_json().to_string()),
        }
    }

    /// The command a frame of `format` carries.
    pub fn from_frame(frame: &Frame, format: Format) -> Result<Command, DecodeError> {
        match (format, frame) {
            (Format::Protobuf, Frame::Binary(bytes)) => Command::decode(bytes),
            (Format::ProtobufBase64, Frame::Text(text)) => {
                use base64::Engine;
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(text.trim())
                    .map_err(|e| bad(format!("not base64: {e}")))?;
                Command::decode(&bytes)
            }
            (Format::Json, Frame::Text(text)) => {
                let value: Value =
                    serde_json::from_str(text).map_err(|e| bad(format!("not JSON: {e}")))?;
                Command::from_json(&value)
            }
            (Format::Protobuf, Frame::Text(_)) => Err(bad("a text frame on lc.protobuf2.3")),
            (_, Frame::Binary(_)) => Err(bad("a binary frame on a text subprotocol")),
        }
    }

    /// The protobuf bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if let Some(cmd) = self.cmd {
            put_int(&mut out, 1, i64::from(cmd.number()));
        }
        if let Some(op) = self.op {
            put_int(&mut out, 2, i64::from(op));
        }
        put_opt_str(&mut out, 3, self.app_id.as_deref());
        put_opt_str(&mut out, 4, self.peer_id.as_deref());
        if let Some(i) = self.i {
            put_int(&mut out, 5, i64::from(i));
        }
        put_opt_str(&mut out, 6, self.installation_id.as_deref());
        if let Some(service) = self.service {
            put_int(&mut out, 8, i64::from(service));
        }
        if let Some(ts) = self.server_ts {
            put_int(&mut out, 9, ts);
        }
        if let Some(ts) = self.client_ts {
            put_int(&mut out, 10, ts);
        }
        if let Some(data) = &self.data {
            let mut inner = Vec::new();
            for id in &data.ids {
                put_str(&mut inner, 1, id);
            }
            for msg in &data.msg {
                let mut json = Vec::new();
                put_str(&mut json, 1, msg);
                put_bytes(&mut inner, 2, &json);
            }
            put_bytes(&mut out, 101, &inner);
        }
        if let Some(error) = &self.error {
            let mut inner = Vec::new();
            put_int(&mut inner, 1, i64::from(error.code));
            put_str(&mut inner, 2, &error.reason);
            put_opt_str(&mut inner, 4, error.detail.as_deref());
            put_bytes(&mut out, 103, &inner);
        }
        if let Some(ack) = &self.ack {
            let mut inner = Vec::new();
            if let Some(code) = ack.code {
                put_int(&mut inner, 1, i64::from(code));
            }
            put_opt_str(&mut inner, 2, ack.reason.as_deref());
            for id in &ack.ids {
                put_str(&mut inner, 10, id);
            }
            put_bytes(&mut out, 105, &inner);
        }
        out
    }

    /// A command from protobuf bytes; fields it does not know are skipped.
    pub fn decode(bytes: &[u8]) -> Result<Command, DecodeError> {
        let mut c = Command::default();
        let mut r = Reader { bytes, at: 0 };
        while let Some((field, value)) = r.field()? {
            match (field, value) {
                (1, Wire::Int(n)) => c.cmd = Some(Cmd::from_number(n as i32)),
                (2, Wire::Int(n)) => c.op = Some(n as i32),
                (3, Wire::Bytes(b)) => c.app_id = Some(text(b)?),
                (4, Wire::Bytes(b)) => c.peer_id = Some(text(b)?),
                (5, Wire::Int(n)) => c.i = Some(n as i32),
                (6, Wire::Bytes(b)) => c.installation_id = Some(text(b)?),
                (8, Wire::Int(n)) => c.service = Some(n as i32),
                (9, Wire::Int(n)) => c.server_ts = Some(n as i64),
                (10, Wire::Int(n)) => c.client_ts = Some(n as i64),
                (101, Wire::Bytes(b)) => c.data = Some(decode_data(b)?),
                (103, Wire::Bytes(b)) => c.error = Some(decode_error(b)?),
                (105, Wire::Bytes(b)) => c.ack = Some(decode_ack(b)?),
                (1..=6 | 8..=10 | 101 | 103 | 105, _) => {
                    return Err(bad(format!("field {field} has the wrong wire type")));
                }
                _ => {}
            }
        }
        Ok(c)
    }

    /// The JSON form (`lc.json.3`): `cmd` by name, the data command's `ids` and `msg`
    /// (its messages as JSON) at the top, an ack's `ids` at the top, an error under
    /// `error`.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        if let Some(cmd) = self.cmd {
            out.insert(
                "cmd".into(),
                cmd.name().map_or(json!(cmd.number()), |n| json!(n)),
            );
        }
        let mut put = |key: &str, value: Option<Value>| {
            if let Some(value) = value {
                out.insert(key.into(), value);
            }
        };
        put("op", self.op.map(|n| json!(n)));
        put("appId", self.app_id.as_ref().map(|s| json!(s)));
        put("peerId", self.peer_id.as_ref().map(|s| json!(s)));
        put("i", self.i.map(|n| json!(n)));
        put(
            "installationId",
            self.installation_id.as_ref().map(|s| json!(s)),
        );
        put("service", self.service.map(|n| json!(n)));
        put("serverTs", self.server_ts.map(|n| json!(n)));
        put("clientTs", self.client_ts.map(|n| json!(n)));
        if let Some(data) = &self.data {
            put("ids", Some(json!(data.ids)));
            let msg: Vec<Value> = data
                .msg
                .iter()
                .map(|m| serde_json::from_str(m).unwrap_or_else(|_| json!(m)))
                .collect();
            put("msg", Some(Value::Array(msg)));
        }
        if let Some(ack) = &self.ack {
            put("ids", Some(json!(ack.ids)));
            put("code", ack.code.map(|n| json!(n)));
            put("reason", ack.reason.as_ref().map(|s| json!(s)));
        }
        if let Some(error) = &self.error {
            let mut e = json!({"code": error.code, "reason": error.reason});
            if let Some(detail) = &error.detail {
                e["detail"] = json!(detail);
            }
            put("error", Some(e));
        }
        Value::Object(out)
    }

    /// A command from its JSON form. An empty object is the JSON format's heartbeat
    /// (a command of no kind).
    pub fn from_json(value: &Value) -> Result<Command, DecodeError> {
        let map = value
            .as_object()
            .ok_or_else(|| bad("a command is a JSON object"))?;
        let int = |key: &str| -> Result<Option<i64>, DecodeError> {
            match map.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => v
                    .as_i64()
                    .map(Some)
                    .ok_or_else(|| bad(format!("{key} must be an integer"))),
            }
        };
        let string = |key: &str| -> Result<Option<String>, DecodeError> {
            match map.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(bad(format!("{key} must be a string"))),
            }
        };
        let strings = |key: &str| -> Result<Vec<String>, DecodeError> {
            match map.get(key) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|v| {
                        v.as_str()
                            .map(str::to_string)
                            .ok_or_else(|| bad(format!("{key} must hold strings")))
                    })
                    .collect(),
                Some(_) => Err(bad(format!("{key} must be an array"))),
            }
        };
        let cmd = match map.get("cmd") {
            None | Some(Value::Null) => None,
            Some(Value::String(name)) => {
                Some(Cmd::from_name(name).ok_or_else(|| bad(format!("unknown command '{name}'")))?)
            }
            Some(Value::Number(n)) => Some(Cmd::from_number(
                n.as_i64()
                    .and_then(|n| i32::try_from(n).ok())
                    .ok_or_else(|| bad("cmd must be a name or a number"))?,
            )),
            Some(_) => return Err(bad("cmd must be a name or a number")),
        };
        let i32_of = |key: &str| -> Result<Option<i32>, DecodeError> {
            int(key)?
                .map(|n| i32::try_from(n).map_err(|_| bad(format!("{key} is out of range"))))
                .transpose()
        };
        let mut c = Command {
            cmd,
            op: match map.get("op") {
                Some(Value::Number(_)) => i32_of("op")?,
                _ => None,
            },
            app_id: string("appId")?,
            peer_id: string("peerId")?,
            i: i32_of("i")?,
            installation_id: string("installationId")?,
            service: i32_of("service")?,
            server_ts: int("serverTs")?,
            client_ts: int("clientTs")?,
            ..Command::default()
        };
        match cmd {
            Some(Cmd::Data) => {
                let msg = match map.get("msg") {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::Array(items)) => items.iter().map(Value::to_string).collect(),
                    Some(_) => return Err(bad("msg must be an array")),
                };
                c.data = Some(DataCommand {
                    ids: strings("ids")?,
                    msg,
                });
            }
            Some(Cmd::Ack) => {
                c.ack = Some(AckCommand {
                    code: i32_of("code")?,
                    reason: string("reason")?,
                    ids: strings("ids")?,
                });
            }
            Some(Cmd::Error) => {
                let e = map.get("error").and_then(Value::as_object);
                let code = e
                    .and_then(|e| e.get("code"))
                    .and_then(Value::as_i64)
                    .and_then(|n| i32::try_from(n).ok())
                    .unwrap_or_default();
                let field = |k: &str| e.and_then(|e| e.get(k)).and_then(Value::as_str);
                c.error = Some(ErrorCommand {
                    code,
                    reason: field("reason").unwrap_or_default().to_string(),
                    detail: field("detail").map(str::to_string),
                });
            }
            _ => {}
        }
        Ok(c)
    }
}

fn text(bytes: &[u8]) -> Result<String, DecodeError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| bad("a string field is not UTF-8"))
}

fn decode_data(bytes: &[u8]) -> Result<DataCommand, DecodeError> {
    let mut data = DataCommand::default();
    let mut r = Reader { bytes, at: 0 };
    while let Some((field, value)) = r.field()? {
        match (field, value) {
            (1, Wire::Bytes(b)) => data.ids.push(text(b)?),
            (2, Wire::Bytes(b)) => {
                let mut inner = Reader { bytes: b, at: 0 };
                let mut json = None;
                while let Some((f, v)) = inner.field()? {
                    if let (1, Wire::Bytes(s)) = (f, v) {
                        json = Some(text(s)?);
                    }
                }
                // `data` is required in `JsonObjectMessage`.
                data.msg
                    .push(json.ok_or_else(|| bad("a JsonObjectMessage without data"))?);
            }
            _ => {}
        }
    }
    Ok(data)
}

fn decode_error(bytes: &[u8]) -> Result<ErrorCommand, DecodeError> {
    let mut error = ErrorCommand::default();
    let mut r = Reader { bytes, at: 0 };
    while let Some((field, value)) = r.field()? {
        match (field, value) {
            (1, Wire::Int(n)) => error.code = n as i32,
            (2, Wire::Bytes(b)) => error.reason = text(b)?,
            (4, Wire::Bytes(b)) => error.detail = Some(text(b)?),
            _ => {}
        }
    }
    Ok(error)
}

fn decode_ack(bytes: &[u8]) -> Result<AckCommand, DecodeError> {
    let mut ack = AckCommand::default();
    let mut r = Reader { bytes, at: 0 };
    while let Some((field, value)) = r.field()? {
        match (field, value) {
            (1, Wire::Int(n)) => ack.code = Some(n as i32),
            (2, Wire::Bytes(b)) => ack.reason = Some(text(b)?),
            (10, Wire::Bytes(b)) => ack.ids.push(text(b)?),
            _ => {}
        }
    }
    Ok(ack)
}

fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn put_key(out: &mut Vec<u8>, field: u32, wire: u8) {
    put_varint(out, (u64::from(field) << 3) | u64::from(wire));
}

/// An `int32`/`int64`/enum field: negative numbers take ten bytes, as protobuf has it.
fn put_int(out: &mut Vec<u8>, field: u32, n: i64) {
    put_key(out, field, 0);
    put_varint(out, n as u64);
}

fn put_bytes(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    put_key(out, field, 2);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn put_str(out: &mut Vec<u8>, field: u32, s: &str) {
    put_bytes(out, field, s.as_bytes());
}

fn put_opt_str(out: &mut Vec<u8>, field: u32, s: Option<&str>) {
    if let Some(s) = s {
        put_str(out, field, s);
    }
}

/// A field's value: a varint, or length-delimited bytes (fixed-width ones are skipped).
enum Wire<'a> {
    Int(u64),
    Bytes(&'a [u8]),
    Fixed,
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut n: u64 = 0;
        for shift in (0..70).step_by(7) {
            let byte = *self
                .bytes
                .get(self.at)
                .ok_or_else(|| bad("a varint runs past the end"))?;
            self.at += 1;
            if shift == 63 && byte > 1 {
                return Err(bad("a varint longer than 64 bits"));
            }
            n |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(bad("a varint longer than 64 bits"))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| bad("a field runs past the end"))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    /// The next field, or `None` at the end.
    fn field(&mut self) -> Result<Option<(u64, Wire<'a>)>, DecodeError> {
        if self.at >= self.bytes.len() {
            return Ok(None);
        }
        let key = self.varint()?;
        let field = key >> 3;
        if field == 0 {
            return Err(bad("field number 0"));
        }
        let value = match key & 7 {
            0 => Wire::Int(self.varint()?),
            1 => {
                self.take(8)?;
                Wire::Fixed
            }
            2 => {
                let len =
                    usize::try_from(self.varint()?).map_err(|_| bad("a length past the end"))?;
                Wire::Bytes(self.take(len)?)
            }
            5 => {
                self.take(4)?;
                Wire::Fixed
            }
            other => return Err(bad(format!("wire type {other} is not used"))),
        };
        Ok(Some((field, value)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `new GenericCommand({cmd: login, appId: 'a', installationId: 'sub', service: 1,
    /// i: 1}).toArrayBuffer()` as leancloud-realtime 5.0.0-rc.8 encodes it (protobufjs 5,
    /// fields in number order), written out by hand from the field table.
    const JS_LOGIN: [u8; 13] = [
        0x08, 0x08, // cmd = login (8)
        0x1a, 0x01, b'a', // appId = "a"
        0x28, 0x01, // i = 1
        0x32, 0x03, b's', b'u', b'b', // installationId = "sub"
        0x40, // service (field 8, varint) ...
    ];

    #[test]
    fn a_login_as_the_js_sdk_encodes_it_decodes_to_its_fields() {
        let mut bytes = JS_LOGIN.to_vec();
        bytes.push(0x01);
        let c = Command::decode(&bytes).unwrap();
        assert_eq!(c.cmd, Some(Cmd::Login));
        assert_eq!(c.app_id.as_deref(), Some("a"));
        assert_eq!(c.i, Some(1));
        assert_eq!(c.installation_id.as_deref(), Some("sub"));
        assert_eq!(c.service, Some(LIVE_QUERY_SERVICE));
        assert_eq!(c.encode(), bytes, "encoding gives the same bytes back");
    }

    #[test]
    fn every_format_carries_a_data_push_and_reads_it_back() {
        let push = Command {
            cmd: Some(Cmd::Data),
            installation_id: Some("sub".into()),
            service: Some(1),
            data: Some(DataCommand {
                ids: vec!["1".into(), "2".into()],
                msg: vec![r#"{"op":"create","query_id":"q"}"#.into()],
            }),
            ..Command::default()
        };
        for format in [Format::Protobuf, Format::ProtobufBase64, Format::Json] {
            let frame = push.to_frame(format);
            let back = Command::from_frame(&frame, format).unwrap();
            assert_eq!(back.cmd, Some(Cmd::Data), "{format:?}");
            let data = back.data.unwrap();
            assert_eq!(data.ids, vec!["1", "2"], "{format:?}");
            let msg: Value = serde_json::from_str(&data.msg[0]).unwrap();
            assert_eq!(msg, json!({"op": "create", "query_id": "q"}), "{format:?}");
        }
        let Frame::Text(text) = push.to_frame(Format::Json) else {
            panic!("JSON goes in text frames")
        };
        let json: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["cmd"], "data");
        assert_eq!(json["msg"][0]["op"], "create", "messages are JSON objects");
    }

    #[test]
    fn errors_and_negative_numbers_survive_a_round_trip() {
        let c = Command {
            cmd: Some(Cmd::Error),
            i: Some(-3),
            server_ts: Some(-1),
            error: Some(ErrorCommand {
                code: 4114,
                reason: "UNPARSEABLE_RAW_MESSAGE".into(),
                detail: Some("x".into()),
            }),
            ack: Some(AckCommand {
                code: None,
                reason: None,
                ids: vec!["a".into()],
            }),
            ..Command::default()
        };
        assert_eq!(Command::decode(&c.encode()).unwrap(), c);
    }

    #[test]
    fn broken_frames_are_errors_not_panics() {
        let cases: [&[u8]; 7] = [
            &[0x08],                   // a varint cut short
            &[0x1a, 0x05, b'a'],       // a string longer than the frame
            &[0x00, 0x01],             // field 0
            &[0x0b],                   // wire type 3 (groups)
            &[0x1a, 0x02, 0xff, 0xfe], // not UTF-8
            &[
                0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
            ],
            &[
                0x1a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
            ],
        ];
        for bytes in cases {
            assert!(Command::decode(bytes).is_err(), "{bytes:?}");
        }
        assert!(Command::from_frame(&Frame::Text("{".into()), Format::Json).is_err());
        assert!(Command::from_frame(&Frame::Text("[]".into()), Format::Json).is_err());
        assert!(Command::from_frame(&Frame::Text("!".into()), Format::ProtobufBase64).is_err());
        assert!(Command::from_frame(&Frame::Text("x".into()), Format::Protobuf).is_err());
        assert!(Command::from_frame(&Frame::Binary(vec![]), Format::Json).is_err());
        let unknown = json!({"cmd": "nope"});
        assert!(Command::from_json(&unknown).is_err());
    }

    #[test]
    fn unknown_fields_are_skipped() {
        // peerId (4), priority (7, unknown here), a fixed64 (field 20), then cmd.
        let bytes = [
            0x22, 0x01, b'p', 0x38, 0x05, 0xa1, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x0e,
        ];
        let c = Command::decode(&bytes).unwrap();
        assert_eq!((c.peer_id.as_deref(), c.cmd), (Some("p"), Some(Cmd::Echo)));
    }

    #[test]
    fn the_json_heartbeat_is_a_command_of_no_kind() {
        let c = Command::from_frame(&Frame::Text("{}".into()), Format::Json).unwrap();
        assert_eq!(c, Command::default());
    }
}
