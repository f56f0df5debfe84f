//! Hostile peers: every misbehaviour a remote can attempt through the bytes it sends (or does not
//! send, or does not read), driven through the public API with virtual time. Each test asserts
//! the defined outcome (the disconnect reason, or that there is none) and that the memory the
//! peer holds stays under a stated bound: `buffered_input()`, `unsent_bytes()`,
//! `queued_frames()`, and the peak of live heap bytes measured by the counting allocator below
//! (per thread, so tests running in parallel do not disturb each other).

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Duration;

use bitpeer::network::Chain;
use bitpeer::peer::{Config, DisconnectReason, Event, Phase};
use bitpeer::wire::{
    Command, DecodeError, Field, FrameError, GetBlocks, Hash256, InvType, InvVect, Message,
    MessageError, ReadError, Reject, RejectCode, ServiceFlags, Version, checksum,
};
use bitpeer::{Network, PeerState, Time};
use common::{EPOCH, addr, cfg, drain_events, drain_sent, frame};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

// ---------------------------------------------------------------------------------------------
// A counting allocator: live and peak heap bytes of the current thread.
// ---------------------------------------------------------------------------------------------

struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn track(delta: isize) {
    let _ = LIVE.try_with(|live| {
        let v = live.get() + delta;
        live.set(v);
        let _ = PEAK.try_with(|peak| {
            if v > peak.get() {
                peak.set(v)
            }
        });
    });
}

// SAFETY: every call forwards to the system allocator unchanged; the bookkeeping only touches
// const-initialized thread-locals of `Copy` type, which neither allocate nor need destructors.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            track(layout.size() as isize);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            track(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        track(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            track(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Measures heap use on this thread from the moment it is created.
struct Meter {
    base: isize,
}

impl Meter {
    fn start() -> Meter {
        let base = LIVE.with(Cell::get);
        PEAK.with(|p| p.set(base));
        Meter { base }
    }

    /// Highest live heap bytes above the start, so far.
    fn peak(&self) -> usize {
        (PEAK.with(Cell::get) - self.base).max(0) as usize
    }

    /// Live heap bytes above the start, now.
    fn live(&self) -> isize {
        LIVE.with(Cell::get) - self.base
    }
}

// ---------------------------------------------------------------------------------------------
// A scripted remote.
// ---------------------------------------------------------------------------------------------

const NET: Network = Network::BITCOIN_REGTEST;
const KIB: usize = 1024;

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn inbound(config: Config) -> PeerState {
    PeerState::inbound(
        config,
        addr("192.0.2.66:40000"),
        EPOCH,
        &mut ChaCha20Rng::seed_from_u64(66),
    )
}

fn remote_version(version: i32, services: ServiceFlags) -> Message {
    Message::Version(Version {
        protocol_version: version,
        services,
        timestamp: EPOCH.as_secs() as i64,
        nonce: 0x4854_4f53_5449_4c45,
        user_agent: "/hostile:6.6.6/".into(),
        start_height: 1,
        ..Default::default()
    })
}

/// An inbound peer that completed the handshake with a scripted remote at `version`.
fn active_with(config: Config, version: i32, services: ServiceFlags) -> PeerState {
    let mut peer = inbound(config);
    peer.handle_input(
        EPOCH,
        &frame(NET, &remote_version(version, services), version as u32),
    );
    drain_sent(&mut peer, EPOCH);
    peer.handle_input(EPOCH, &frame(NET, &Message::Verack, version as u32));
    assert!(peer.is_ready());
    drain_events(&mut peer);
    peer
}

fn active() -> PeerState {
    active_with(cfg(), 70016, ServiceFlags::NETWORK | ServiceFlags::WITNESS)
}

/// A frame with a hand-made header: any command bytes, any announced length, the payload's
/// real checksum.
fn raw_frame(magic: [u8; 4], command: &[u8], len: u32, payload: &[u8]) -> Vec<u8> {
    let mut f = magic.to_vec();
    let mut cmd = [0u8; 12];
    cmd[..command.len()].copy_from_slice(command);
    f.extend_from_slice(&cmd);
    f.extend_from_slice(&len.to_le_bytes());
    f.extend_from_slice(&checksum(Chain::Bitcoin, payload));
    f.extend_from_slice(payload);
    f
}

/// A well-formed frame carrying an arbitrary (possibly invalid) payload.
fn payload_frame(command: &str, payload: &[u8]) -> Vec<u8> {
    raw_frame(
        NET.magic_bytes(),
        command.as_bytes(),
        payload.len() as u32,
        payload,
    )
}

fn only_disconnect(peer: &mut PeerState) -> DisconnectReason {
    let events = drain_events(peer);
    match events.as_slice() {
        [Event::Disconnected(r)] => r.clone(),
        other => panic!("expected exactly one Disconnected, got {other:?}"),
    }
}

fn payload_error(reason: &DisconnectReason) -> (Command, DecodeError) {
    match reason {
        DisconnectReason::Malformed(ReadError::Message(MessageError { command, error })) => {
            (*command, error.clone())
        }
        r => panic!("expected a payload decode error, got {r:?}"),
    }
}

fn frame_error(reason: &DisconnectReason) -> FrameError {
    match reason {
        DisconnectReason::Malformed(ReadError::Frame(e)) => e.clone(),
        r => panic!("expected a frame error, got {r:?}"),
    }
}

/// The farewell `reject malformed` a Bitcoin peer writes after a read error once active.
fn assert_reject_malformed(peer: &mut PeerState) {
    match drain_sent(peer, EPOCH).as_slice() {
        [Message::Reject(r)] => {
            assert_eq!(
                (r.command.as_str(), r.code),
                ("malformed", RejectCode::MALFORMED)
            )
        }
        s => panic!("expected one reject, got {s:?}"),
    }
    assert!(peer.poll_transmit().is_none());
}

/// Sends `payload` as `command` to an active peer: the decoder refuses it with a count or
/// length error for `field`, the peer says so and disconnects; no allocation proportional to
/// the claimed count happens.
fn assert_over_limit(command: &str, payload: &[u8], field: Field) {
    let mut peer = active();
    let meter = Meter::start();
    peer.handle_input(EPOCH, &payload_frame(command, payload));
    let reason = only_disconnect(&mut peer);
    let (cmd, err) = payload_error(&reason);
    assert_eq!(cmd.as_str(), command);
    match err {
        DecodeError::TooMany { field: f, .. } | DecodeError::TooLong { field: f, .. } => {
            assert_eq!(f, field)
        }
        e => panic!("expected a limit error on {field:?}, got {e:?}"),
    }
    assert_reject_malformed(&mut peer);
    // The payload itself plus bookkeeping; never the claimed count times the entry size.
    assert!(
        meter.peak() < payload.len() + 16 * KIB,
        "peak {} for a {}-byte payload",
        meter.peak(),
        payload.len()
    );
    assert_eq!(peer.buffered_input(), 0);
    assert_held(&peer, 0, 0, 0);
}

/// The memory a peer holds: at most `buffered` bytes of partial input, `frames` queued frames
/// and `unsent` bytes not yet written.
fn assert_held(peer: &PeerState, buffered: usize, frames: usize, unsent: usize) {
    assert!(
        peer.buffered_input() <= buffered,
        "{} bytes buffered, bound {buffered}",
        peer.buffered_input()
    );
    assert!(
        peer.queued_frames() <= frames,
        "{} frames queued, bound {frames}",
        peer.queued_frames()
    );
    assert!(
        peer.unsent_bytes() <= unsent,
        "{} bytes unsent, bound {unsent}",
        peer.unsent_bytes()
    );
}

/// The farewell reject a peer may still hold after a disconnect: one frame, its reason text
/// included.
const FAREWELL: usize = 512;

/// CompactSize in its shortest form.
fn compact(n: u64) -> Vec<u8> {
    match n {
        0..=0xfc => vec![n as u8],
        0xfd..=0xffff => [&[0xfd][..], &(n as u16).to_le_bytes()].concat(),
        0x1_0000..=0xffff_ffff => [&[0xfe][..], &(n as u32).to_le_bytes()].concat(),
        _ => [&[0xff][..], &n.to_le_bytes()].concat(),
    }
}

// ---------------------------------------------------------------------------------------------
// Slow and silent peers.
// ---------------------------------------------------------------------------------------------

/// Slowloris before the handshake: 10 bytes of a header, then silence ⇒ HandshakeTimeout at
/// exactly 30 s; the 10 bytes are all that is held.
#[test]
fn slowloris_partial_header_times_out_the_handshake_at_30s() {
    let mut peer = inbound(cfg());
    let meter = Meter::start();
    peer.handle_input(
        EPOCH,
        &frame(NET, &remote_version(70016, ServiceFlags::NONE), 70016)[..10],
    );
    assert_eq!(peer.buffered_input(), 10);
    assert_eq!(peer.poll_timeout(), Some(EPOCH + secs(30)));
    peer.handle_timeout((EPOCH + secs(30)).saturating_sub(Duration::from_micros(1)));
    assert!(drain_events(&mut peer).is_empty());
    peer.handle_timeout(EPOCH + secs(30));
    assert_eq!(
        only_disconnect(&mut peer),
        DisconnectReason::HandshakeTimeout
    );
    assert!(meter.peak() < 4 * KIB, "peak {}", meter.peak());
}

/// Slowloris after the handshake: a partial header trickled in, never completed ⇒ IdleTimeout
/// at exactly 5 min after the last complete message; partial bytes do not count as activity.
#[test]
fn slowloris_after_handshake_idles_out_at_five_minutes() {
    let mut peer = active();
    let meter = Meter::start();
    let ping = frame(NET, &Message::Ping(1), 70016);
    let mut t = EPOCH;
    for (i, b) in ping[..20].iter().enumerate() {
        t = EPOCH + secs(10 * (i as u64 + 1));
        peer.handle_input(t, &[*b]);
        peer.handle_timeout(t);
        drain_sent(&mut peer, t); // our pings go out; nobody answers
        assert!(drain_events(&mut peer).is_empty(), "at {t:?}");
        assert_eq!(peer.buffered_input(), i + 1);
    }
    assert!(t < EPOCH + secs(300));
    assert_eq!(peer.poll_timeout(), Some(EPOCH + secs(240)), "second ping");
    peer.handle_timeout(EPOCH + secs(240));
    drain_sent(&mut peer, EPOCH + secs(240));
    assert_eq!(peer.poll_timeout(), Some(EPOCH + secs(300)));
    peer.handle_timeout((EPOCH + secs(300)).saturating_sub(Duration::from_micros(1)));
    assert!(peer.is_ready());
    peer.handle_timeout(EPOCH + secs(300));
    assert_eq!(only_disconnect(&mut peer), DisconnectReason::IdleTimeout);
    // Our two pings and the test's own decoding of them; the partial header is 20 bytes.
    assert!(meter.peak() < 16 * KIB, "peak {}", meter.peak());
}

/// A header announcing a 3 999 000-byte block, then one byte every 10 s ⇒ the peer holds the
/// bytes received (header + payload so far), about 64 KiB of buffer at most, never 4 MB; the
/// idle timeout still fires 5 min after the last complete message.
#[test]
fn four_megabyte_block_header_then_trickle_holds_only_what_arrived() {
    let mut peer = active();
    let meter = Meter::start();
    let claimed = 3_999_000u32;
    peer.handle_input(
        EPOCH,
        &raw_frame(NET.magic_bytes(), b"block", claimed, &[])[..24],
    );
    assert_eq!(peer.buffered_input(), 24);
    let mut received = 0;
    let mut t = EPOCH;
    while t < EPOCH + secs(290) {
        t = t + secs(10);
        peer.handle_input(t, &[0x42]);
        received += 1;
        peer.handle_timeout(t);
        drain_sent(&mut peer, t);
        assert_eq!(peer.buffered_input(), 24 + received);
    }
    assert!(drain_events(&mut peer).is_empty());
    assert!(
        meter.peak() < 80 * KIB,
        "peak {} for {received} bytes",
        meter.peak()
    );
    peer.handle_timeout(EPOCH + secs(300));
    assert_eq!(only_disconnect(&mut peer), DisconnectReason::IdleTimeout);
}

/// A payload length over 4 000 000 ⇒ refused from the header alone (PayloadTooLarge), nothing
/// of the payload buffered, a reject malformed, disconnect.
#[test]
fn length_over_four_million_is_refused_from_the_header() {
    let mut peer = active();
    let meter = Meter::start();
    peer.handle_input(
        EPOCH,
        &raw_frame(NET.magic_bytes(), b"block", 4_000_001, &[0; 100]),
    );
    let reason = only_disconnect(&mut peer);
    assert_eq!(
        frame_error(&reason),
        FrameError::PayloadTooLarge {
            len: 4_000_001,
            max: 4_000_000
        }
    );
    assert_reject_malformed(&mut peer);
    assert_eq!(peer.buffered_input(), 0);
    // The reject's text and frame, not the announced payload.
    assert!(meter.peak() < 8 * KIB, "peak {}", meter.peak());
}

/// A length within the global cap but over the command's own cap (a 9-byte ping) ⇒
/// PayloadTooLargeForCommand before any payload byte is buffered.
#[test]
fn length_over_the_command_cap_is_refused_from_the_header() {
    let mut peer = active();
    peer.handle_input(EPOCH, &raw_frame(NET.magic_bytes(), b"ping", 9, &[0; 9]));
    assert_eq!(
        frame_error(&only_disconnect(&mut peer)),
        FrameError::PayloadTooLargeForCommand {
            command: Command::PING,
            len: 9,
            max: 8
        }
    );
    assert_eq!(peer.buffered_input(), 0);
}

// ---------------------------------------------------------------------------------------------
// Malformed encodings and counts over every limit.
// ---------------------------------------------------------------------------------------------

/// An inv count written as `fd 01 00` (1 in three bytes) ⇒ NonCanonicalCompactSize, disconnect.
#[test]
fn non_canonical_varint_is_malformed() {
    let mut peer = active();
    let mut payload = vec![0xfd, 0x01, 0x00];
    payload.extend_from_slice(&[0; 36]);
    peer.handle_input(EPOCH, &payload_frame("inv", &payload));
    let (cmd, err) = payload_error(&only_disconnect(&mut peer));
    assert_eq!(
        (cmd, err),
        (Command::INV, DecodeError::NonCanonicalCompactSize)
    );
    assert_reject_malformed(&mut peer);
    assert_held(&peer, 0, 0, 0);
}

/// An inv claiming 50 001 entries ⇒ TooMany(InvVectors) before any entry is read.
#[test]
fn inv_over_50000_entries() {
    assert_over_limit("inv", &compact(50_001), Field::InvVectors);
}

/// A getdata claiming 50 001 entries ⇒ TooMany(InvVectors).
#[test]
fn getdata_over_50000_entries() {
    assert_over_limit("getdata", &compact(50_001), Field::InvVectors);
}

/// A notfound claiming 50 001 entries ⇒ TooMany(InvVectors).
#[test]
fn notfound_over_50000_entries() {
    assert_over_limit("notfound", &compact(50_001), Field::InvVectors);
}

/// An inv claiming 4 294 967 295 entries in a 5-byte payload ⇒ TooMany, no allocation for it.
#[test]
fn inv_claiming_four_billion_entries() {
    assert_over_limit("inv", &compact(u32::MAX as u64), Field::InvVectors);
}

/// An addr with 1001 entries ⇒ TooMany(Addresses).
#[test]
fn addr_over_1000_entries() {
    assert_over_limit("addr", &compact(1001), Field::Addresses);
}

/// An addrv2 with 1001 entries ⇒ TooMany(Addresses).
#[test]
fn addrv2_over_1000_entries() {
    assert_over_limit("addrv2", &compact(1001), Field::Addresses);
}

/// A headers message with 2001 headers ⇒ TooMany(Headers).
#[test]
fn headers_over_2000() {
    assert_over_limit("headers", &compact(2001), Field::Headers);
}

/// A getblocks locator of 501 hashes ⇒ TooMany(Locators).
#[test]
fn getblocks_over_500_locators() {
    let payload = [&70016u32.to_le_bytes()[..], &compact(501)].concat();
    assert_over_limit("getblocks", &payload, Field::Locators);
}

/// A getheaders locator of 501 hashes ⇒ TooMany(Locators).
#[test]
fn getheaders_over_500_locators() {
    let payload = [&0u32.to_le_bytes()[..], &compact(501)].concat();
    assert_over_limit("getheaders", &payload, Field::Locators);
}

/// A cfheaders with 2001 filter hashes ⇒ TooMany(FilterHeaders).
#[test]
fn cfheaders_over_2000() {
    let payload = [&[0u8][..], &[7; 64], &compact(2001)].concat();
    assert_over_limit("cfheaders", &payload, Field::FilterHeaders);
}

/// A cfcheckpt with 100 001 filter headers ⇒ TooMany(FilterHeaders).
#[test]
fn cfcheckpt_over_100000() {
    let payload = [&[0u8][..], &[7; 32], &compact(100_001)].concat();
    assert_over_limit("cfcheckpt", &payload, Field::FilterHeaders);
}

/// A block claiming 400 002 transactions ⇒ TooMany(Transactions).
#[test]
fn block_over_400001_transactions() {
    let payload = [&[0u8; 80][..], &compact(400_002)].concat();
    assert_over_limit("block", &payload, Field::Transactions);
}

/// A filterload whose filter claims 36 001 bytes ⇒ TooLong(BloomFilter), even from a peer we
/// offer NODE_BLOOM to; and a payload over the 36 012-byte cap is refused from the header.
#[test]
fn filterload_over_36000_bytes() {
    let payload = [&compact(36_001)[..], &[0xff; 64]].concat();
    assert_over_limit("filterload", &payload, Field::BloomFilter);
    let bloom = cfg().services(ServiceFlags::NETWORK | ServiceFlags::BLOOM);
    let mut peer = active_with(bloom, 70016, ServiceFlags::NETWORK);
    let big = [&compact(36_001)[..], &[0xff; 36_001], &[0; 9]].concat();
    peer.handle_input(EPOCH, &payload_frame("filterload", &big));
    assert_eq!(
        frame_error(&only_disconnect(&mut peer)),
        FrameError::PayloadTooLargeForCommand {
            command: Command::FILTERLOAD,
            len: big.len() as u32,
            max: 36_012
        }
    );
    assert_eq!(peer.buffered_input(), 0);
    assert_held(&peer, 0, 1, FAREWELL);
}

/// A filterload with 51 hash functions ⇒ TooMany(HashFuncs).
#[test]
fn filterload_over_50_hash_functions() {
    let payload = [&compact(1)[..], &[0xff], &51u32.to_le_bytes(), &[0; 5]].concat();
    assert_over_limit("filterload", &payload, Field::HashFuncs);
}

/// A filteradd element of 521 bytes ⇒ TooLong(FilterAddData).
#[test]
fn filteradd_over_520_bytes() {
    let payload = [&compact(521)[..], &[1; 100]].concat();
    assert_over_limit("filteradd", &payload, Field::FilterAddData);
}

/// A version whose user agent is 257 bytes ⇒ TooLong(UserAgent) before the handshake (no
/// reject: only an active peer gets one); a 10 KB user agent does not even pass the header
/// (the version cap is 358 bytes), so nothing of it is buffered.
#[test]
fn oversized_user_agents() {
    let mut v = match remote_version(70016, ServiceFlags::NETWORK) {
        Message::Version(v) => v,
        _ => unreachable!(),
    };
    let ua_at = |v: &Version, len: usize| {
        let mut payload = frame(NET, &Message::Version(v.clone()), 70016)[24..].to_vec();
        // Replace the 15-byte user agent (varint + bytes) by one of `len` bytes.
        let start = 4 + 8 + 8 + 26 + 26 + 8;
        let old = 1 + v.user_agent.len();
        payload.splice(
            start..start + old,
            [compact(len as u64), vec![b'A'; len]].concat(),
        );
        payload
    };
    v.user_agent = "/hostile:6.6.6/".into();
    let mut peer = inbound(cfg());
    peer.handle_input(EPOCH, &payload_frame("version", &ua_at(&v, 257)));
    let (cmd, err) = payload_error(&only_disconnect(&mut peer));
    assert_eq!(cmd, Command::VERSION);
    assert!(matches!(
        err,
        DecodeError::TooLong {
            field: Field::UserAgent,
            len: 257,
            max: 256
        }
    ));
    assert!(
        drain_sent(&mut peer, EPOCH).is_empty(),
        "no reject before the handshake"
    );

    let mut peer = inbound(cfg());
    let huge = payload_frame("version", &ua_at(&v, 10_000));
    let meter = Meter::start();
    for chunk in huge.chunks(512) {
        peer.handle_input(EPOCH, chunk);
        assert!(peer.buffered_input() <= 24);
    }
    assert!(matches!(
        frame_error(&only_disconnect(&mut peer)),
        FrameError::PayloadTooLargeForCommand {
            command: Command::VERSION,
            max: 358,
            ..
        }
    ));
    assert!(meter.peak() < 4 * KIB, "peak {}", meter.peak());
    assert_held(&peer, 0, 0, 0);
}

/// A user agent of 256 bytes that are not UTF-8 ⇒ accepted (btcd does not validate it), but the
/// replacement characters are cut so the stored user agent stays within 256 bytes and our own
/// encoder accepts it (regression: it grew to 768 bytes, which `encode` refused).
#[test]
fn non_utf8_user_agent_stays_within_256_bytes() {
    let v = frame(NET, &remote_version(70016, ServiceFlags::NETWORK), 70016);
    let mut payload = v[24..].to_vec();
    let start = 4 + 8 + 8 + 26 + 26 + 8;
    let old = 1 + "/hostile:6.6.6/".len();
    payload.splice(start..start + old, [compact(256), vec![0xff; 256]].concat());
    let mut peer = inbound(cfg());
    peer.handle_input(EPOCH, &payload_frame("version", &payload));
    assert_eq!(peer.phase(), Phase::AwaitVerack);
    assert!(drain_events(&mut peer).is_empty());
    let ua = peer.user_agent();
    assert!(
        ua.len() <= 256 && ua.starts_with('\u{fffd}'),
        "{} bytes",
        ua.len()
    );
    let back = peer
        .remote_version_message()
        .cloned()
        .expect("version known");
    let mut out = bytes::BytesMut::new();
    bitpeer::wire::encode_message(
        NET,
        &Message::Version(back),
        &bitpeer::wire::Context::BITCOIN,
        &mut out,
    )
    .expect("a decoded version re-encodes");
    assert_held(&peer, 0, 4, 1024);
}

/// An addrv2 entry of an unknown network claiming a 513-byte address, and one claiming a
/// 4 GiB address ⇒ InvalidAddressSize before the address is read or allocated.
#[test]
fn huge_addrv2_address_length() {
    for len in [513u64, u32::MAX as u64] {
        let mut peer = active();
        let meter = Meter::start();
        let entry = [
            &compact(1)[..],
            &[0; 4],     // time
            &compact(1), // services
            &[0x7f],     // unknown network id
            &compact(len),
            &[0xaa; 32],
        ]
        .concat();
        peer.handle_input(EPOCH, &payload_frame("addrv2", &entry));
        let (cmd, err) = payload_error(&only_disconnect(&mut peer));
        assert_eq!(cmd, Command::ADDRV2);
        assert_eq!(
            err,
            DecodeError::InvalidAddressSize {
                network_id: 0x7f,
                len
            }
        );
        assert!(meter.peak() < 16 * KIB, "peak {}", meter.peak());
    }
}

/// A segwit transaction whose flag byte is 0x02 instead of 0x01 ⇒ BadWitnessFlag(2).
#[test]
fn wrong_witness_flag() {
    let mut peer = active();
    let mut tx = vec![2, 0, 0, 0, 0x00, 0x02, 1];
    tx.extend_from_slice(&[7; 36]);
    tx.extend_from_slice(&[0, 0xff, 0xff, 0xff, 0xff, 0, 1, 1, 0xaa, 0, 0, 0, 0]);
    peer.handle_input(EPOCH, &payload_frame("tx", &tx));
    let (cmd, err) = payload_error(&only_disconnect(&mut peer));
    assert_eq!((cmd, err), (Command::TX, DecodeError::BadWitnessFlag(2)));
    assert_reject_malformed(&mut peer);
    assert_held(&peer, 0, 0, 0);
}

/// A headers entry claiming a transaction count of 1 ⇒ HeaderContainsTxs(1).
#[test]
fn headers_with_transactions() {
    let mut peer = active();
    let payload = [&compact(1)[..], &[0; 80], &[1]].concat();
    peer.handle_input(EPOCH, &payload_frame("headers", &payload));
    let (_, err) = payload_error(&only_disconnect(&mut peer));
    assert_eq!(err, DecodeError::HeaderContainsTxs(1));
    assert_held(&peer, 0, 1, FAREWELL);
}

/// A well-formed getheaders followed by one extra payload byte ⇒ TrailingBytes { extra: 1 }.
#[test]
fn trailing_bytes_after_the_payload() {
    let mut peer = active();
    let msg = Message::GetHeaders(GetBlocks {
        version: 0,
        locator: vec![Hash256([1; 32])],
        stop: Hash256::ZERO,
    });
    let mut payload = frame(NET, &msg, 70016)[24..].to_vec();
    payload.push(0);
    peer.handle_input(EPOCH, &payload_frame("getheaders", &payload));
    let (cmd, err) = payload_error(&only_disconnect(&mut peer));
    assert_eq!(
        (cmd, err),
        (Command::GETHEADERS, DecodeError::TrailingBytes { extra: 1 })
    );
    assert_reject_malformed(&mut peer);
    assert_held(&peer, 0, 0, 0);
}

/// A lying count within the limit (inv says 50 000, carries 2) ⇒ Truncated; the list
/// allocated is sized by the bytes present, not by the count.
#[test]
fn lying_inv_count_allocates_by_bytes_present() {
    let mut peer = active();
    let meter = Meter::start();
    let payload = [&compact(50_000)[..], &[3; 72]].concat();
    peer.handle_input(EPOCH, &payload_frame("inv", &payload));
    let (_, err) = payload_error(&only_disconnect(&mut peer));
    assert!(matches!(err, DecodeError::Truncated { .. }), "{err:?}");
    assert!(meter.peak() < 8 * KIB, "peak {}", meter.peak());
    assert_held(&peer, 0, 1, FAREWELL);
}

// ---------------------------------------------------------------------------------------------
// Bad frames.
// ---------------------------------------------------------------------------------------------

/// A frame whose checksum does not match ⇒ BadChecksum, reject malformed, disconnect.
#[test]
fn bad_checksum() {
    let mut peer = active();
    let mut f = frame(NET, &Message::Ping(7), 70016);
    f[23] ^= 0x01;
    peer.handle_input(EPOCH, &f);
    assert!(matches!(
        frame_error(&only_disconnect(&mut peer)),
        FrameError::BadChecksum {
            command: Command::PING,
            ..
        }
    ));
    assert_reject_malformed(&mut peer);
    assert_held(&peer, 0, 0, 0);
}

/// A frame with mainnet's magic on a regtest connection ⇒ WrongNetwork from the header alone.
#[test]
fn wrong_magic() {
    let mut peer = active();
    let f = frame(Network::BITCOIN_MAINNET, &Message::Ping(7), 70016);
    peer.handle_input(EPOCH, &f[..24]);
    assert_eq!(
        frame_error(&only_disconnect(&mut peer)),
        FrameError::WrongNetwork {
            magic: Network::BITCOIN_MAINNET.magic(),
            expected: NET.magic()
        }
    );
    assert_eq!(peer.buffered_input(), 0);
    assert_held(&peer, 0, 1, FAREWELL);
}

/// Commands with a control character, a byte above 0x7e, or an embedded NUL ⇒ MalformedCommand
/// (stricter than btcd's UTF-8 check), before the handshake and after it.
#[test]
fn illegal_command_characters() {
    for cmd in [&b"inv\x01"[..], b"ping\xff", b"ver\0sion", b"\x7f"] {
        let mut peer = active();
        peer.handle_input(EPOCH, &raw_frame(NET.magic_bytes(), cmd, 0, &[]));
        assert!(
            matches!(
                frame_error(&only_disconnect(&mut peer)),
                FrameError::MalformedCommand(_)
            ),
            "{cmd:02x?}"
        );
        assert_reject_malformed(&mut peer);
        let mut fresh = inbound(cfg());
        fresh.handle_input(EPOCH, &raw_frame(NET.magic_bytes(), cmd, 0, &[]));
        assert!(matches!(
            frame_error(&only_disconnect(&mut fresh)),
            FrameError::MalformedCommand(_)
        ));
        assert_held(&peer, 0, 0, 0);
        assert_held(&fresh, 0, 0, 0);
    }
}

/// A message that does not exist at the negotiated version (sendheaders and feefilter from a
/// 70011 peer, pong from a 60000 peer) ⇒ InvalidForVersion, disconnect.
#[test]
fn message_invalid_for_the_negotiated_version() {
    for (version, msg) in [
        (70011, Message::SendHeaders),
        (70012, Message::FeeFilter(1000)),
        (60000, Message::Pong(1)),
    ] {
        let mut peer = active_with(cfg(), version, ServiceFlags::NETWORK);
        peer.handle_input(EPOCH, &frame(NET, &msg, 70016));
        let reason = only_disconnect(&mut peer);
        match reason {
            DisconnectReason::Malformed(ReadError::Message(MessageError { error, .. })) => {
                assert_eq!(
                    error,
                    DecodeError::InvalidForVersion {
                        command: msg.command(),
                        version: version as u32
                    }
                )
            }
            // pong's cap at 60000 is 8 bytes like later, so only decoding can refuse it;
            // feefilter and sendheaders likewise fit their caps.
            r => panic!("{version}: {r:?}"),
        }
        assert_held(&peer, 0, 1, FAREWELL);
    }
}

/// An unknown command on Decred ⇒ disconnect (dcrd has no unknown-command tolerance).
#[test]
fn decred_unknown_command_disconnects() {
    let net = Network::DECRED_MAINNET;
    let mut peer = PeerState::inbound(
        Config::new(net),
        addr("192.0.2.66:40000"),
        EPOCH,
        &mut ChaCha20Rng::seed_from_u64(1),
    );
    let payload = b"xyz";
    let mut f = net.magic_bytes().to_vec();
    let mut cmd = [0u8; 12];
    cmd[..9].copy_from_slice(b"futurecmd");
    f.extend_from_slice(&cmd);
    f.extend_from_slice(&3u32.to_le_bytes());
    f.extend_from_slice(&checksum(Chain::Decred, payload));
    f.extend_from_slice(payload);
    peer.handle_input(EPOCH, &f);
    assert!(matches!(
        frame_error(&only_disconnect(&mut peer)),
        FrameError::UnknownCommand(_)
    ));
    assert_eq!(peer.buffered_input(), 0);
    assert_held(&peer, 0, 0, 0);
}

// ---------------------------------------------------------------------------------------------
// Handshake abuse.
// ---------------------------------------------------------------------------------------------

/// A second version after the handshake ⇒ reject duplicate, DuplicateVersion.
#[test]
fn version_twice() {
    let mut peer = active();
    peer.handle_input(
        EPOCH,
        &frame(NET, &remote_version(70016, ServiceFlags::NETWORK), 70016),
    );
    assert_eq!(
        only_disconnect(&mut peer),
        DisconnectReason::DuplicateVersion
    );
    match drain_sent(&mut peer, EPOCH).as_slice() {
        [Message::Reject(r)] => assert_eq!(r.code, RejectCode::DUPLICATE),
        s => panic!("{s:?}"),
    }
    assert_held(&peer, 0, 0, 0);
}

/// A version twice before our verack arrived (inbound, negotiation phase) ⇒
/// UnexpectedHandshakeMessage(version).
#[test]
fn version_twice_during_negotiation() {
    let mut peer = inbound(cfg());
    let v = frame(NET, &remote_version(70016, ServiceFlags::NETWORK), 70016);
    peer.handle_input(EPOCH, &v);
    drain_sent(&mut peer, EPOCH);
    peer.handle_input(EPOCH, &v);
    assert_eq!(
        only_disconnect(&mut peer),
        DisconnectReason::UnexpectedHandshakeMessage(Command::VERSION)
    );
    assert_held(&peer, 0, 0, 0);
}

/// A verack as the very first message ⇒ reject malformed ("a version message must precede all
/// others"), VersionNotFirst(verack).
#[test]
fn verack_first() {
    let mut peer = inbound(cfg());
    peer.handle_input(EPOCH, &frame(NET, &Message::Verack, 70016));
    assert_eq!(
        only_disconnect(&mut peer),
        DisconnectReason::VersionNotFirst(Command::VERACK)
    );
    match drain_sent(&mut peer, EPOCH).as_slice() {
        [Message::Reject(r)] => {
            assert_eq!(r.reason, "a version message must precede all others")
        }
        s => panic!("{s:?}"),
    }
    assert_held(&peer, 0, 0, 0);
}

/// Payload messages before the handshake: a tx before version ⇒ VersionNotFirst(tx); an inv
/// between version and verack ⇒ UnexpectedHandshakeMessage(inv); neither reaches the
/// application.
#[test]
fn payload_messages_before_the_handshake() {
    let tx = Message::Tx(bitpeer::wire::msg::tx::build_simple_tx(
        Hash256([1; 32]),
        0,
        1000,
        &[0x51],
    ));
    let mut peer = inbound(cfg());
    peer.handle_input(EPOCH, &frame(NET, &tx, 70016));
    assert_eq!(
        only_disconnect(&mut peer),
        DisconnectReason::VersionNotFirst(Command::TX)
    );

    let mut peer = inbound(cfg());
    peer.handle_input(
        EPOCH,
        &frame(NET, &remote_version(70016, ServiceFlags::NETWORK), 70016),
    );
    drain_sent(&mut peer, EPOCH);
    let inv = Message::Inv(vec![InvVect::new(InvType::TX, Hash256([2; 32]))]);
    peer.handle_input(EPOCH, &frame(NET, &inv, 70016));
    assert_eq!(
        only_disconnect(&mut peer),
        DisconnectReason::UnexpectedHandshakeMessage(Command::INV)
    );
    assert!(drain_sent(&mut peer, EPOCH).is_empty());
    assert_held(&peer, 0, 0, 0);
}

/// sendaddrv2 after verack ⇒ LateNegotiation(sendaddrv2), no reject.
#[test]
fn sendaddrv2_after_verack() {
    let mut peer = active();
    peer.handle_input(EPOCH, &frame(NET, &Message::SendAddrV2, 70016));
    assert_eq!(
        only_disconnect(&mut peer),
        DisconnectReason::LateNegotiation(Command::SENDADDRV2)
    );
    assert!(drain_sent(&mut peer, EPOCH).is_empty());
    assert_held(&peer, 0, 0, 0);
}

/// While the handshake waits for the application's decision, the remote floods: input beyond
/// 64 KiB ⇒ HandshakeBufferFull, and the paused buffer never holds more than 64 KiB.
#[test]
fn flood_while_the_handshake_awaits_approval() {
    let mut peer = inbound(cfg().approve_versions(true));
    peer.handle_input(
        EPOCH,
        &frame(NET, &remote_version(70016, ServiceFlags::NETWORK), 70016),
    );
    assert_eq!(peer.phase(), Phase::AwaitApproval);
    drain_events(&mut peer);
    let meter = Meter::start();
    let ping = frame(NET, &Message::Ping(9), 70016);
    let mut n = 0;
    while !peer.is_disconnected() {
        peer.handle_input(EPOCH, &ping);
        n += 1;
        assert!(peer.buffered_input() <= 64 * KIB);
        assert!(n < 10_000);
    }
    assert_eq!(n, 64 * KIB / ping.len() + 1);
    assert_eq!(
        only_disconnect(&mut peer),
        DisconnectReason::HandshakeBufferFull
    );
    assert_eq!(peer.buffered_input(), 0, "released on disconnect");
    assert!(meter.peak() < 200 * KIB, "peak {}", meter.peak());
}

// ---------------------------------------------------------------------------------------------
// Bloom filtering without NODE_BLOOM.
// ---------------------------------------------------------------------------------------------

/// filterclear from a BIP111 (≥ 70011) peer although we do not offer NODE_BLOOM ⇒
/// BloomNotOffered { violation: true }.
#[test]
fn bloom_without_node_bloom_after_bip111() {
    let mut peer = active_with(cfg(), 70011, ServiceFlags::NETWORK);
    peer.handle_input(EPOCH, &frame(NET, &Message::FilterClear, 70011));
    assert_eq!(
        only_disconnect(&mut peer),
        DisconnectReason::BloomNotOffered {
            command: Command::FILTERCLEAR,
            violation: true
        }
    );
    assert_held(&peer, 0, 0, 0);
}

/// filteradd from a pre-BIP111 (70010) peer without NODE_BLOOM ⇒ BloomNotOffered
/// { violation: false } (incompatible rather than malicious).
#[test]
fn bloom_without_node_bloom_before_bip111() {
    let mut peer = active_with(cfg(), 70010, ServiceFlags::NETWORK);
    peer.handle_input(EPOCH, &frame(NET, &Message::FilterAdd(vec![1; 20]), 70010));
    assert_eq!(
        only_disconnect(&mut peer),
        DisconnectReason::BloomNotOffered {
            command: Command::FILTERADD,
            violation: false
        }
    );
    assert_held(&peer, 0, 0, 0);
}

/// mempool without NODE_BLOOM ⇒ BloomNotOffered.
#[test]
fn mempool_without_node_bloom() {
    let mut peer = active();
    peer.handle_input(EPOCH, &frame(NET, &Message::MemPool, 70016));
    assert!(matches!(
        only_disconnect(&mut peer),
        DisconnectReason::BloomNotOffered {
            command: Command::MEMPOOL,
            ..
        }
    ));
    assert_held(&peer, 0, 0, 0);
}

/// A feefilter below zero ⇒ InvalidFeeFilter.
#[test]
fn negative_feefilter() {
    let mut peer = active();
    peer.handle_input(EPOCH, &frame(NET, &Message::FeeFilter(i64::MIN), 70016));
    assert_eq!(
        only_disconnect(&mut peer),
        DisconnectReason::InvalidFeeFilter(i64::MIN)
    );
    assert_held(&peer, 0, 0, 0);
}

// ---------------------------------------------------------------------------------------------
// Floods.
// ---------------------------------------------------------------------------------------------

/// 10 000 pings, each answered while we drain ⇒ 10 000 pongs with the right nonces, no
/// disconnect, at most one frame queued at a time.
#[test]
fn ping_flood_is_answered_and_bounded_when_drained() {
    let mut peer = active();
    let meter = Meter::start();
    for nonce in 1..=10_000u64 {
        peer.handle_input(EPOCH, &frame(NET, &Message::Ping(nonce), 70016));
        assert_eq!(peer.queued_frames(), 1);
        assert_eq!(peer.unsent_bytes(), 32);
        assert_eq!(drain_sent(&mut peer, EPOCH), [Message::Pong(nonce)]);
        assert_eq!(
            drain_events(&mut peer),
            [Event::Message(Message::Ping(nonce))]
        );
        assert_eq!(peer.unsent_bytes(), 0);
    }
    assert!(peer.is_ready());
    assert!(meter.live() < 16 * KIB as isize, "live {}", meter.live());
    assert!(meter.peak() < 64 * KIB, "peak {}", meter.peak());
}

/// 10 000 pings from a remote that never reads our pongs ⇒ SendQueueFull once the unsent
/// pongs pass the cap (100 000 bytes: the 3126th pong), the queue never above cap + one frame,
/// and Disconnected is the last event.
#[test]
fn ping_flood_without_draining_fills_the_send_queue() {
    let mut config = cfg();
    config.max_send_queue_bytes = 100_000;
    let mut peer = active_with(config, 70016, ServiceFlags::NETWORK);
    let mut answered = 0;
    for nonce in 1..=10_000u64 {
        peer.handle_input(EPOCH, &frame(NET, &Message::Ping(nonce), 70016));
        assert!(peer.unsent_bytes() <= 100_000 + 32);
        if peer.is_disconnected() {
            answered = nonce;
            break;
        }
    }
    assert_eq!(answered, 3126);
    let events = drain_events(&mut peer);
    // The 3126th ping's pong overflowed the queue: it is not delivered after the disconnect
    // (regression: it used to arrive as an event after Disconnected).
    assert_eq!(
        events.len(),
        3125 + 1,
        "3125 pings delivered, then the disconnect"
    );
    assert!(
        events[..3125]
            .iter()
            .all(|e| matches!(e, Event::Message(Message::Ping(_))))
    );
    assert_eq!(
        events.last(),
        Some(&Event::Disconnected(DisconnectReason::SendQueueFull(
            100_000
        )))
    );
    assert!(peer.poll_transmit().is_none(), "the queue is dropped");
    assert_eq!(peer.unsent_bytes(), 0);
}

/// 100 000 frames of an unknown command (Bitcoin) ⇒ delivered as Message::Unknown, never a
/// disconnect, and no memory growth: live heap after the flood is what it was before.
#[test]
fn unknown_command_flood_is_tolerated_without_growth() {
    let mut peer = active();
    let unknown = Message::Unknown {
        command: Command::new("zzz").unwrap(),
        payload: bytes::Bytes::from_static(&[0xab; 40]),
    };
    let f = frame(NET, &unknown, 70016);
    let batch: Vec<u8> = f.repeat(100);
    let meter = Meter::start();
    let mut after_first = 0;
    for i in 0..1000 {
        peer.handle_input(EPOCH, &batch);
        let events = drain_events(&mut peer);
        assert_eq!(events.len(), 100);
        assert!(matches!(
            &events[0],
            Event::Message(Message::Unknown { .. })
        ));
        drop(events);
        assert_eq!(peer.buffered_input(), 0);
        assert_eq!(peer.queued_frames(), 0);
        if i == 0 {
            // The receive buffer and the per-command counters settle after the first batch.
            after_first = meter.live();
        }
    }
    assert!(peer.is_ready());
    assert!(after_first < 64 * KIB as isize, "live {after_first}");
    assert!(
        meter.live() <= after_first,
        "grew from {after_first} to {}",
        meter.live()
    );
    assert!(meter.peak() < 128 * KIB, "peak {}", meter.peak());
}

/// A storm of 10 000 reject messages ⇒ each delivered to the application as an event, no
/// disconnect, nothing sent back, memory flat.
#[test]
fn reject_storm_is_delivered_not_fatal() {
    let mut peer = active();
    let reject = Message::Reject(Reject {
        command: "tx".into(),
        code: RejectCode::INSUFFICIENT_FEE,
        reason: "you are not welcome".into(),
        hash: Hash256([9; 32]),
    });
    let f = frame(NET, &reject, 70016);
    let meter = Meter::start();
    for _ in 0..10_000 {
        peer.handle_input(EPOCH, &f);
        assert_eq!(drain_events(&mut peer), [Event::Message(reject.clone())]);
    }
    assert!(peer.is_ready());
    assert!(drain_sent(&mut peer, EPOCH).is_empty());
    assert!(meter.live() < 4 * KIB as isize, "live {}", meter.live());
    assert_held(&peer, 0, 0, 0);
}

/// A remote that never reads while we keep sending inv (1000 entries each minute) and pings:
/// the driver hands frames out but never reports them written ⇒ SendQueueFull(200 000); the
/// unsent bytes never exceed the cap plus one frame. The remote keeps writing pings, so the
/// idle timeout does not fire first.
#[test]
fn peer_that_never_reads() {
    let mut config = cfg();
    config.max_send_queue_bytes = 200_000;
    let mut peer = active_with(config, 70016, ServiceFlags::NETWORK);
    let inv = Message::Inv(
        (0..1000u32)
            .map(|i| {
                let mut h = [0u8; 32];
                h[..4].copy_from_slice(&i.to_le_bytes());
                InvVect::new(InvType::TX, Hash256(h))
            })
            .collect(),
    );
    let inv_frame = 24 + 3 + 36_000;
    let mut t = EPOCH;
    let mut handed_out = 0;
    while !peer.is_disconnected() {
        t = t + secs(60);
        peer.handle_input(t, &frame(NET, &Message::Ping(t.as_secs()), 70016));
        peer.handle_timeout(t);
        peer.send(inv.clone());
        while let Some(f) = peer.poll_transmit() {
            handed_out += f.len(); // written into a socket nobody drains
        }
        assert!(peer.unsent_bytes() <= 200_000 + inv_frame);
        assert!(t < EPOCH + secs(3600));
    }
    assert!(handed_out > 150_000);
    let events = drain_events(&mut peer);
    assert_eq!(
        events.last(),
        Some(&Event::Disconnected(DisconnectReason::SendQueueFull(
            200_000
        )))
    );
    assert_held(&peer, 0, 0, 200_000 + 36_027);
}

// ---------------------------------------------------------------------------------------------
// Time, stalls and transport.
// ---------------------------------------------------------------------------------------------

/// The clock going backwards (a day, then to zero) during the handshake, and a remote version
/// timestamp of i64::MIN ⇒ no panic, no deadline pushed out: the handshake still times out at
/// EPOCH + 30 s; the time offset saturates.
#[test]
fn time_going_backwards() {
    let mut peer = inbound(cfg().approve_versions(true));
    let back = EPOCH.saturating_sub(secs(86_400));
    peer.handle_timeout(back);
    peer.handle_timeout(Time::ZERO);
    let mut v = match remote_version(70016, ServiceFlags::NETWORK) {
        Message::Version(v) => v,
        _ => unreachable!(),
    };
    v.timestamp = i64::MIN;
    peer.handle_input(back, &frame(NET, &Message::Version(v), 70016));
    assert_eq!(peer.phase(), Phase::AwaitApproval);
    assert_eq!(peer.time_offset(), i64::MIN);
    assert_eq!(peer.poll_timeout(), Some(EPOCH + secs(30)));
    peer.handle_timeout(EPOCH + secs(29));
    assert!(!peer.is_disconnected());
    peer.handle_timeout(EPOCH + secs(30));
    assert!(matches!(
        drain_events(&mut peer).last(),
        Some(Event::Disconnected(DisconnectReason::HandshakeTimeout))
    ));
    assert_held(&peer, 0, 0, 0);
}

/// We ask with getdata and the remote never answers (it keeps pinging, so it is not idle) ⇒
/// Stalled(block) at the first 15 s tick at or after the 30 s deadline.
#[test]
fn getdata_never_answered_stalls() {
    let mut peer = active();
    let t0 = EPOCH + secs(7);
    peer.send(Message::GetData(vec![InvVect::new(
        InvType::BLOCK,
        Hash256([5; 32]),
    )]));
    drain_sent(&mut peer, t0); // written at t0: the deadline is t0 + 30 s = EPOCH + 37 s
    let mut t = t0;
    while !peer.is_disconnected() {
        t = t + secs(1);
        peer.handle_input(t, &frame(NET, &Message::Ping(1), 70016));
        peer.handle_timeout(t);
        drain_sent(&mut peer, t);
        assert!(t < EPOCH + secs(100));
    }
    assert_eq!(t, EPOCH + secs(45));
    assert!(matches!(
        drain_events(&mut peer).last(),
        Some(Event::Disconnected(DisconnectReason::Stalled(
            Command::BLOCK
        )))
    ));
    assert_held(&peer, 0, 0, 0);
}

/// The remote disconnects in the middle of a frame ⇒ ConnectionClosed; the partial frame held
/// is never more than what arrived, and later input is ignored.
#[test]
fn disconnect_mid_frame() {
    let mut peer = active();
    let f = frame(NET, &Message::Ping(3), 70016);
    peer.handle_input(EPOCH, &f[..28]);
    assert_eq!(peer.buffered_input(), 28);
    peer.handle_closed();
    assert_eq!(
        only_disconnect(&mut peer),
        DisconnectReason::ConnectionClosed
    );
    assert!(peer.buffered_input() <= 28);
    peer.handle_input(EPOCH, &f[28..]);
    peer.handle_input(EPOCH, &f);
    assert!(drain_events(&mut peer).is_empty());
    assert!(peer.poll_transmit().is_none());
    assert_eq!(peer.poll_timeout(), None);
    assert_held(&peer, 28, 0, 0);
}

/// Frames handed to the driver before a disconnect and reported written after it ⇒ no
/// Sent event after Disconnected (regression found by the peer_state fuzz target); the bytes
/// still count, and nothing stays unsent.
#[test]
fn writes_reported_after_the_disconnect_raise_no_events() {
    let mut peer = active();
    let id = peer.send(Message::GetAddr).expect("queued");
    let f = peer.poll_transmit().expect("handed out");
    peer.disconnect(DisconnectReason::Requested("bye".into()));
    let before = peer.stats(EPOCH).bytes_sent;
    peer.on_sent(f.len(), EPOCH);
    assert_eq!(
        only_disconnect(&mut peer),
        DisconnectReason::Requested("bye".into()),
        "no Sent({id:?}) after Disconnected"
    );
    assert_eq!(peer.stats(EPOCH).bytes_sent, before + f.len() as u64);
    assert_eq!(peer.unsent_bytes(), 0);
}

/// The application disconnects while the remote is mid-frame ⇒ one Disconnected(Requested),
/// the rest of the frame is ignored, no more events or frames.
#[test]
fn application_disconnects_mid_frame() {
    let mut peer = active();
    let f = frame(NET, &Message::Ping(3), 70016);
    peer.handle_input(EPOCH, &f[..10]);
    peer.disconnect(DisconnectReason::Requested("enough".into()));
    peer.handle_input(EPOCH, &f[10..]);
    peer.handle_closed();
    assert_eq!(
        only_disconnect(&mut peer),
        DisconnectReason::Requested("enough".into())
    );
    assert!(peer.poll_transmit().is_none());
    assert_held(&peer, 10, 0, 0);
}
