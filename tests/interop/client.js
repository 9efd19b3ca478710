'use strict'
// An independent SPDY client for spdygate's interop tests: node's spdy-transport
// Connection in client role, one TCP connection, one session.
//
//   node client.js <host> <port> <2|3|3.1> <requests-json|-> [concurrency] [timeout_ms]
//
// requests-json (or stdin with `-`): [{"method":"GET","path":"/bytes/1048576"},
//   {"method":"POST","path":"/echo","bodyLen":100000}, ...]
// Each GET /bytes/N is checked against x-body-sha256 and against the pattern computed
// here; GET /trailers/N against the x-trailer-sha256 of a trailing HEADERS frame; each
// POST against the body sent (pattern seeded by its index). "pad": K sends a K-byte
// x-pad request header that must come back as a response header.
// Prints one JSON line {ok, version, ping, results:[...], errors:[...]} and exits 0
// only if every request verified. Hard timeout (default 60 s) -> exit 2.

const net = require('net')
const transport = require('spdy-transport')
const { pattern, padString, sha256, parseVersion, disableSpdy2SendWindows } = require('./common')

const [host, portStr, versionStr, requestsArg, concurrencyStr, timeoutStr] = process.argv.slice(2)
const version = parseVersion(versionStr)
const port = Number(portStr)
const timeoutMs = Number(timeoutStr || 60000)

const results = []
const errors = []
let pingOk = false
let finished = false

function summary () {
  const ok = errors.length === 0 && pingOk && results.length === requests.length &&
    results.every((r) => r && r.status === 200 && r.sha_ok)
  return { ok, version: versionStr, ping: pingOk, results, errors }
}

function finish (code) {
  if (finished) return
  finished = true
  const s = summary()
  process.stdout.write(JSON.stringify(s) + '\n', () => process.exit(code === undefined ? (s.ok ? 0 : 1) : code))
}

setTimeout(() => {
  errors.push('hard timeout after ' + timeoutMs + ' ms')
  finish(2)
}, timeoutMs).unref()

let requests
if (requestsArg === '-') {
  requests = JSON.parse(require('fs').readFileSync(0, 'utf8'))
} else {
  requests = JSON.parse(requestsArg)
}
const concurrency = Math.max(1, Number(concurrencyStr || requests.length))

function runOne (connection, index, done) {
  const req = requests[index]
  const method = req.method || 'GET'
  const body = method === 'POST' ? pattern(req.bodyLen || 0, index + 1) : null
  const headers = { 'user-agent': 'spdy-transport-interop' }
  if (body) headers['content-length'] = String(body.length)
  const pad = req.pad ? padString(req.pad) : null
  if (pad) headers['x-pad'] = pad
  const result = { i: index, method, path: req.path, status: null, bytes: 0, sha_ok: false }

  const stream = connection.request({
    method,
    path: req.path,
    host: host + ':' + port,
    headers
  }, (err) => {
    if (err) {
      settle('request: ' + err.message)
    } else if (body) {
      // Quirk: request() takes a stream id at once but sends SYN_STREAM a tick later;
      // writing the body before this callback sends that SYN_STREAM at once, ahead of
      // earlier requests' SYN_STREAMs: ids go out of order (a session error, CONFORMANCE
      // C23). So the body goes only after SYN_STREAM is out. One big write:
      // spdy-transport splits it by window and maxChunk itself.
      stream.end(body)
    }
  })

  let expected = null
  const chunks = []
  let settled = false
  function settle (error) {
    if (settled) return
    settled = true
    if (error) {
      result.error = error
      errors.push('#' + index + ' ' + error)
    }
    results[index] = result
    done()
  }
  const trailers = /^\/trailers\//.test(req.path)
  stream.on('response', (status, resHeaders) => {
    result.status = status
    if (pad !== null && resHeaders['x-pad'] !== pad) result.header_mismatch = 'x-pad'
    if (method === 'GET' && !trailers) {
      expected = resHeaders['x-body-sha256'] || null
      const m = /^\/bytes\/(\d+)$/.exec(req.path)
      // SHA_ONLY=1: a backend with its own body pattern (spdygate's origin) is checked by
      // its x-body-sha256 header alone.
      if (m && !process.env.SHA_ONLY && expected !== sha256(pattern(Number(m[1]), 0))) {
        result.header_mismatch = 'x-body-sha256'
      }
    }
  })
  stream.on('headers', (h) => {
    if (trailers && h['x-trailer-sha256'] !== undefined) expected = h['x-trailer-sha256']
  })
  stream.on('data', (chunk) => {
    chunks.push(chunk)
    result.bytes += chunk.length
  })
  stream.on('end', () => {
    const got = sha256(chunks)
    if (method === 'POST') {
      result.sha_ok = result.bytes === body.length && got === sha256(body) && !result.header_mismatch
    } else if (trailers) {
      const m = /^\/trailers\/(\d+)$/.exec(req.path)
      result.sha_ok = expected === got && got === sha256(pattern(Number(m[1]), 0)) && !result.header_mismatch
    } else {
      result.sha_ok = expected !== null && got === expected && !result.header_mismatch
    }
    settle(null)
  })
  // Quirk: a spdy-transport server answers a WINDOW_UPDATE for a stream it already
  // finished with RST_STREAM INVALID_STREAM (CONFORMANCE C81: ignore it). A client that
  // returns window credit after the server's FIN then sees an RST on a complete stream.
  // An RST that arrives after the FIN therefore does not fail the request: 'end' decides.
  const finReceived = () => stream._readableState.ended
  stream.on('error', (err) => {
    if (finReceived()) result.rst_after_fin = err.message
    else settle(err.message)
  })
  // spdy-transport emits 'close' from inside its own 'end' listener, before ours runs:
  // only a close with no FIN received is a failure.
  stream.on('close', () => setImmediate(() => { if (!finReceived()) settle('closed before end') }))
}

// TLS=1: TLS with ALPN naming the version (spdy/3.1, spdy/3 or spdy/2); the gateway's
// test certificate is self-signed, so it is not verified.
const socket = process.env.TLS
  ? require('tls').connect({ port, host, ALPNProtocols: ['spdy/' + versionStr], rejectUnauthorized: false })
  : net.connect(port, host)
socket.setNoDelay(true)
const connection = transport.connection.create(socket, {
  protocol: 'spdy',
  isServer: false,
  windowSize: 1 << 20
})
if (version === 2) disableSpdy2SendWindows(connection)

connection.on('error', (err) => {
  if (finished || results.filter(Boolean).length === requests.length) return
  errors.push('connection: ' + err.message)
  finish(1)
})
socket.on('close', () => {
  if (!finished) {
    errors.push('socket closed before all requests finished')
    finish(1)
  }
})

socket.on(process.env.TLS ? 'secureConnect' : 'connect', () => {
  if (process.env.TLS && socket.alpnProtocol !== 'spdy/' + versionStr) {
    errors.push('ALPN chose ' + socket.alpnProtocol)
    finish(1)
    return
  }
  connection.start(version)
  connection.ping(() => {
    pingOk = true
    maybeDone()
  })
  let next = 0
  let running = 0
  let completed = 0
  function pump () {
    while (running < concurrency && next < requests.length) {
      const i = next++
      running++
      runOne(connection, i, () => {
        running--
        completed++
        pump()
        maybeDone()
      })
    }
  }
  function maybeDone () {
    if (completed !== requests.length || !pingOk || finished) return
    const s = summary()
    if (version === 2) {
      // Quirk: spdy-transport writes an 8-byte GOAWAY on SPDY/2 (the format has 4 bytes,
      // SPDY2.md §3.5), which a conforming peer rejects. Close the TCP connection instead.
      process.stdout.write(JSON.stringify(s) + '\n', () => {
        finished = true
        socket.end()
        process.exit(s.ok ? 0 : 1)
      })
    } else {
      connection.end(() => finish())
      // GOAWAY(OK) is out; do not wait for the peer to close.
      setTimeout(() => finish(), 200).unref()
    }
  }
  pump()
  if (requests.length === 0) maybeDone()
})
