'use strict'
// An independent SPDY server for spdygate's interop tests: node's spdy-transport
// Connection in server role on 127.0.0.1, plaintext, one protocol version.
//
//   node server.js <2|3|3.1> [timeout_ms]
//
// Prints `LISTENING <port>` on stdout. Routes:
//   GET  /bytes/N     -> 200, N bytes of pattern seed 0, header x-body-sha256
//   GET  /trailers/N  -> the same body, then a HEADERS frame x-trailer-sha256, then FIN
//   POST /echo        -> 200, the request body streamed back as it arrives
//   anything else     -> 404
// A request header x-pad comes back as a response header x-pad.
// Each connection gets one PING; `ping answered` on stderr when it comes back.
// Exits when stdin closes (the test's kill switch) or after the hard timeout.

const net = require('net')
const transport = require('spdy-transport')
const { pattern, sha256, parseVersion, disableSpdy2SendWindows, ignoreWindowUpdatesForClosedStreams } = require('./common')

const version = parseVersion(process.argv[2])
const timeoutMs = Number(process.argv[3] || 60000)
const MAX_BYTES = 64 * 1024 * 1024

function log (msg) {
  process.stderr.write('server.js: ' + msg + '\n')
}

function handle (stream) {
  const method = stream.method
  const path = stream.path || ''
  const m = /^\/(bytes|trailers)\/(\d+)$/.exec(path)
  const extra = {}
  if (stream.headers['x-pad'] !== undefined) extra['x-pad'] = stream.headers['x-pad']
  stream.on('error', (err) => log('stream ' + stream.id + ': ' + err.message))
  if (method === 'GET' && m && Number(m[2]) <= MAX_BYTES) {
    const body = pattern(Number(m[2]), 0)
    const digest = sha256(body)
    stream.resume() // a GET has no body, but let 'end' fire
    if (m[1] === 'bytes') {
      stream.respond(200, Object.assign({
        'content-type': 'application/octet-stream',
        'content-length': String(body.length),
        'x-body-sha256': digest
      }, extra))
      stream.end(body)
    } else {
      stream.respond(200, Object.assign({ 'content-type': 'application/octet-stream' }, extra))
      stream.write(body, () => {
        stream.sendHeaders({ 'x-trailer-sha256': digest }, () => stream.end())
      })
    }
  } else if (method === 'POST' && path === '/echo') {
    stream.respond(200, Object.assign({ 'content-type': 'application/octet-stream' }, extra))
    stream.on('data', (chunk) => stream.write(chunk))
    stream.on('end', () => stream.end())
  } else {
    stream.respond(404, { 'content-type': 'text/plain' })
    stream.resume()
    stream.end('not found\n')
  }
}

const server = net.createServer((socket) => {
  socket.setNoDelay(true)
  const connection = transport.connection.create(socket, {
    protocol: 'spdy',
    isServer: true,
    windowSize: 1 << 20
  })
  if (version === 2) disableSpdy2SendWindows(connection)
  ignoreWindowUpdatesForClosedStreams(connection)
  connection.on('error', (err) => log('connection: ' + err.message))
  connection.on('stream', handle)
  connection.start(version)
  // A server PING (even id) that the client must echo; the test reads this line.
  connection.ping(() => log('ping answered'))
})

server.listen(0, '127.0.0.1', () => {
  process.stdout.write('LISTENING ' + server.address().port + '\n')
})

process.stdin.on('end', () => process.exit(0))
process.stdin.on('close', () => process.exit(0))
process.stdin.resume()
setTimeout(() => {
  log('hard timeout, exiting')
  process.exit(3)
}, timeoutMs).unref()
