//! HEP as an input: `sipflow listen --hep udp:ADDR:PORT` (and `tcp:`) receives the HEP v2/v3
//! packets that heplify, Kamailio's siptrace, OpenSIPS, FreeSWITCH, Asterisk's `res_hep` or
//! `sngrep -H` send to a collector, and a file of HEPv3 packets back to back (format `hep`) is
//! read the same way.
//!
//! Each packet is one frame, decapsulated, framed and parsed as a capture's HEP payloads are
//! ([`super::capture::Feed`]): the message gets the packet's time (the agent's clock; the
//! arrival time when it sent none), its inner addresses and its transport. A collector may
//! require a password (HEPv3 chunk 0x0e) and accept only some capture agents (chunk 0x0c);
//! other packets are dropped and counted. Several listeners feed one input, in arrival order.
//! Memory is bounded: one packet per read (64 KiB), a queue of [`QUEUE`] packets between the
//! sockets and the reader, [`super::capture::Feed`]'s bounds after it.
//!
//! Owns: the sockets, HEP over TCP framing, authentication. Does not own: HEP decoding
//! (`capture::payload`), when output is written (`cli::stream`).

use std::io::{self, Read};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, SyncSender, sync_channel};
use std::time::Duration;

use bytes::Bytes;

use super::capture::payload::{HepSender, hep_sender, hep_v3_len};
use super::capture::{CaptureLog, Feed};
use super::{Format, IngestOptions, InputError, InputInfo, InputWarning, Piece, Source};
use crate::event::Timestamp;

/// Packets received and not yet read.
const QUEUE: usize = 4096;
/// How often the sockets look at the stop flag.
const POLL: Duration = Duration::from_millis(100);
/// The largest HEPv3 packet (its length field is 16 bits).
const MAX_PACKET: usize = 65_535;

/// Where a listener receives HEP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Udp(SocketAddr),
    Tcp(SocketAddr),
}

impl Endpoint {
    /// `udp:ADDR:PORT` or `tcp:ADDR:PORT` (IPv6 in brackets; a host name is resolved).
    pub fn parse(s: &str) -> Result<Self, String> {
        let (proto, addr) = s
            .split_once(':')
            .ok_or_else(|| format!("'{s}' is not udp:ADDR:PORT or tcp:ADDR:PORT"))?;
        let addr = addr
            .to_socket_addrs()
            .map_err(|e| format!("'{addr}': {e}"))?
            .next()
            .ok_or_else(|| format!("'{addr}' resolves to no address"))?;
        match proto.to_ascii_lowercase().as_str() {
            "udp" => Ok(Endpoint::Udp(addr)),
            "tcp" => Ok(Endpoint::Tcp(addr)),
            _ => Err(format!("'{proto}' is not udp or tcp")),
        }
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Udp(a) => write!(f, "udp:{a}"),
            Endpoint::Tcp(a) => write!(f, "tcp:{a}"),
        }
    }
}

/// What `sipflow listen` listens on, and which packets it takes.
#[derive(Debug, Clone, Default)]
pub struct Listen {
    pub endpoints: Vec<Endpoint>,
    /// Take only packets carrying this authentication key (HEPv3 chunk 0x0e).
    pub password: Option<String>,
    /// Take only packets of these capture agents (chunk 0x0c), when not empty.
    pub capture_ids: Vec<u32>,
}

impl Listen {
    /// The input's name: `hep udp:127.0.0.1:9060, tcp:…`.
    pub fn name(&self) -> String {
        let list: Vec<String> = self.endpoints.iter().map(Endpoint::to_string).collect();
        format!("hep {}", list.join(", "))
    }
}

/// A listener could not be started.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("cannot listen on {endpoint}")]
#[diagnostic(
    code(sipflow::listen::bind),
    help("check that the address is this host's and that no other program uses the port")
)]
pub struct BindError {
    pub endpoint: String,
    #[source]
    pub source: io::Error,
}

/// One packet a socket received.
struct Received {
    bytes: Vec<u8>,
    from: SocketAddr,
    to: SocketAddr,
    at: Timestamp,
}

/// The wall clock as a message time.
fn now() -> Timestamp {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
    Timestamp {
        micros,
        dated: true,
        micro: true,
        unknown: false,
    }
}

/// Which packets are taken, and what was dropped.
struct Gate<'a> {
    spec: &'a Listen,
    bad_password: u64,
    other_agent: u64,
}

impl Gate<'_> {
    /// Whether a payload's packets may be taken; counts it when not.
    fn admits(&mut self, bytes: &[u8]) -> bool {
        if self.spec.password.is_none() && self.spec.capture_ids.is_empty() {
            return true;
        }
        // What is not HEP goes on, to be reported as malformed when pushed.
        let HepSender::Agents(agents) = hep_sender(bytes) else {
            return true;
        };
        if let Some(p) = &self.spec.password
            && !agents
                .iter()
                .all(|(_, key)| key.as_deref() == Some(p.as_bytes()))
        {
            self.bad_password += 1;
            return false;
        }
        let ids = &self.spec.capture_ids;
        if !ids.is_empty()
            && !agents
                .iter()
                .all(|(id, _)| id.is_some_and(|id| agent_in(id, ids)))
        {
            self.other_agent += 1;
            return false;
        }
        true
    }

    fn warnings(&self, name: &str) -> Vec<InputWarning> {
        let mut out = Vec::new();
        if self.bad_password > 0 {
            out.push(InputWarning {
                name: name.to_string(),
                message: format!(
                    "{} HEP packet(s) dropped: no password, or another than --hep-password",
                    self.bad_password
                ),
            });
        }
        if self.other_agent > 0 {
            out.push(InputWarning {
                name: name.to_string(),
                message: format!(
                    "{} HEP packet(s) dropped: from a capture agent not in --hep-capture-id",
                    self.other_agent
                ),
            });
        }
        out
    }
}

/// Whether a packet's capture ID is one of `ids`. sngrep (1.6) writes its 16-bit ID in the
/// first two bytes of the 32-bit chunk (fixtures/hep/sngrep-auth.hep: ID 7 reads 0x00070000),
/// so that reading counts too.
fn agent_in(id: u32, ids: &[u32]) -> bool {
    ids.contains(&id) || (id & 0xffff == 0 && ids.contains(&(id >> 16)))
}

/// The input's description and warnings once it ends.
fn ended(
    name: &str,
    format: Format,
    log: &CaptureLog,
    more_warnings: u64,
    gate: Option<&Gate<'_>>,
) -> (InputInfo, Vec<InputWarning>) {
    let mut info = super::started(name, format, false);
    info.frames = Some(log.frames);
    info.messages = log.messages;
    info.truncated = log.truncated;
    let mut warnings = super::summarize_warnings(name, &log.warnings);
    if more_warnings > 0 {
        warnings.push(InputWarning {
            name: name.to_string(),
            message: format!("{more_warnings} more warning(s) about packets not listed"),
        });
    }
    warnings.extend(gate.map(|g| g.warnings(name)).unwrap_or_default());
    (info, warnings)
}

/// Listens on every endpoint of `spec` until `stop` is set, handing on each message as its
/// packet arrives. Fails only when an endpoint cannot be bound.
pub fn listen(
    spec: &Listen,
    opts: &IngestOptions,
    stop: &Arc<AtomicBool>,
    emit: &mut dyn FnMut(Piece),
) -> Result<(InputInfo, Vec<InputWarning>), InputError> {
    let name = spec.name();
    let (tx, rx) = sync_channel::<Received>(QUEUE);
    for &endpoint in &spec.endpoints {
        let bind_error = |source| {
            InputError::Listen(BindError {
                endpoint: endpoint.to_string(),
                source,
            })
        };
        let (tx, stop) = (tx.clone(), stop.clone());
        match endpoint {
            Endpoint::Udp(addr) => {
                let socket = UdpSocket::bind(addr).map_err(bind_error)?;
                socket.set_read_timeout(Some(POLL)).map_err(bind_error)?;
                std::thread::spawn(move || receive_udp(&socket, &tx, &stop));
            }
            Endpoint::Tcp(addr) => {
                let listener = TcpListener::bind(addr).map_err(bind_error)?;
                listener.set_nonblocking(true).map_err(bind_error)?;
                std::thread::spawn(move || accept_tcp(&listener, &tx, &stop));
            }
        }
    }
    drop(tx);
    emit(Piece::Started {
        info: super::started(&name, Format::HEP, false),
        source: Source::default(),
    });
    let mut feed = Feed::new(0, &opts.capture);
    let mut gate = Gate {
        spec,
        bad_password: 0,
        other_agent: 0,
    };
    loop {
        match rx.recv_timeout(POLL) {
            Ok(r) => {
                if gate.admits(&r.bytes) {
                    feed.push(Bytes::from(r.bytes), (r.from, r.to), r.at, &mut |e| {
                        emit(Piece::Event(e));
                    });
                }
            }
            Err(RecvTimeoutError::Timeout) if stop.load(Ordering::Relaxed) => break,
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    Ok(ended(
        &name,
        Format::HEP,
        &feed.log,
        feed.more_warnings,
        Some(&gate),
    ))
}

fn receive_udp(socket: &UdpSocket, tx: &SyncSender<Received>, stop: &AtomicBool) {
    let to = socket
        .local_addr()
        .unwrap_or(SocketAddr::from(([0, 0, 0, 0], 0)));
    let mut buf = vec![0u8; MAX_PACKET];
    while !stop.load(Ordering::Relaxed) {
        match socket.recv_from(&mut buf) {
            Ok((n, from)) => {
                let r = Received {
                    bytes: buf[..n].to_vec(),
                    from,
                    to,
                    at: now(),
                };
                if tx.send(r).is_err() {
                    return;
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // An ICMP error reported on the socket, or the like: keep listening.
            Err(_) => std::thread::sleep(POLL),
        }
    }
}

fn accept_tcp(listener: &TcpListener, tx: &SyncSender<Received>, stop: &Arc<AtomicBool>) {
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((conn, from)) => {
                let (tx, stop) = (tx.clone(), stop.clone());
                std::thread::spawn(move || receive_tcp(conn, from, &tx, &stop));
            }
            Err(_) => std::thread::sleep(POLL),
        }
    }
}

/// A TCP connection: HEPv3 packets back to back (HEPv1/v2 carry no length and cannot be
/// framed on a stream). A connection that sends anything else is closed.
fn receive_tcp(
    mut conn: TcpStream,
    from: SocketAddr,
    tx: &SyncSender<Received>,
    stop: &AtomicBool,
) {
    let to = conn
        .local_addr()
        .unwrap_or(SocketAddr::from(([0, 0, 0, 0], 0)));
    if conn.set_nonblocking(false).is_err() || conn.set_read_timeout(Some(POLL)).is_err() {
        return;
    }
    let mut framer = Framer::default();
    let mut buf = vec![0u8; MAX_PACKET];
    while !stop.load(Ordering::Relaxed) {
        match conn.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                let at = now();
                let Ok(packets) = framer.push(&buf[..n]) else {
                    return;
                };
                for bytes in packets {
                    if tx
                        .send(Received {
                            bytes,
                            from,
                            to,
                            at,
                        })
                        .is_err()
                    {
                        return;
                    }
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(_) => return,
        }
    }
}

/// HEPv3 packets cut out of a byte stream. Holds at most one packet's bytes.
#[derive(Default)]
struct Framer {
    buf: Vec<u8>,
}

/// The stream holds something that is not a HEPv3 packet (it cannot be framed further).
#[derive(Debug, PartialEq, Eq)]
struct NotHep3;

impl Framer {
    /// The packets `bytes` completes.
    fn push(&mut self, bytes: &[u8]) -> Result<Vec<Vec<u8>>, NotHep3> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        loop {
            if self.buf.len() < 6 {
                // Only a start of `HEP3` may wait for more.
                return if b"HEP3".starts_with(&self.buf[..self.buf.len().min(4)]) {
                    Ok(out)
                } else {
                    Err(NotHep3)
                };
            }
            let Some(len) = hep_v3_len(&self.buf).filter(|&n| n >= 6) else {
                return Err(NotHep3);
            };
            if self.buf.len() < len {
                return Ok(out);
            }
            out.push(self.buf.drain(..len).collect());
        }
    }
}

/// A file (or stream) of HEPv3 packets back to back, as a collector that wrote what it
/// received would keep them. Bytes that are not HEPv3 end it, with a warning.
pub(super) fn read_file(
    name: &str,
    r: &mut dyn Read,
    index: usize,
    opts: &IngestOptions,
    emit: &mut dyn FnMut(Piece),
) -> Result<(InputInfo, Vec<InputWarning>), InputError> {
    emit(Piece::Started {
        info: super::started(name, Format::HEP, false),
        source: Source::default(),
    });
    let mut feed = Feed::new(index, &opts.capture);
    let mut framer = Framer::default();
    let mut buf = vec![0u8; 64 << 10];
    let unknown = SocketAddr::from(([0, 0, 0, 0], 0));
    let mut bytes = 0u64;
    let mut not_hep = None;
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(source) => {
                return Err(InputError::Io {
                    name: name.to_string(),
                    source,
                });
            }
        };
        let Ok(packets) = framer.push(&buf[..n]) else {
            not_hep = Some(bytes);
            break;
        };
        bytes += n as u64;
        for p in packets {
            feed.push(
                Bytes::from(p),
                (unknown, unknown),
                Timestamp::UNKNOWN,
                &mut |e| emit(Piece::Event(e)),
            );
        }
    }
    let (mut info, mut warnings) = ended(name, Format::HEP, &feed.log, feed.more_warnings, None);
    info.bytes = bytes;
    let cut = framer.buf.len();
    if let Some(at) = not_hep {
        warnings.push(InputWarning {
            name: name.to_string(),
            message: format!(
                "bytes after packet {} (near byte {at}) are not HEPv3; the rest is skipped",
                feed.log.frames
            ),
        });
    } else if cut > 0 {
        warnings.push(InputWarning {
            name: name.to_string(),
            message: format!("the input ends {cut} bytes into a HEP packet"),
        });
    }
    Ok((info, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Event, MessageEvent};
    use crate::ingest::ingest_bytes;

    fn fixture(rel: &str) -> Vec<u8> {
        let path = format!("{}/fixtures/{rel}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(path).expect("fixture")
    }

    /// What must agree between a message seen in the capture and the same one sent over HEP.
    fn key(m: &MessageEvent) -> (i64, Option<String>, Option<String>, &'static str, Vec<u8>) {
        (
            m.ts.micros,
            m.src.as_deref().map(str::to_string),
            m.dst.as_deref().map(str::to_string),
            m.transport.as_str(),
            m.raw().to_vec(),
        )
    }

    fn messages(events: &[Event]) -> Vec<&MessageEvent> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Message(m) => Some(m),
                Event::Log(_) => None,
            })
            .collect()
    }

    /// The capture sngrep replayed, as `check` reads it.
    fn captured() -> Vec<Event> {
        let pcap = fixture("rules-severity/strict-proxy/call.pcap");
        ingest_bytes("call.pcap", pcap, &IngestOptions::default())
            .expect("capture")
            .2
    }

    /// Each datagram of a file written by `record.sh` with 2-byte lengths.
    fn datagrams(bytes: &[u8]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut rest = bytes;
        while let [a, b, tail @ ..] = rest {
            let n = usize::from(u16::from_be_bytes([*a, *b])).min(tail.len());
            out.push(tail[..n].to_vec());
            rest = &tail[n..];
        }
        out
    }

    /// Events of payloads pushed one by one, as a listener pushes what it receives.
    fn fed(packets: &[Vec<u8>]) -> (Vec<Event>, Feed) {
        let mut feed = Feed::new(0, &IngestOptions::default().capture);
        let mut events = Vec::new();
        let any = SocketAddr::from(([127, 0, 0, 1], 9));
        for p in packets {
            feed.push(Bytes::from(p.clone()), (any, any), now(), &mut |e| {
                events.push(e);
            });
        }
        (events, feed)
    }

    #[test]
    fn what_sngrep_sent_as_hep3_is_the_capture_it_replayed() {
        let bytes = fixture("hep/sngrep-call.hep");
        let read = crate::ingest::ingest_reader(
            "sngrep-call.hep",
            Box::new(std::io::Cursor::new(bytes)),
            0,
            &IngestOptions::default(),
        )
        .expect("hep");
        assert_eq!(read.info.format.name, "hep");
        assert!(read.warnings.is_empty(), "{:?}", read.warnings);
        let want = captured();
        let want: Vec<_> = messages(&want).into_iter().map(key).collect();
        let got: Vec<_> = messages(&read.events).into_iter().map(key).collect();
        assert_eq!(want.len(), 17, "every frame of the capture is a message");
        assert_eq!(
            got, want,
            "times, addresses, transport and bytes from the HEP chunks"
        );
    }

    #[test]
    fn what_sngrep_sent_as_hep2_is_the_capture_it_replayed() {
        let packets = datagrams(&fixture("hep/sngrep-v2.datagrams"));
        assert!(packets.iter().all(|p| p.first() == Some(&2)), "HEPv2");
        let (events, feed) = fed(&packets);
        assert!(feed.log.warnings.is_empty(), "{:?}", feed.log.warnings);
        let want = captured();
        let want: Vec<_> = messages(&want).into_iter().map(key).collect();
        let got: Vec<_> = messages(&events).into_iter().map(key).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn a_password_and_capture_ids_admit_only_their_agents_packets() {
        let mut with_key = Vec::new();
        let mut framer = Framer::default();
        with_key.extend(framer.push(&fixture("hep/sngrep-auth.hep")).expect("HEP3"));
        let mut plain = Vec::new();
        plain.extend(framer.push(&fixture("hep/sngrep-call.hep")).expect("HEP3"));
        assert_eq!((with_key.len(), plain.len()), (17, 17));
        let admitted = |spec: &Listen, packets: &[Vec<u8>]| {
            let mut gate = Gate {
                spec,
                bad_password: 0,
                other_agent: 0,
            };
            let n = packets.iter().filter(|p| gate.admits(p)).count();
            (n, gate.bad_password, gate.other_agent)
        };
        let password = |p: &str| Listen {
            password: Some(p.into()),
            ..Listen::default()
        };
        assert_eq!(admitted(&password("s3cret"), &with_key), (17, 0, 0));
        assert_eq!(admitted(&password("s3cret"), &plain), (0, 17, 0));
        assert_eq!(admitted(&password("wrong"), &with_key), (0, 17, 0));
        let ids = |ids: Vec<u32>| Listen {
            capture_ids: ids,
            ..Listen::default()
        };
        // sngrep's default capture ID is 2002; the auth recording set 7.
        assert_eq!(admitted(&ids(vec![7]), &with_key), (17, 0, 0));
        assert_eq!(admitted(&ids(vec![2002]), &with_key), (0, 0, 17));
        assert_eq!(admitted(&ids(vec![2002, 9]), &plain), (17, 0, 0));
        assert_eq!(admitted(&Listen::default(), &plain), (17, 0, 0));
        let mut gate = Gate {
            spec: &password("x"),
            bad_password: 2,
            other_agent: 0,
        };
        assert!(gate.admits(b"not HEP: reported when pushed"));
        assert_eq!(gate.warnings("hep").len(), 1);
    }

    #[test]
    fn hostile_packets_are_warnings_never_panics_and_warnings_stay_bounded() {
        let mut framer = Framer::default();
        let real = framer.push(&fixture("hep/sngrep-call.hep")).expect("HEP3");
        let mut hostile: Vec<Vec<u8>> = Vec::new();
        for p in &real {
            // Every cut of a real packet, and every byte of its header flipped.
            hostile.extend((0..p.len()).map(|n| p[..n].to_vec()));
            for i in 0..p.len().min(120) {
                let mut q = p.clone();
                q[i] ^= 0xff;
                hostile.push(q);
            }
        }
        // A length that claims more than was sent, chunks of length 0 and 65535.
        hostile.push(vec![72, 69, 80, 51, 255, 255]);
        hostile.push(vec![72, 69, 80, 51, 0, 12, 0, 0, 0, 1, 0, 0]);
        hostile.push(vec![72, 69, 80, 51, 0, 12, 0, 0, 0, 15, 255, 255]);
        hostile.push(vec![2, 16, 2, 17, 0, 1, 0, 2, 127, 0, 0, 1]);
        let (events, feed) = fed(&hostile);
        assert!(feed.log.warnings.len() <= Feed::MAX_WARNINGS);
        assert!(feed.more_warnings > 0, "the rest counted");
        assert!(feed.log.frames == hostile.len() as u64);
        // Whole packets among them still give their message.
        assert!(!events.is_empty());
    }

    #[test]
    fn endpoints_parse_and_show_as_given() {
        let e = Endpoint::parse("udp:127.0.0.1:6200").expect("udp");
        assert_eq!(e, Endpoint::Udp(SocketAddr::from(([127, 0, 0, 1], 6200))));
        assert_eq!(e.to_string(), "udp:127.0.0.1:6200");
        let e = Endpoint::parse("TCP:[::1]:6201").expect("tcp");
        assert_eq!(e.to_string(), "tcp:[::1]:6201");
        for bad in [
            "127.0.0.1:6200",
            "sctp:127.0.0.1:1",
            "udp:127.0.0.1",
            "udp:",
        ] {
            assert!(Endpoint::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_framer_cuts_packets_in_any_chunking_and_refuses_other_bytes() {
        let packet = |len: u16| {
            let mut p = b"HEP3".to_vec();
            p.extend_from_slice(&len.to_be_bytes());
            p.resize(usize::from(len), 0xaa);
            p
        };
        let stream: Vec<u8> = [packet(10), packet(6), packet(300)].concat();
        for chunk in 1..stream.len() {
            let mut f = Framer::default();
            let mut got = Vec::new();
            for piece in stream.chunks(chunk) {
                got.extend(f.push(piece).expect("HEP3"));
            }
            assert_eq!(
                got,
                vec![packet(10), packet(6), packet(300)],
                "chunk {chunk}"
            );
            assert!(f.buf.is_empty());
        }
        assert_eq!(Framer::default().push(b"INVITE sip:a"), Err(NotHep3));
        // A length below the header's own size would never advance.
        assert_eq!(Framer::default().push(b"HEP3\0\x02rest"), Err(NotHep3));
    }
}
