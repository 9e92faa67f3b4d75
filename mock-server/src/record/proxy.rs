//! The forwarding: one client request in, the same request to the upstream, its answer
//! back to the client, and the exchange (with any seeds it needed) appended to the file.

use super::seeds::{self, ObjectRef};
use super::{CASE_HEADER, CaseState, Recorder, SUITE_HEADER};
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use leancloud::recording::{self, Described, Exchange, Seed, SeedKind};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::sync::Arc;
use std::time::Instant;

/// The class name an absent seed gives a session token the upstream did not know.
const SESSIONS: &str = "_Session";

/// Bodies a client may send through the recorder (the service's own limits are lower).
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;
/// The most a compressed body may grow to when decoded for the recording.
const MAX_DECODED_BYTES: u64 = 256 * 1024 * 1024;

pub fn router(recorder: Arc<Recorder>) -> axum::Router {
    axum::Router::new()
        .fallback(handle)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(recorder)
}

/// Headers that belong to one connection, not to the request (RFC 9110 §7.6.1), and
/// those the recorder sets itself.
fn is_hop_by_hop(name: &str) -> bool {
    matches!(
        name,
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "trailers"
            | "transfer-encoding"
            | "upgrade"
            | "host"
            | "content-length"
    )
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [("content-type", "application/json;charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

async fn handle(
    State(recorder): State<Arc<Recorder>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(e) => {
            return json_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                &json!({"error": format!("lc-mock record: cannot read the request body: {e}")}),
            );
        }
    };
    if uri.path().starts_with("/__record/") {
        return control(&recorder, &method, uri.path(), &body);
    }
    recorder.exchange(method, uri, headers, body).await
}

fn control(recorder: &Recorder, method: &Method, path: &str, body: &[u8]) -> Response {
    match (method.as_str(), path) {
        ("POST", "/__record/case") => {
            let Ok(value) = serde_json::from_slice::<Value>(body) else {
                return json_response(
                    StatusCode::BAD_REQUEST,
                    &json!({"error": "expected {\"test\": \"<case name>\", \"suite\": \"<optional>\"}"}),
                );
            };
            let text = |k: &str| {
                value
                    .get(k)
                    .and_then(Value::as_str)
                    .filter(|s| !s.trim().is_empty())
            };
            let case = recorder.lock().namer.mark(text("suite"), text("test"));
            match case {
                Some((suite, test)) => {
                    json_response(StatusCode::OK, &json!({"suite": suite, "test": test}))
                }
                None => json_response(StatusCode::OK, &json!({"test": null})),
            }
        }
        ("GET", "/__record/summary") => {
            let s = recorder.summary();
            json_response(
                StatusCode::OK,
                &json!({"cases": s.cases, "exchanges": s.exchanges, "seeds": s.seeds, "bytes": s.bytes}),
            )
        }
        _ => json_response(
            StatusCode::NOT_FOUND,
            &json!({"error": "lc-mock record: unknown control request (POST /__record/case, GET /__record/summary)"}),
        ),
    }
}

/// A body as the client or the upstream sent it, decoded for the recording: `gzip`,
/// `x-gzip` and `deflate` are undone; anything else is kept as it is.
pub fn decode(content_encoding: Option<&str>, bytes: &[u8]) -> Vec<u8> {
    let mut data = bytes.to_vec();
    // Encodings are listed in the order they were applied.
    let codings: Vec<String> = content_encoding
        .unwrap_or("")
        .split(',')
        .map(|c| c.trim().to_ascii_lowercase())
        .filter(|c| !c.is_empty() && c != "identity")
        .collect();
    for coding in codings.iter().rev() {
        let mut out = Vec::new();
        let ok = match coding.as_str() {
            "gzip" | "x-gzip" => flate2::read::MultiGzDecoder::new(&data[..])
                .take(MAX_DECODED_BYTES)
                .read_to_end(&mut out)
                .is_ok(),
            "deflate" => {
                flate2::read::ZlibDecoder::new(&data[..])
                    .take(MAX_DECODED_BYTES)
                    .read_to_end(&mut out)
                    .is_ok()
                    || {
                        out.clear();
                        flate2::read::DeflateDecoder::new(&data[..])
                            .take(MAX_DECODED_BYTES)
                            .read_to_end(&mut out)
                            .is_ok()
                    }
            }
            _ => false,
        };
        if !ok {
            return data;
        }
        data = out;
    }
    data
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string())
        .filter(|v| !v.is_empty())
}

/// What the upstream did with a forwarded request.
struct Upstream {
    status: u16,
    headers: HeaderMap,
    body: Bytes,
    /// Set when it gave no answer: the recorder answered in its place.
    error: Option<String>,
}

/// `?k=v&...`, percent-encoded (empty for no parameters).
fn query_string(query: &[(String, String)]) -> String {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    let pairs: Vec<String> = query
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                utf8_percent_encode(k, NON_ALPHANUMERIC),
                utf8_percent_encode(v, NON_ALPHANUMERIC)
            )
        })
        .collect();
    if pairs.is_empty() {
        String::new()
    } else {
        format!("?{}", pairs.join("&"))
    }
}

use leancloud::transport::describe;

impl Recorder {
    async fn forward(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Upstream {
        let url = format!(
            "{}{}",
            self.config.upstream,
            uri.path_and_query().map_or("/", |pq| pq.as_str())
        );
        let mut builder = self.client.request(method.clone(), &url);
        for (name, value) in headers {
            let n = name.as_str();
            if !is_hop_by_hop(n) && n != CASE_HEADER && n != SUITE_HEADER {
                builder = builder.header(name, value);
            }
        }
        if !body.is_empty() {
            builder = builder.body(body);
        }
        let failed = |e: reqwest::Error| {
            let timeout = e.is_timeout();
            let message = if timeout {
                format!(
                    "timeout: no answer within {} s",
                    self.config.upstream_timeout.as_secs_f64()
                )
            } else {
                describe(&e)
            };
            let status = if timeout { 504 } else { 502 };
            let body = json!({"error": format!("lc-mock record: the upstream gave no answer ({message})")});
            let mut headers = HeaderMap::new();
            headers.insert(
                "content-type",
                HeaderValue::from_static("application/json;charset=utf-8"),
            );
            Upstream {
                status,
                headers,
                body: Bytes::from(body.to_string()),
                error: Some(message),
            }
        };
        let response = match builder.send().await {
            Ok(r) => r,
            Err(e) => return failed(e),
        };
        let status = response.status().as_u16();
        let mut out_headers = HeaderMap::new();
        for (name, value) in response.headers() {
            if !is_hop_by_hop(name.as_str()) {
                out_headers.append(name.clone(), value.clone());
            }
        }
        match response.bytes().await {
            Ok(body) => Upstream {
                status,
                headers: out_headers,
                body,
                error: None,
            },
            Err(e) => failed(e),
        }
    }

    /// Forward one request, record it, answer the client.
    pub(super) async fn exchange(
        &self,
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> Response {
        let case_name = header_text(&headers, CASE_HEADER).map(|v| {
            percent_encoding::percent_decode_str(&v)
                .decode_utf8_lossy()
                .into_owned()
        });
        let suite_name = header_text(&headers, SUITE_HEADER);
        let mut request = leancloud::Request::from_target(
            method.as_str(),
            uri.path_and_query().map_or("/", |pq| pq.as_str()),
        );
        request.headers = headers
            .iter()
            .filter(|(n, _)| n.as_str() != CASE_HEADER && n.as_str() != SUITE_HEADER)
            .map(|(n, v)| leancloud::http::received_header(n.as_str(), v.as_bytes()))
            .collect();
        request.body = decode(header_text(&headers, "content-encoding").as_deref(), &body);
        let described = Described::of(&request);
        // Before any seed line of this request is written (writing the exchange would
        // add them only after).
        for secret in &described.secrets {
            self.writer.add_secret(secret);
        }
        let case = {
            let mut state = self.lock();
            if state.app_id.is_none() {
                state.app_id = header_text(&headers, "x-lc-id")
                    .or_else(|| header_text(&headers, "x-avoscloud-application-id"));
            }
            let case =
                state
                    .namer
                    .assign(Instant::now(), case_name.as_deref(), suite_name.as_deref());
            state.cases.entry(case.clone()).or_default();
            case
        };

        let mut seeded = 0;
        if self.config.master_key.is_some() {
            // Roles decide access wherever an ACL or a class permission names one, and
            // requests rarely name the role objects themselves: a case starts with the
            // app's roles (when there are at most 1000).
            seeded += self.seed_class(&case, "_Role").await;
            seeded += self.seed_session(&case, &described).await;
            let refs = seeds::request_refs(
                &described.method,
                &described.path,
                &described.query,
                described.body.json(),
            );
            seeded += self.seed(&case, refs, HashMap::new()).await;
            if let Some(class) = seeds::queried_class(&described.method, &described.path) {
                seeded += self.seed_class(&case, &class).await;
            }
        }

        let started = Instant::now();
        let upstream = self.forward(&method, &uri, &headers, body).await;
        let elapsed_ms = started.elapsed().as_millis() as u64;
        let answer_bytes = decode(
            header_text(&upstream.headers, "content-encoding").as_deref(),
            &upstream.body,
        );
        let answer = recording::Body::from_bytes(
            &answer_bytes,
            header_text(&upstream.headers, "content-type").as_deref(),
        );

        if let Some(json) = answer.json() {
            let status = upstream.status;
            {
                let mut state = self.lock();
                let known = state.cases.entry(case.clone()).or_default();
                known.known.extend(seeds::created(
                    &described.method,
                    &described.path,
                    described.body.json(),
                    status,
                    json,
                ));
                let mut tokens = Vec::new();
                seeds::tokens(json, &mut tokens);
                known.tokens.extend(tokens);
            }
            if self.config.master_key.is_some() && upstream.error.is_none() {
                if seeds::is_login(&described.method, &described.path) {
                    let succeeded = (200..300).contains(&status);
                    seeded += self.seed_login(&case, &described, succeeded).await;
                }
                let refs = seeds::answer_refs(&described.method, &described.path, status, json);
                seeded += self.seed(&case, refs, HashMap::new()).await;
            }
        }

        let order = {
            let mut state = self.lock();
            let known = state.cases.entry(case.clone()).or_default();
            let order = known.order;
            known.order += 1;
            order
        };
        let exchange = Exchange {
            suite: case.0.clone(),
            test: case.1.clone(),
            order,
            request: described,
            status: upstream.status,
            response: answer,
            upstream_error: upstream.error.clone(),
            elapsed_ms: Some(elapsed_ms),
        };
        if let Err(e) = self.writer.write_exchange(&exchange) {
            eprintln!(
                "lc-mock record: cannot append to {}: {e}",
                self.out.display()
            );
        }
        if self.config.progress {
            let r = &exchange.request;
            let mut line = format!(
                "lc-mock record: {}/{} #{order} {} {} -> {} in {elapsed_ms} ms",
                case.0, case.1, r.method, r.path, exchange.status
            );
            if let Some(error) = &upstream.error {
                line.push_str(&format!(" (the upstream gave no answer: {error})"));
            }
            if seeded > 0 {
                line.push_str(&format!(
                    " (+{seeded} seed{})",
                    if seeded == 1 { "" } else { "s" }
                ));
            }
            eprintln!("{line}");
        }

        let mut response = Response::new(Body::from(upstream.body));
        *response.status_mut() =
            StatusCode::from_u16(upstream.status).unwrap_or(StatusCode::BAD_GATEWAY);
        *response.headers_mut() = upstream.headers;
        response
    }

    /// Seed the user of a session the case did not obtain. Returns the seeds written.
    async fn seed_session(&self, case: &super::CaseKey, described: &Described) -> usize {
        let Some(token) = &described.session else {
            return 0;
        };
        // A sign-up or log-in ignores the session it is sent with.
        let ignored = described.method == "POST"
            && matches!(described.path.as_str(), "/1.1/users" | "/1.1/login");
        let known = self
            .lock()
            .cases
            .get(case)
            .is_some_and(|c| c.tokens.contains(token));
        if ignored || known {
            return 0;
        }
        let me = match self.master_get_any("/1.1/users/me", &[], Some(token)).await {
            Ok((200..=299, me)) => me,
            // The upstream knows no such session: record that, so the exchanges that
            // send it are scored (the emulator must refuse it too).
            Ok((400..=499, answer)) if answer.get("code").is_some() => {
                let lines = vec![(
                    (SESSIONS.to_string(), token.clone()),
                    SeedKind::Absent(token.clone()),
                )];
                return self.write_seeds(case, lines);
            }
            _ => return 0,
        };
        let Some(id) = me.get("objectId").and_then(Value::as_str) else {
            return 0;
        };
        {
            let mut state = self.lock();
            let c = state.cases.entry(case.clone()).or_default();
            c.tokens.insert(token.clone());
        }
        let mut extra = HashMap::new();
        extra.insert(
            ("_User".to_string(), id.to_string()),
            json!({"sessionToken": token}),
        );
        self.seed(case, vec![("_User".into(), id.into())], extra)
            .await
    }

    /// A GET with the master key; the JSON answer, or why there is none.
    async fn master_get(
        &self,
        path: &str,
        query: &[(String, String)],
        session: Option<&str>,
    ) -> Result<Value, String> {
        let (status, value) = self.master_get_any(path, query, session).await?;
        if !(200..300).contains(&status) {
            return Err(format!("{path}: {status} {value}"));
        }
        Ok(value)
    }

    /// A GET with the master key; the status and JSON answer, whatever the status.
    async fn master_get_any(
        &self,
        path: &str,
        query: &[(String, String)],
        session: Option<&str>,
    ) -> Result<(u16, Value), String> {
        let master = self.config.master_key.as_deref().ok_or("no master key")?;
        let app_id = self.lock().app_id.clone().ok_or("no app id yet")?;
        let mut request = self
            .client
            .get(format!(
                "{}{path}{}",
                self.config.upstream,
                query_string(query)
            ))
            .header("x-lc-id", app_id)
            .header("x-lc-key", format!("{master},master"));
        if let Some(token) = session {
            request = request.header("x-lc-session", token);
        }
        let response = request.send().await.map_err(|e| describe(&e))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| describe(&e))?;
        let value: Value = serde_json::from_slice(&bytes)
            .map_err(|_| format!("{path}: answer {status} is not JSON"))?;
        Ok((status.as_u16(), value))
    }

    /// Fetch the objects of `refs` the case does not know yet and write them as seeds
    /// (`extra` fields merged into their rows); ids the upstream does not have are
    /// written as absent. Returns the seeds written.
    async fn seed(
        &self,
        case: &super::CaseKey,
        refs: Vec<ObjectRef>,
        extra: HashMap<ObjectRef, Value>,
    ) -> usize {
        let unknown: Vec<ObjectRef> = {
            let state = self.lock();
            let known = state.cases.get(case);
            refs.into_iter()
                .filter(|r| !known.is_some_and(|c: &CaseState| c.known.contains(r)))
                .collect()
        };
        if unknown.is_empty() {
            return 0;
        }
        let mut by_class: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (class, id) in unknown {
            by_class.entry(class).or_default().push(id);
        }
        let mut lines = Vec::new();
        for (class, ids) in by_class {
            for chunk in ids.chunks(100) {
                let Some((found, _)) = self.fetch_rows(&class, &seeds::fetch_query(chunk)).await
                else {
                    continue;
                };
                let mut seen = Vec::new();
                for object in &found {
                    if let Some((id, row)) = self.row_of(&class, object, &extra).await {
                        seen.push(id.clone());
                        lines.push(((class.clone(), id), SeedKind::Object(row)));
                    }
                }
                for id in chunk.iter().filter(|id| !seen.contains(id)) {
                    lines.push(((class.clone(), id.clone()), SeedKind::Absent(id.clone())));
                }
            }
        }
        self.write_seeds(case, lines)
    }

    /// Seed the user a log-in names (by username, email or phone number) when the case
    /// does not know them: with the password when the log-in succeeded, so replay can
    /// log in as they did; without it when it failed.
    async fn seed_login(
        &self,
        case: &super::CaseKey,
        described: &Described,
        succeeded: bool,
    ) -> usize {
        let Some(identity) = seeds::login_identity(described.body.json()) else {
            return 0;
        };
        let Some((found, _)) = self
            .fetch_rows("_User", &seeds::user_query(&identity))
            .await
        else {
            return 0;
        };
        let mut extra = HashMap::new();
        let password = described
            .body
            .json()
            .and_then(|b| b.get("password"))
            .and_then(Value::as_str);
        let mut lines = Vec::new();
        for object in &found {
            let Some(id) = object.get("objectId").and_then(Value::as_str) else {
                continue;
            };
            if let (true, Some(password)) = (succeeded, password) {
                extra.insert(
                    ("_User".to_string(), id.to_string()),
                    json!({ "password": password }),
                );
            }
            if let Some((id, row)) = self.row_of("_User", object, &extra).await {
                lines.push((("_User".to_string(), id), SeedKind::Object(row)));
            }
        }
        self.write_seeds(case, lines)
    }

    /// The first time a case queries a class, seed every row the class has (when it has
    /// at most 1000), and mark the class complete: a query or count over it then replays
    /// against the same rows.
    async fn seed_class(&self, case: &super::CaseKey, class: &str) -> usize {
        let first = self
            .lock()
            .cases
            .entry(case.clone())
            .or_default()
            .snapshots
            .insert(class.to_string());
        if !first {
            return 0;
        }
        let Some((found, count)) = self.fetch_rows(class, &seeds::snapshot_query()).await else {
            return 0;
        };
        if count.unwrap_or(0) as usize > found.len() {
            if self.config.progress {
                eprintln!(
                    "lc-mock record: {class} has {} rows, more than the {} a case seeds; \
                     only the rows its exchanges name are seeded",
                    count.unwrap_or(0),
                    found.len()
                );
            }
            return 0;
        }
        let mut lines = Vec::new();
        for object in &found {
            if let Some((id, row)) = self.row_of(class, object, &HashMap::new()).await {
                lines.push(((class.to_string(), id), SeedKind::Object(row)));
            }
        }
        lines.push(((class.to_string(), String::new()), SeedKind::Complete));
        self.write_seeds(case, lines)
    }

    /// A master-key query of `class`: its rows and, when asked for, the count.
    async fn fetch_rows(
        &self,
        class: &str,
        query: &[(String, String)],
    ) -> Option<(Vec<Map<String, Value>>, Option<u64>)> {
        match self
            .master_get(&seeds::class_path(class), query, None)
            .await
        {
            Ok(answer) => {
                let rows = answer
                    .get("results")
                    .and_then(Value::as_array)
                    .map(|rows| rows.iter().filter_map(|r| r.as_object().cloned()).collect())
                    .unwrap_or_default();
                Some((rows, answer.get("count").and_then(Value::as_u64)))
            }
            Err(problem) => {
                eprintln!("lc-mock record: cannot fetch {class} seeds: {problem}");
                None
            }
        }
    }

    /// A fetched object as a seed row: relation members listed, `extra` merged in.
    async fn row_of(
        &self,
        class: &str,
        object: &Map<String, Value>,
        extra: &HashMap<ObjectRef, Value>,
    ) -> Option<(String, Value)> {
        let id = object.get("objectId").and_then(Value::as_str)?.to_string();
        let (mut row, relations) = seeds::to_row(object);
        for (key, target) in relations {
            let members: Vec<String> = self
                .fetch_rows(&target, &seeds::relation_query(class, &id, &key))
                .await
                .map(|(rows, _)| rows)
                .unwrap_or_default()
                .iter()
                .filter_map(|m| m.get("objectId").and_then(Value::as_str))
                .map(str::to_string)
                .collect();
            if !members.is_empty() {
                row.insert(key, seeds::add_relation(&target, &members));
            }
        }
        if let Some(Value::Object(fields)) = extra.get(&(class.to_string(), id.clone())) {
            row.extend(fields.clone());
        }
        Some((id, Value::Object(row)))
    }

    /// Write the seeds the case does not have yet (another request of the case may have
    /// seeded some meanwhile). Returns how many were written.
    fn write_seeds(&self, case: &super::CaseKey, lines: Vec<(ObjectRef, SeedKind)>) -> usize {
        let mut written = 0;
        let mut state = self.lock();
        let c = state.cases.entry(case.clone()).or_default();
        for (r, kind) in lines {
            if !matches!(kind, SeedKind::Complete) && !c.known.insert(r.clone()) {
                continue;
            }
            if let SeedKind::Object(row) = &kind
                && let Some(token) = row.get("sessionToken").and_then(Value::as_str)
            {
                c.tokens.insert(token.to_string());
            }
            let seed = Seed {
                suite: case.0.clone(),
                test: case.1.clone(),
                class: r.0,
                kind,
            };
            match self.writer.write_seed(&seed) {
                Ok(_) => written += 1,
                Err(e) => eprintln!(
                    "lc-mock record: cannot append to {}: {e}",
                    self.out.display()
                ),
            }
        }
        written
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn gzip_and_deflate_bodies_are_decoded_for_the_recording() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(br#"{"a":1}"#).unwrap();
        let gz = gz.finish().unwrap();
        assert_eq!(decode(Some("gzip"), &gz), br#"{"a":1}"#);
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(b"[2]").unwrap();
        assert_eq!(decode(Some("deflate"), &z.finish().unwrap()), b"[2]");
        // Not really gzip, or an encoding it does not know: kept as it came.
        assert_eq!(decode(Some("gzip"), b"{}"), b"{}");
        assert_eq!(decode(Some("br"), b"\x1b\x00"), b"\x1b\x00");
        assert_eq!(decode(None, b"{}"), b"{}");
    }

    #[test]
    fn connection_headers_are_not_forwarded() {
        for name in [
            "connection",
            "transfer-encoding",
            "host",
            "content-length",
            "upgrade",
        ] {
            assert!(is_hop_by_hop(name));
        }
        for name in [
            "content-encoding",
            "x-lc-id",
            "x-lc-session",
            "accept-encoding",
        ] {
            assert!(!is_hop_by_hop(name));
        }
    }
}
