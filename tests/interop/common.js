'use strict'
// Shared by server.js and client.js: version parsing, the deterministic body pattern
// (the Rust side computes the same bytes, tests/interop_support/mod.rs), and the
// spdy-transport workarounds we need on SPDY/2.

const crypto = require('crypto')

// Byte i of pattern `seed`: the top byte of a Knuth multiplicative hash, so the
// sequence does not repeat within 4 GiB and a reordered or dropped chunk changes the hash.
function patternByte (i, seed) {
  return Math.imul((i + Math.imul(seed, 0x9e3779b1)) | 0, 0x9e3779b1) >>> 24
}

function pattern (len, seed) {
  const buf = Buffer.allocUnsafe(len)
  for (let i = 0; i < len; i++) buf[i] = patternByte(i, seed)
  return buf
}

// An `x-pad` header value of `len` characters that zlib cannot shrink much: tests header
// blocks far larger than the 2 KiB compression window in both directions.
const PAD_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789'
function padString (len) {
  let s = ''
  for (let i = 0; i < len; i++) s += PAD_ALPHABET[patternByte(i, 99) % 36]
  return s
}

function sha256 (bufOrChunks) {
  const h = crypto.createHash('sha256')
  if (Array.isArray(bufOrChunks)) bufOrChunks.forEach((c) => h.update(c))
  else h.update(bufOrChunks)
  return h.digest('hex')
}

// '2', '3', '3.1' -> the number spdy-transport's `connection.start()` takes.
function parseVersion (s) {
  const v = { 2: 2, 3: 3, 3.1: 3.1 }[s]
  if (v === undefined) throw new Error('version must be 2, 3 or 3.1, got ' + s)
  return v
}

// Quirk: spdy-transport enforces per-stream send windows on SPDY/2 too, where flow
// control does not exist (SPDY2.md §7, CONFORMANCE E5): after the initial window it
// waits for WINDOW_UPDATEs a conforming SPDY/2 peer never sends, and the stream stalls.
// On SPDY/2 we open every stream's send window to the maximum and ignore the peer's
// SETTINGS_INITIAL_WINDOW_SIZE, which is what "no flow control" means.
const MAX_WINDOW = 0x7fffffff
function disableSpdy2SendWindows (connection) {
  connection._setDefaultWindow = function () {}
  const state = connection._spdyState
  state.streamWindow.send.setMax(MAX_WINDOW)
  state.streamWindow.send.current = MAX_WINDOW
}

// Quirk: spdy-transport answers a WINDOW_UPDATE for a stream it already closed with
// RST_STREAM INVALID_STREAM (CONFORMANCE C81: ignore it), and it considers a stream
// closed as soon as its final DATA(FIN) is queued, while its scheduler lets control
// frames overtake queued DATA. So a client returning window credit near the end of a
// response gets RST_STREAM before the FIN of a stream that was completing normally.
// The server ignores such WINDOW_UPDATEs, as C81 asks.
function ignoreWindowUpdatesForClosedStreams (connection) {
  const handleFrame = connection._handleFrame
  connection._handleFrame = function (frame) {
    if (frame.type === 'WINDOW_UPDATE' && frame.id !== 0 && !this._spdyState.stream.map[frame.id]) return
    return handleFrame.call(this, frame)
  }
}

module.exports = {
  padString,
  ignoreWindowUpdatesForClosedStreams,
 patternByte, pattern, sha256, parseVersion, disableSpdy2SendWindows, MAX_WINDOW }
