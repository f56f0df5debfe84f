//! PeerState behaviour through the public API, two peers joined in memory with virtual time.

mod common;

use std::time::Duration;

use bitpeer::peer::{Blame, DisconnectReason, Event, Phase};
use bitpeer::wire::{
    Command, Encoding, GetBlocks, Hash256, InvType, InvVect, Message, RejectCode, ServiceFlags,
};
use bitpeer::{Network, PeerState, Time};
use common::{EPOCH, Pair, Who, addr, cfg, drain_events, drain_sent, frame};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

const NET: Network = Network::BITCOIN_REGTEST;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// An inbound peer and the raw bytes of a handshake a scripted remote would send.
fn inbound_peer(config: bitpeer::Config) -> PeerState {
    PeerState::inbound(config, addr("192.0.2.7:40000"), EPOCH, &mut rng(9))
}

fn remote_version(version: i32, services: ServiceFlags, nonce: u64) -> Message {
    Message::Version(bitpeer::wire::Version {
        protocol_version: version,
        services,
        timestamp: EPOCH.as_secs() as i64 + 42,
        nonce,
        user_agent: "/scripted:1.0/".into(),
        start_height: 777,
        ..Default::default()
    })
}

/// Drives a scripted remote through version+verack so `peer` becomes active.
fn activate(peer: &mut PeerState, version: i32, services: ServiceFlags) -> Vec<Message> {
    peer.handle_input(
        EPOCH,
        &frame(NET, &remote_version(version, services, 5), version as u32),
    );
    let sent = drain_sent(peer, EPOCH);
    peer.handle_input(EPOCH, &frame(NET, &Message::Verack, version as u32));
    assert!(peer.is_ready(), "{:?}", drain_events(peer));
    drain_events(peer);
    sent
}

fn reason(side: &common::Side) -> DisconnectReason {
    side.disconnected().expect("disconnected").1.clone()
}

#[test]
fn handshake_completes_both_ways_with_negotiation_messages() {
    let mut p = Pair::new(
        cfg()
            .user_agent("alice", "1.0", &["test"])
            .unwrap()
            .best_height(100),
        cfg()
            .user_agent("bob", "2.0", &[])
            .unwrap()
            .best_height(200),
        1,
    );
    assert!(p.handshake());
    let (a, b) = (&p.a.peer, &p.b.peer);
    assert_eq!(
        (a.negotiated_version(), b.negotiated_version()),
        (70016, 70016)
    );
    assert_eq!(a.user_agent(), "/bitpeer:0.1.0/bob:2.0/");
    assert_eq!(b.user_agent(), "/bitpeer:0.1.0/alice:1.0(test)/");
    assert_eq!((a.starting_height(), b.starting_height()), (200, 100));
    assert!(a.wants_addrv2() && b.wants_addrv2());
    assert!(a.wtxid_relay() && b.wtxid_relay());
    assert!(a.witness_enabled() && b.witness_enabled());
    assert!(!a.is_inbound() && b.is_inbound());
    assert!(a.version_known() && a.verack_received());
    // 50 ms each way: A's version lands at 50, B's answer at 100 (A ready), A's verack at 150.
    assert_eq!(p.a.ready_at(), Some(EPOCH + ms(100)));
    assert_eq!(p.b.ready_at(), Some(EPOCH + ms(150)));
    match &p.a.events[0].1 {
        Event::Ready(v) => assert_eq!(v.start_height, 200),
        e => panic!("first event should be Ready, got {e:?}"),
    }
}

#[test]
fn outbound_sends_version_first_and_inbound_answers_in_order() {
    let mut out = PeerState::outbound(cfg(), addr("192.0.2.1:8333"), EPOCH, &mut rng(1));
    let sent = drain_sent(&mut out, EPOCH);
    assert!(matches!(sent.as_slice(), [Message::Version(_)]));

    let mut inb = inbound_peer(cfg());
    assert!(
        drain_sent(&mut inb, EPOCH).is_empty(),
        "inbound waits for the remote version"
    );
    inb.handle_input(
        EPOCH,
        &frame(NET, &remote_version(70016, ServiceFlags::NETWORK, 5), 70016),
    );
    let cmds: Vec<Command> = drain_sent(&mut inb, EPOCH)
        .iter()
        .map(Message::command)
        .collect();
    assert_eq!(
        cmds,
        [
            Command::VERSION,
            Command::WTXIDRELAY,
            Command::SENDADDRV2,
            Command::VERACK
        ]
    );
}

#[test]
fn lower_remote_version_is_negotiated_and_skips_addrv2_messages() {
    let mut peer = inbound_peer(cfg());
    let sent = activate(&mut peer, 70012, ServiceFlags::NETWORK);
    let cmds: Vec<Command> = sent.iter().map(Message::command).collect();
    assert_eq!(cmds, [Command::VERSION, Command::VERACK]);
    assert_eq!(peer.negotiated_version(), 70012);
    assert_eq!(peer.remote_version(), 70012);
    assert!(!peer.witness_enabled());
    // Our version advertises our maximum, not the negotiated version.
    match &sent[0] {
        Message::Version(v) => assert_eq!(v.protocol_version, 70016),
        m => panic!("{m:?}"),
    }
    assert_eq!(peer.time_offset(), 42);
    assert_eq!(peer.last_block(), 777);
}

#[test]
fn application_rejects_a_version() {
    let mut p = Pair::new(cfg(), cfg().approve_versions(true), 2);
    p.run_for(ms(60));
    let got = p.b.events.iter().find_map(|(_, e)| match e {
        Event::VersionReceived(v) => Some(v.clone()),
        _ => None,
    });
    let v = got.expect("B asks the application");
    assert_eq!(v.protocol_version, 70016);
    // The peer's getters already reflect the version while it waits.
    assert_eq!(p.b.peer.phase(), Phase::AwaitApproval);
    assert_eq!(p.b.peer.negotiated_version(), 70016);
    p.b.peer
        .reject_version(RejectCode::NONSTANDARD, "required services not offered");
    p.run_for(secs(1));
    assert_eq!(
        reason(&p.b),
        DisconnectReason::VersionRejected {
            code: RejectCode::NONSTANDARD,
            reason: "required services not offered".into()
        }
    );
    match reason(&p.a) {
        DisconnectReason::RejectedByRemote(r) => {
            assert_eq!(r.command, "version");
            assert_eq!(r.code, RejectCode::NONSTANDARD);
            assert_eq!(r.reason, "required services not offered");
        }
        r => panic!("{r:?}"),
    }
    assert_eq!(reason(&p.a).blame(), Blame::Incompatible);
}

#[test]
fn application_accepts_a_version_and_buffered_input_resumes() {
    let mut p = Pair::new(
        cfg().approve_versions(true),
        cfg().approve_versions(true),
        3,
    );
    p.run_for(ms(60));
    assert_eq!(p.b.peer.phase(), Phase::AwaitApproval);
    p.b.peer.accept_version(p.now);
    p.run_for(ms(60));
    assert_eq!(p.a.peer.phase(), Phase::AwaitApproval);
    // A's input (B's wtxidrelay, sendaddrv2, verack) is buffered until the decision.
    assert!(p.a.peer.buffered_input() > 0);
    p.a.peer.accept_version(p.now);
    p.run_for(secs(1));
    assert!(p.a.peer.is_ready() && p.b.peer.is_ready());
    assert!(p.a.peer.wants_addrv2());
}

#[test]
fn self_connection_is_detected_on_both_ends() {
    // One node: both peers share the config, hence the nonce cache.
    let node = cfg();
    let mut p = Pair::new(node.clone(), node, 4);
    p.run_for(secs(1));
    assert_eq!(reason(&p.b), DisconnectReason::SelfConnection);
    assert_eq!(reason(&p.a), DisconnectReason::SelfConnection);
    // The inbound end answered nothing.
    assert!(!p.transcript.contains("B sends"));
}

#[test]
fn self_connections_allowed_when_configured() {
    let node = cfg().allow_self_connections(true);
    let mut p = Pair::new(node.clone(), node, 4);
    assert!(p.handshake());
}

#[test]
fn first_message_not_version_gets_reject_and_disconnect() {
    let mut peer = inbound_peer(cfg());
    peer.handle_input(EPOCH, &frame(NET, &Message::Ping(1), 70016));
    let sent = drain_sent(&mut peer, EPOCH);
    match sent.as_slice() {
        [Message::Reject(r)] => {
            assert_eq!(
                (r.command.as_str(), r.code),
                ("version", RejectCode::MALFORMED)
            );
            assert_eq!(r.reason, "a version message must precede all others");
        }
        s => panic!("{s:?}"),
    }
    let evs = drain_events(&mut peer);
    assert_eq!(
        evs,
        [Event::Disconnected(DisconnectReason::VersionNotFirst(
            Command::PING
        ))]
    );
}

#[test]
fn too_old_remote_version_is_refused() {
    let mut peer = inbound_peer(cfg());
    peer.handle_input(
        EPOCH,
        &frame(NET, &remote_version(208, ServiceFlags::NETWORK, 5), 208),
    );
    // At version 208 a reject cannot be encoded, so nothing is sent.
    assert!(drain_sent(&mut peer, EPOCH).is_empty());
    assert_eq!(
        drain_events(&mut peer),
        [Event::Disconnected(
            DisconnectReason::ProtocolVersionTooOld {
                version: 208,
                minimum: 209
            }
        )]
    );
    let mut peer = inbound_peer(cfg());
    peer.handle_input(
        EPOCH,
        &frame(NET, &remote_version(-5, ServiceFlags::NETWORK, 5), 70016),
    );
    assert!(matches!(
        drain_events(&mut peer).as_slice(),
        [Event::Disconnected(
            DisconnectReason::ProtocolVersionTooOld { version: -5, .. }
        )]
    ));
}

#[test]
fn non_negotiation_message_before_verack_disconnects() {
    let mut peer = inbound_peer(cfg());
    peer.handle_input(
        EPOCH,
        &frame(NET, &remote_version(70016, ServiceFlags::NETWORK, 5), 70016),
    );
    drain_sent(&mut peer, EPOCH);
    // Unknown commands and the negotiation messages are fine before verack...
    let unknown = Message::Unknown {
        command: Command::new("futurecmd").unwrap(),
        payload: bytes::Bytes::from_static(b"xyz"),
    };
    peer.handle_input(EPOCH, &frame(NET, &unknown, 70016));
    peer.handle_input(EPOCH, &frame(NET, &Message::SendAddrV2, 70016));
    peer.handle_input(EPOCH, &frame(NET, &Message::WtxidRelay, 70016));
    assert_eq!(peer.phase(), Phase::AwaitVerack);
    assert!(peer.wants_addrv2() && peer.wtxid_relay());
    // ...anything else is not.
    peer.handle_input(EPOCH, &frame(NET, &Message::Inv(vec![]), 70016));
    assert_eq!(
        drain_events(&mut peer),
        [Event::Disconnected(
            DisconnectReason::UnexpectedHandshakeMessage(Command::INV)
        )]
    );
    assert!(
        drain_sent(&mut peer, EPOCH).is_empty(),
        "no reject for this one"
    );
}

#[test]
fn duplicate_version_and_verack_and_late_negotiation() {
    for (msg, want, reject) in [
        (
            remote_version(70016, ServiceFlags::NETWORK, 6),
            DisconnectReason::DuplicateVersion,
            Some(("version", "duplicate version message")),
        ),
        (
            Message::Verack,
            DisconnectReason::DuplicateVerack,
            Some(("verack", "duplicate verack message")),
        ),
        (
            Message::SendAddrV2,
            DisconnectReason::LateNegotiation(Command::SENDADDRV2),
            None,
        ),
        (
            Message::WtxidRelay,
            DisconnectReason::LateNegotiation(Command::WTXIDRELAY),
            None,
        ),
    ] {
        let mut peer = inbound_peer(cfg());
        activate(&mut peer, 70016, ServiceFlags::NETWORK);
        peer.handle_input(EPOCH, &frame(NET, &msg, 70016));
        let sent = drain_sent(&mut peer, EPOCH);
        match reject {
            Some((cmd, text)) => match sent.as_slice() {
                [Message::Reject(r)] => {
                    assert_eq!((r.command.as_str(), r.code), (cmd, RejectCode::DUPLICATE));
                    assert_eq!(r.reason, text);
                }
                s => panic!("{s:?}"),
            },
            None => assert!(sent.is_empty()),
        }
        assert_eq!(drain_events(&mut peer), [Event::Disconnected(want.clone())]);
        assert_eq!(want.blame(), Blame::Remote);
        // Nothing more after the disconnect.
        peer.handle_input(EPOCH, &frame(NET, &Message::Ping(3), 70016));
        peer.handle_timeout(EPOCH + secs(1000));
        assert!(peer.poll_transmit().is_none() && peer.poll_event().is_none());
        assert!(peer.send(Message::GetAddr).is_none());
    }
}

#[test]
fn malformed_input_after_handshake_gets_reject_malformed() {
    let mut peer = inbound_peer(cfg());
    activate(&mut peer, 70016, ServiceFlags::NETWORK);
    let mut bad = frame(NET, &Message::Ping(1), 70016);
    bad[20] ^= 0xff; // checksum
    peer.handle_input(EPOCH, &bad);
    match drain_sent(&mut peer, EPOCH).as_slice() {
        [Message::Reject(r)] => {
            assert_eq!(
                (r.command.as_str(), r.code),
                ("malformed", RejectCode::MALFORMED)
            );
            assert!(
                r.reason
                    .starts_with("Can't read message from 192.0.2.7:40000"),
                "{}",
                r.reason
            );
        }
        s => panic!("{s:?}"),
    }
    assert!(matches!(
        drain_events(&mut peer).as_slice(),
        [Event::Disconnected(DisconnectReason::Malformed(_))]
    ));
}

#[test]
fn handshake_timeout_fires_at_thirty_seconds() {
    let mut peer = PeerState::outbound(cfg(), addr("192.0.2.1:8333"), EPOCH, &mut rng(1));
    drain_sent(&mut peer, EPOCH);
    assert_eq!(peer.poll_timeout(), Some(EPOCH + secs(30)));
    peer.handle_timeout(EPOCH + secs(29));
    assert!(drain_events(&mut peer).is_empty());
    peer.handle_timeout(EPOCH + secs(30));
    assert_eq!(
        drain_events(&mut peer),
        [Event::Disconnected(DisconnectReason::HandshakeTimeout)]
    );
    assert_eq!(peer.poll_timeout(), None);
}

#[test]
fn ping_pong_measures_round_trip() {
    let mut p = Pair::new(cfg(), cfg(), 5);
    p.latency = ms(40);
    assert!(p.handshake());
    let ready = p.a.ready_at().unwrap();
    // The first ping goes out two minutes after becoming active.
    p.run_until(ready + secs(119));
    assert_eq!(p.a.peer.last_ping_time(), None);
    p.run_until(ready + secs(120) + ms(79));
    assert_eq!(p.a.peer.last_ping_time(), Some(ready + secs(120)));
    assert_ne!(p.a.peer.last_ping_nonce(), 0, "outstanding");
    p.run_until(ready + secs(121));
    assert_eq!(p.a.peer.last_ping_rtt(), Some(ms(80)));
    assert_eq!(p.a.peer.last_ping_nonce(), 0, "answered");
    // Pings are delivered to the application too.
    assert!(p.b.messages().iter().any(|m| matches!(m, Message::Ping(_))));
    assert!(p.a.messages().iter().any(|m| matches!(m, Message::Pong(_))));
    // Keep-alive holds the connection open well past the idle timeout.
    p.run_for(secs(3600));
    assert!(p.a.peer.is_ready() && p.b.peer.is_ready());
}

#[test]
fn unsolicited_or_wrong_pong_is_ignored() {
    let mut peer = inbound_peer(cfg());
    activate(&mut peer, 70016, ServiceFlags::NETWORK);
    peer.handle_input(EPOCH, &frame(NET, &Message::Pong(99), 70016));
    assert!(peer.is_ready());
    assert_eq!(peer.last_ping_rtt(), None);
}

#[test]
fn bip31_gates_pong_below_60001() {
    let mut peer = inbound_peer(cfg());
    activate(&mut peer, 60000, ServiceFlags::NETWORK);
    peer.handle_input(EPOCH, &frame(NET, &Message::Ping(0), 60000));
    assert!(drain_sent(&mut peer, EPOCH).is_empty(), "no pong at 60000");
    let mut peer = inbound_peer(cfg());
    activate(&mut peer, 60001, ServiceFlags::NETWORK);
    peer.handle_input(EPOCH, &frame(NET, &Message::Ping(12), 60001));
    assert_eq!(drain_sent(&mut peer, EPOCH), [Message::Pong(12)]);
}

#[test]
fn idle_peer_is_disconnected_at_five_minutes() {
    let mut p = Pair::new(cfg(), cfg(), 6);
    assert!(p.handshake());
    let last_from_b = p.a.ready_at().unwrap();
    p.b.muted = true; // B's frames no longer arrive
    p.run_for(secs(400));
    let (t, r) = p.a.disconnected().unwrap();
    assert_eq!(*r, DisconnectReason::IdleTimeout);
    assert_eq!(t, last_from_b + secs(300));
    assert_eq!(r.blame(), Blame::Timeout);
}

#[test]
fn stall_handler_disconnects_on_tick_after_deadline() {
    // getheaders: 90 s deadline, checked on 15 s ticks from activation.
    let mut p = Pair::new(cfg(), cfg(), 7);
    assert!(p.handshake());
    let active = p.a.ready_at().unwrap();
    p.run_until(active + secs(7));
    let sent_at = p.now;
    p.a.peer.send(Message::GetHeaders(GetBlocks {
        version: 0,
        locator: vec![Hash256([1; 32])],
        stop: Hash256::ZERO,
    }));
    p.run_for(secs(200));
    let (t, r) = p.a.disconnected().expect("stalled");
    assert_eq!(*r, DisconnectReason::Stalled(Command::HEADERS));
    // Deadline at sent + 90 s = active + 97 s; the first tick at or after it is active + 105 s.
    assert_eq!(sent_at, active + secs(7));
    assert_eq!(t, active + secs(105));

    // getdata: 30 s; answered by notfound in time, nothing happens.
    let mut p = Pair::new(cfg(), cfg(), 8);
    assert!(p.handshake());
    let active = p.a.ready_at().unwrap();
    let wanted = vec![InvVect::new(InvType::TX, Hash256([2; 32]))];
    p.a.peer.send(Message::GetData(wanted.clone()));
    p.run_for(secs(1));
    assert!(p.b.messages().contains(&&Message::GetData(wanted.clone())));
    p.b.peer.send(Message::NotFound(wanted.clone()));
    p.run_for(secs(100));
    assert!(p.a.peer.is_ready());
    // Unanswered: disconnect at the first 15 s tick after 30 s.
    p.a.peer.send(Message::GetData(wanted));
    let sent_at = p.now;
    p.run_for(secs(100));
    let (t, r) = p.a.disconnected().expect("stalled");
    assert_eq!(*r, DisconnectReason::Stalled(Command::BLOCK));
    let deadline = sent_at + secs(30);
    let ticks = (deadline - active).as_micros().div_ceil(15_000_000) as u64;
    assert_eq!(t, active + secs(15 * ticks));
}

#[test]
fn bloom_messages_are_gated_by_services_and_version() {
    let filter = Message::FilterLoad(bitpeer::wire::FilterLoad {
        filter: bytes::Bytes::from_static(&[0xff; 8]),
        hash_funcs: 5,
        tweak: 1,
        flags: bitpeer::wire::BloomFlags::ALL,
    });
    for (version, violation) in [(70016, true), (70011, true), (70010, false), (70001, false)] {
        let mut peer = inbound_peer(cfg());
        activate(&mut peer, version, ServiceFlags::NETWORK);
        peer.handle_input(EPOCH, &frame(NET, &filter, version as u32));
        let r = DisconnectReason::BloomNotOffered {
            command: Command::FILTERLOAD,
            violation,
        };
        assert_eq!(
            drain_events(&mut peer),
            [Event::Disconnected(r.clone())],
            "{version}"
        );
        assert_eq!(
            r.blame(),
            if violation {
                Blame::Remote
            } else {
                Blame::Incompatible
            }
        );
    }
    // With NODE_BLOOM: filterload is delivered; filteradd needs a filter.
    let bloom = cfg().services(ServiceFlags::NETWORK | ServiceFlags::BLOOM);
    let mut peer = inbound_peer(bloom.clone());
    activate(&mut peer, 70016, ServiceFlags::NETWORK);
    peer.handle_input(EPOCH, &frame(NET, &filter, 70016));
    peer.handle_input(EPOCH, &frame(NET, &Message::FilterAdd(vec![1, 2]), 70016));
    assert!(peer.filter_loaded());
    let evs = drain_events(&mut peer);
    assert!(matches!(
        evs.as_slice(),
        [
            Event::Message(Message::FilterLoad(_)),
            Event::Message(Message::FilterAdd(_))
        ]
    ));
    let mut peer = inbound_peer(bloom);
    activate(&mut peer, 70016, ServiceFlags::NETWORK);
    peer.handle_input(EPOCH, &frame(NET, &Message::FilterAdd(vec![1]), 70016));
    assert_eq!(
        drain_events(&mut peer),
        [Event::Disconnected(DisconnectReason::FilterNotLoaded)]
    );
    // Below 70001 the messages do not even decode.
    let mut peer = inbound_peer(cfg());
    activate(&mut peer, 70000, ServiceFlags::NETWORK);
    peer.handle_input(EPOCH, &frame(NET, &Message::FilterClear, 70001));
    assert!(matches!(
        drain_events(&mut peer).as_slice(),
        [Event::Disconnected(DisconnectReason::Malformed(_))]
    ));
}

#[test]
fn sendheaders_feefilter_and_witness_encoding() {
    let mut peer = inbound_peer(cfg());
    activate(&mut peer, 70016, ServiceFlags::NETWORK);
    assert!(!peer.wants_headers());
    peer.handle_input(EPOCH, &frame(NET, &Message::SendHeaders, 70016));
    peer.handle_input(EPOCH, &frame(NET, &Message::FeeFilter(1000), 70016));
    assert!(peer.wants_headers());
    assert_eq!(peer.fee_filter(), Some(1000));
    peer.handle_input(EPOCH, &frame(NET, &Message::FeeFilter(-1), 70016));
    assert_eq!(
        drain_events(&mut peer).last(),
        Some(&Event::Disconnected(DisconnectReason::InvalidFeeFilter(-1)))
    );

    // A segwit tx goes out stripped to a non-witness peer, whole to a witness peer.
    let tx = segwit_tx();
    let mut plain = inbound_peer(cfg());
    activate(&mut plain, 70016, ServiceFlags::NETWORK);
    plain.send(Message::Tx(tx.clone()));
    let f = plain.poll_transmit().unwrap();
    assert_eq!(f.len(), 24 + tx.base_size());
    let mut witness = inbound_peer(cfg());
    activate(
        &mut witness,
        70016,
        ServiceFlags::NETWORK | ServiceFlags::WITNESS,
    );
    assert!(witness.witness_enabled());
    witness.send(Message::Tx(tx.clone()));
    assert_eq!(witness.poll_transmit().unwrap().len(), 24 + tx.total_size());
    witness.send_with_encoding(Message::Tx(tx.clone()), Encoding::Base);
    assert_eq!(witness.poll_transmit().unwrap().len(), 24 + tx.base_size());
}

fn segwit_tx() -> bitpeer::wire::Tx {
    let mut raw = vec![2, 0, 0, 0, 0, 1, 1];
    raw.extend_from_slice(&[7; 32]);
    raw.extend_from_slice(&[0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 1]);
    raw.extend_from_slice(&[0x10, 0x27, 0, 0, 0, 0, 0, 0, 1, 0x51]);
    raw.extend_from_slice(&[1, 2, 0xaa, 0xbb, 0, 0, 0, 0]);
    bitpeer::wire::Tx::from_bytes(raw.into(), Encoding::Witness).unwrap()
}

#[test]
fn send_ids_are_reported_once_written() {
    let mut peer = inbound_peer(cfg());
    activate(&mut peer, 70016, ServiceFlags::NETWORK);
    let id1 = peer.send(Message::GetAddr).unwrap();
    let id2 = peer.send(Message::Ping(5)).unwrap();
    let f1 = peer.poll_transmit().unwrap();
    let f2 = peer.poll_transmit().unwrap();
    assert!(peer.poll_transmit().is_none());
    peer.on_sent(f1.len() - 1, EPOCH);
    assert!(drain_events(&mut peer).is_empty());
    peer.on_sent(1 + f2.len() - 1, EPOCH);
    assert_eq!(drain_events(&mut peer), [Event::Sent(id1)]);
    peer.on_sent(1, EPOCH);
    assert_eq!(drain_events(&mut peer), [Event::Sent(id2)]);
    assert!(id1 < id2);
    // Messages that do not exist at the negotiated version are refused, not sent.
    let mut old = inbound_peer(cfg());
    activate(&mut old, 70011, ServiceFlags::NETWORK);
    assert!(old.send(Message::SendHeaders).is_none());
    assert!(old.poll_transmit().is_none());
}

#[test]
fn queue_is_dropped_on_disconnect_and_send_queue_is_bounded() {
    let mut c = cfg();
    c.max_send_queue_bytes = 10_000;
    let mut peer = inbound_peer(c);
    activate(&mut peer, 70016, ServiceFlags::NETWORK);
    let inv = Message::Inv(
        (0..100)
            .map(|i| InvVect::new(InvType::TX, Hash256([i; 32])))
            .collect(),
    );
    let mut sent = 0;
    while peer.send(inv.clone()).is_some() {
        sent += 1;
        assert!(sent < 100);
    }
    assert_eq!(sent, 3, "3 × 3 610 bytes fit in 10 000");
    assert_eq!(
        drain_events(&mut peer),
        [Event::Disconnected(DisconnectReason::SendQueueFull(10_000))]
    );
    assert!(
        peer.poll_transmit().is_none(),
        "nothing is written after the disconnect"
    );
}

#[test]
fn stats_after_a_scripted_conversation() {
    let mut p = Pair::new(cfg().user_agent("a", "1", &[]).unwrap(), cfg(), 10);
    p.b.skew_secs = 7;
    assert!(p.handshake());
    let inv = vec![InvVect::new(InvType::BLOCK, Hash256([3; 32]))];
    p.a.peer.send(Message::Inv(inv.clone()));
    p.a.peer.send(Message::GetAddr);
    p.run_for(secs(130)); // includes one ping each way
    let now_a = p.local_now(Who::A);
    let sa = p.a.peer.stats(now_a);
    let sb = p.b.peer.stats(p.local_now(Who::B));
    assert_eq!(sa.bytes_sent, sb.bytes_recv);
    assert_eq!(sb.bytes_sent, sa.bytes_recv);
    assert_eq!(sa.time_offset, 7);
    assert_eq!(sb.time_offset, -7);
    assert_eq!(sa.version, 70016);
    assert_eq!(sb.user_agent, "/bitpeer:0.1.0/a:1/");
    assert!(sb.inbound && !sa.inbound);
    assert_eq!(sa.uptime, p.now - EPOCH);
    assert_eq!(sa.connected_at, EPOCH);
    let count = |s: &bitpeer::Stats, c: Command| {
        s.commands
            .iter()
            .find(|x| x.command == c)
            .copied()
            .expect("command seen")
    };
    assert_eq!(count(&sa, Command::INV).msgs_sent, 1);
    assert_eq!(count(&sa, Command::INV).bytes_sent, 24 + 1 + 36);
    assert_eq!(count(&sb, Command::INV).msgs_recv, 1);
    assert_eq!(count(&sb, Command::GETADDR).bytes_recv, 24);
    assert_eq!(count(&sa, Command::VERSION).msgs_sent, 1);
    assert_eq!(count(&sa, Command::PING).msgs_sent, 1);
    assert_eq!(count(&sa, Command::PONG).msgs_recv, 1);
    let total: u64 = sa.commands.iter().map(|c| c.bytes_sent).sum();
    assert_eq!(total, sa.bytes_sent);
    assert!(sa.last_ping_rtt.is_some());
    assert!(sa.last_recv.is_some() && sa.last_send.is_some());
}

#[test]
fn one_seed_gives_identical_transcripts() {
    let run = |seed| {
        let mut p = Pair::new(cfg(), cfg(), seed);
        assert!(p.handshake());
        p.a.peer.send(Message::GetAddr);
        p.run_for(secs(600));
        p.transcript
    };
    let (x, y) = (run(11), run(11));
    assert!(!x.is_empty());
    assert_eq!(x, y);
    assert_ne!(x, run(12), "nonces differ with the seed");
}

#[test]
fn handshake_one_byte_at_a_time() {
    let mut p = Pair::new(cfg(), cfg(), 13);
    p.chunk = Some(1);
    assert!(p.handshake());
    p.run_for(secs(130));
    assert!(p.a.peer.last_ping_rtt().is_some());
    assert!(p.a.peer.is_ready() && p.b.peer.is_ready());
}

#[test]
fn clock_going_backwards_neither_panics_nor_stalls_timers() {
    let mut peer = inbound_peer(cfg());
    activate(&mut peer, 70016, ServiceFlags::NETWORK);
    peer.handle_timeout(EPOCH + secs(100));
    peer.handle_timeout(Time::ZERO);
    peer.handle_input(Time::ZERO, &frame(NET, &Message::Ping(4), 70016));
    drain_sent(&mut peer, Time::ZERO);
    let deadline = peer.poll_timeout().expect("timers armed");
    assert!(deadline <= EPOCH + secs(300));
    peer.handle_timeout(EPOCH + secs(301));
    assert!(peer.is_disconnected());
}
