//! TLS for client connections with rustls, driven from the shard's own buffers (rustls is
//! sans-IO too): ciphertext in, plaintext out, and back. ALPN picks the protocol: spdy/3.1,
//! spdy/3, spdy/2, http/1.1 in the configured preference order. Certificates and keys come
//! from PEM files. The TLS path copies (decryption writes new bytes); plaintext does not.

use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ServerConfig, ServerConnection};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: {message}")]
    Load { path: String, message: String },
    #[error("TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// Builds the shared server configuration (one per process, cloned into every shard).
pub fn server_config(cert: &Path, key: &Path, alpn: &[Vec<u8>]) -> Result<Arc<ServerConfig>, TlsError> {
    let load = |path: &Path, message: String| TlsError::Load { path: path.display().to_string(), message };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| load(cert, e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| load(cert, e.to_string()))?;
    if certs.is_empty() {
        return Err(load(cert, "no certificate in the file".into()));
    }
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| load(key, e.to_string()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key_der)?;
    config.alpn_protocols = alpn.to_vec();
    // Header compression over TLS compression would be CRIME twice over; rustls has none.
    Ok(Arc::new(config))
}

/// One server-side TLS session.
pub struct TlsSession {
    conn: ServerConnection,
}

impl TlsSession {
    pub fn new(config: Arc<ServerConfig>) -> Result<Self, TlsError> {
        let mut conn = ServerConnection::new(config)?;
        // rustls caps unsent TLS data at 64 KiB by default and silently takes less on
        // `write`; the gateway already bounds what it hands in (max_buffered_per_session),
        // so the cap would only cut streams short.
        conn.set_buffer_limit(None);
        Ok(TlsSession { conn })
    }

    /// Feeds ciphertext; appends decrypted plaintext to `plaintext`. On `Err` the alert
    /// to send is in [`TlsSession::take_output`]; close after writing it.
    pub fn recv(&mut self, mut ciphertext: &[u8], plaintext: &mut Vec<u8>) -> Result<(), rustls::Error> {
        while !ciphertext.is_empty() {
            // read_tls takes at most one buffer's worth; loop until all is consumed.
            match self.conn.read_tls(&mut ciphertext) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => return Err(rustls::Error::General(e.to_string())),
            }
            self.conn.process_new_packets()?;
            self.drain_plaintext(plaintext);
        }
        Ok(())
    }

    fn drain_plaintext(&mut self, plaintext: &mut Vec<u8>) {
        let mut reader = self.conn.reader();
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match reader.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => plaintext.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => break,
            }
        }
    }

    /// Encrypts plaintext to send.
    pub fn send(&mut self, plaintext: &[u8]) {
        // Unlimited buffer (see `new`): write_all cannot come up short.
        let written = self.conn.writer().write_all(plaintext);
        debug_assert!(written.is_ok());
    }

    /// Ciphertext waiting to be written to the socket.
    pub fn take_output(&mut self, out: &mut Vec<u8>) {
        while self.conn.wants_write() {
            if self.conn.write_tls(out).is_err() {
                break;
            }
        }
    }

    pub fn is_handshaking(&self) -> bool {
        self.conn.is_handshaking()
    }

    /// The protocol ALPN chose, once the handshake is done.
    pub fn alpn(&self) -> Option<&[u8]> {
        self.conn.alpn_protocol()
    }

    /// Queues a close_notify alert.
    pub fn close(&mut self) {
        self.conn.send_close_notify();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::ServerName;
    use rustls::{ClientConfig, ClientConnection, RootCertStore};

    fn write_pair(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, CertificateDer<'static>) {
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let c = dir.join("cert.pem");
        let k = dir.join("key.pem");
        std::fs::write(&c, cert.cert.pem()).unwrap();
        std::fs::write(&k, cert.key_pair.serialize_pem()).unwrap();
        (c, k, cert.cert.der().clone())
    }

    #[test]
    fn handshake_negotiates_spdy31_and_moves_data_both_ways_c1() {
        let dir = std::env::temp_dir().join(format!("spdygate-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (c, k, der) = write_pair(&dir);
        let config = server_config(&c, &k, &crate::config::default_alpn()).unwrap();
        let mut server = TlsSession::new(config).unwrap();

        let mut roots = RootCertStore::empty();
        roots.add(der).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut cc = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        cc.alpn_protocols = vec![b"http/1.1".to_vec(), b"spdy/3".to_vec(), b"spdy/3.1".to_vec()];
        let mut client = ClientConnection::new(Arc::new(cc), ServerName::try_from("localhost").unwrap()).unwrap();

        let mut plain = Vec::new();
        client.writer().write_all(b"hello gateway").unwrap();
        for _ in 0..10 {
            let mut wire = Vec::new();
            while client.wants_write() {
                client.write_tls(&mut wire).unwrap();
            }
            server.recv(&wire, &mut plain).unwrap();
            let mut back = Vec::new();
            server.take_output(&mut back);
            let mut slice = &back[..];
            while !slice.is_empty() {
                client.read_tls(&mut slice).unwrap();
                client.process_new_packets().unwrap();
            }
            if !server.is_handshaking() && plain.len() == 13 {
                break;
            }
        }
        assert_eq!(plain, b"hello gateway");
        // Server preference wins (CONFORMANCE C1): spdy/3.1 over spdy/3 and http/1.1.
        assert_eq!(server.alpn(), Some(&b"spdy/3.1"[..]));
        server.send(b"reply");
        let mut back = Vec::new();
        server.take_output(&mut back);
        let mut slice = &back[..];
        client.read_tls(&mut slice).unwrap();
        client.process_new_packets().unwrap();
        let mut got = [0u8; 5];
        client.reader().read_exact(&mut got).unwrap();
        assert_eq!(&got, b"reply");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn missing_files_name_the_path() {
        let e = server_config(Path::new("/nonexistent/c.pem"), Path::new("/nonexistent/k.pem"), &[]).err().unwrap();
        assert!(e.to_string().contains("/nonexistent/c.pem"), "{e}");
    }
}
