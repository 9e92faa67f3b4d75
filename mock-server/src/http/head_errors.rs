//! LeanCloud-shaped bodies for the answers hyper writes by itself.
//!
//! A request head hyper cannot take (over the head size or header count limits: 431; a
//! request target over its fixed URI limit: 414; bad syntax: 400) is answered by hyper
//! before any service sees the request, with an empty body, and the connection closed.
//! No hyper or axum setting changes that answer, and limits of our own below hyper's
//! would still leave hyper's answer for anything past its ceilings (the URI limit is
//! fixed). So the connection's writes pass through [`ShapedHeadErrors`], which replaces
//! exactly that answer (one of those statuses, `content-length: 0`, nothing else in the
//! write) with the same status and a `{"code":…,"error":…}` body. The api itself never
//! answers those statuses with an empty body, so nothing else is touched.

use leancloud::LcError;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A connection whose automatic head-error answers carry a LeanCloud-shaped body.
#[derive(Debug)]
pub struct ShapedHeadErrors<T> {
    inner: T,
    /// The replacement answer still to write, from this offset.
    pending: Option<(Vec<u8>, usize)>,
}

impl<T> ShapedHeadErrors<T> {
    pub fn new(inner: T) -> Self {
        ShapedHeadErrors {
            inner,
            pending: None,
        }
    }
}

/// The error a status hyper answers by itself stands for (the codes are chosen in
/// `leancloud::error`).
fn error_for(status: &[u8]) -> Option<LcError> {
    match status {
        b"400" => Some(LcError::malformed_request_head()),
        b"414" => Some(LcError::uri_too_long()),
        b"431" => Some(LcError::header_fields_too_large()),
        _ => None,
    }
}

/// The replacement for `written` when it is one of hyper's automatic head-error answers.
fn replacement(written: &[u8]) -> Option<Vec<u8>> {
    let rest = written.strip_prefix(b"HTTP/1.1 ")?;
    let err = error_for(rest.get(..3)?)?;
    let head_end = written.windows(4).position(|w| w == b"\r\n\r\n")?;
    // The whole write is one head, without a body, as hyper's answer is.
    if head_end + 4 != written.len() {
        return None;
    }
    let head = written[..head_end].to_ascii_lowercase();
    if !head
        .split(|&b| b == b'\n')
        .any(|line| line.strip_suffix(b"\r").unwrap_or(line) == b"content-length: 0")
    {
        return None;
    }
    let status_line_end = written.windows(2).position(|w| w == b"\r\n")?;
    let body = err.to_json().to_string();
    let mut out = written[..status_line_end].to_vec();
    out.extend_from_slice(
        format!(
            "\r\ncontent-type: application/json;charset=utf-8\r\ncontent-length: {}\r\n\
             connection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
    Some(out)
}

impl<T: AsyncWrite + Unpin> ShapedHeadErrors<T> {
    /// Write what is left of a replacement answer.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((bytes, at)) = &mut self.pending {
            if *at == bytes.len() {
                self.pending = None;
                break;
            }
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &bytes[*at..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *at += n;
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ShapedHeadErrors<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ShapedHeadErrors<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_pending(cx))?;
        if let Some(out) = replacement(buf) {
            // Taken whole: hyper's bytes are answered for, ours go out from here on.
            self.pending = Some((out, 0));
            let _ = self.poll_pending(cx)?;
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_pending(cx))?;
        let mut non_empty = bufs.iter().filter(|b| !b.is_empty());
        if let (Some(only), None) = (non_empty.next(), non_empty.next())
            && let Some(out) = replacement(only)
        {
            self.pending = Some((out, 0));
            let _ = self.poll_pending(cx)?;
            return Poll::Ready(Ok(only.len()));
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::replacement;

    #[test]
    fn only_hypers_empty_head_error_answers_are_replaced() {
        let auto = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\
                     date: Thu, 01 Jan 2026 00:00:00 GMT\r\n\r\n";
        let out = String::from_utf8(replacement(auto).unwrap()).unwrap();
        let (head, body) = out.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let body: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["code"], leancloud::error::code::GENERIC);
        // Any other answer passes through untouched.
        let json = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n\r\n{}";
        assert!(replacement(json).is_none());
        let with_body_next = b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\n\r\nHTTP/1.1";
        assert!(replacement(with_body_next).is_none());
        let other = b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n";
        assert!(replacement(other).is_none());
        let preflight = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
        assert!(replacement(preflight).is_none());
    }
}
