//! dcrd's peer behaviour where it differs from btcd (PEER.md section 15), through the public API.

mod common;

use std::time::Duration;

use bitpeer::peer::{Config, DisconnectReason, Event, MAX_PENDING_INVENTORY, Phase, TricklePolicy};
use bitpeer::wire::{Command, Hash256, InvType, InvVect, Message, ServiceFlags};
use bitpeer::{Network, PeerState};
use common::{EPOCH, Pair, addr, drain_events, drain_sent, frame};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

const NET: Network = Network::DECRED_SIMNET;

fn dcfg() -> Config {
    Config::new(NET).services(ServiceFlags::NETWORK)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn remote_version(version: i32, nonce: u64) -> Message {
    Message::Version(bitpeer::wire::Version {
        protocol_version: version,
        services: ServiceFlags::NETWORK,
        timestamp: EPOCH.as_secs() as i64,
        nonce,
        user_agent: "/dcrwire:1.0.0/dcrd:2.0.0/".into(),
        start_height: 1000,
        ..Default::default()
    })
}

fn peer(inbound: bool) -> PeerState {
    let mut rng = ChaCha20Rng::seed_from_u64(21);
    if inbound {
        PeerState::inbound(dcfg(), addr("192.0.2.5:50000"), EPOCH, &mut rng)
    } else {
        PeerState::outbound(dcfg(), addr("192.0.2.5:18555"), EPOCH, &mut rng)
    }
}

#[test]
fn defaults_follow_dcrd() {
    let c = dcfg();
    assert_eq!(c.protocol_version, 12);
    assert_eq!(c.min_protocol_version, 9);
    assert_eq!(c.idle_timeout, secs(120));
    assert_eq!(c.ping_interval, secs(107));
    assert_eq!(c.known_inventory_ttl, Some(secs(15 * 60)));
    assert!(matches!(c.trickle, TricklePolicy::Uniform { .. }));
}

#[test]
fn pair_handshakes_pings_and_relays_inventory() {
    let mut p = Pair::new(dcfg(), dcfg(), 31);
    assert!(p.handshake());
    assert_eq!(p.a.peer.negotiated_version(), 12);
    assert!(
        !p.a.peer.wants_addrv2() && !p.a.peer.wtxid_relay(),
        "no BIP155/339 messages"
    );
    assert!(!p.transcript.contains("wtxidrelay"));
    // Outbound: version out; B answers version+verack; A's verack only after B's arrived.
    assert_eq!(p.a.ready_at(), Some(EPOCH + Duration::from_millis(100)));
    assert_eq!(p.b.ready_at(), Some(EPOCH + Duration::from_millis(150)));
    let tx = InvVect::new(InvType::TX, Hash256([4; 32]));
    p.a.peer.queue_inventory(tx);
    p.run_for(Duration::from_millis(600));
    assert!(
        p.b.messages().contains(&&Message::Inv(vec![tx])),
        "trickled within 500 ms"
    );
    p.run_for(secs(110));
    assert!(p.a.peer.last_ping_rtt().is_some(), "pinged at 107 s");
    p.run_for(secs(3600));
    assert!(p.a.peer.is_ready() && p.b.peer.is_ready());
}

#[test]
fn outbound_sends_verack_only_after_the_remotes() {
    let mut p = peer(false);
    assert_eq!(
        drain_sent(&mut p, EPOCH)
            .iter()
            .map(Message::command)
            .collect::<Vec<_>>(),
        [Command::VERSION]
    );
    p.handle_input(EPOCH, &frame(NET, &remote_version(12, 9), 12));
    assert!(drain_sent(&mut p, EPOCH).is_empty(), "no verack yet");
    p.handle_input(EPOCH, &frame(NET, &Message::Verack, 12));
    assert_eq!(drain_sent(&mut p, EPOCH), [Message::Verack]);
    assert!(p.is_ready());
}

#[test]
fn inbound_advertises_the_negotiated_version() {
    let mut p = peer(true);
    p.handle_input(EPOCH, &frame(NET, &remote_version(11, 9), 11));
    let sent = drain_sent(&mut p, EPOCH);
    match sent.as_slice() {
        [Message::Version(v), Message::Verack] => assert_eq!(v.protocol_version, 11),
        s => panic!("{s:?}"),
    }
}

#[test]
fn strict_verack_at_protocol_12() {
    let mut p = peer(true);
    p.handle_input(EPOCH, &frame(NET, &remote_version(12, 9), 12));
    drain_sent(&mut p, EPOCH);
    p.handle_input(EPOCH, &frame(NET, &Message::Ping(1), 12));
    assert_eq!(
        drain_events(&mut p),
        [Event::Disconnected(
            DisconnectReason::UnexpectedHandshakeMessage(Command::PING)
        )]
    );
    assert!(
        drain_sent(&mut p, EPOCH).is_empty(),
        "dcrd never sends reject"
    );
}

#[test]
fn legacy_peers_may_send_two_messages_before_verack() {
    let mut p = peer(true);
    p.handle_input(EPOCH, &frame(NET, &remote_version(11, 9), 11));
    drain_sent(&mut p, EPOCH);
    p.handle_input(EPOCH, &frame(NET, &Message::Ping(7), 11));
    p.handle_input(EPOCH, &frame(NET, &Message::GetAddr, 11));
    assert_eq!(p.phase(), Phase::AwaitVerack);
    p.handle_input(EPOCH, &frame(NET, &Message::Verack, 11));
    assert!(p.is_ready());
    // The held messages are dispatched in order once active: the ping is answered.
    assert_eq!(drain_sent(&mut p, EPOCH), [Message::Pong(7)]);
    let evs = drain_events(&mut p);
    assert!(matches!(evs[0], Event::Ready(_)));
    assert_eq!(
        &evs[1..],
        [
            Event::Message(Message::Ping(7)),
            Event::Message(Message::GetAddr)
        ]
    );

    // A third non-verack message is one too many.
    let mut p = peer(true);
    p.handle_input(EPOCH, &frame(NET, &remote_version(11, 9), 11));
    for _ in 0..3 {
        p.handle_input(EPOCH, &frame(NET, &Message::Ping(7), 11));
    }
    assert_eq!(
        drain_events(&mut p),
        [Event::Disconnected(
            DisconnectReason::UnexpectedHandshakeMessage(Command::PING)
        )]
    );
}

#[test]
fn old_versions_are_refused_without_reject() {
    let mut p = peer(true);
    p.handle_input(EPOCH, &frame(NET, &remote_version(8, 9), 8));
    assert!(drain_sent(&mut p, EPOCH).is_empty());
    assert_eq!(
        drain_events(&mut p),
        [Event::Disconnected(
            DisconnectReason::ProtocolVersionTooOld {
                version: 8,
                minimum: 9
            }
        )]
    );
}

fn active_inbound() -> PeerState {
    let mut p = peer(true);
    p.handle_input(EPOCH, &frame(NET, &remote_version(12, 9), 12));
    p.handle_input(EPOCH, &frame(NET, &Message::Verack, 12));
    assert!(p.is_ready());
    drain_sent(&mut p, EPOCH);
    drain_events(&mut p);
    p
}

#[test]
fn duplicate_version_disconnects_without_reject_and_unknown_commands_disconnect() {
    let mut p = active_inbound();
    p.handle_input(EPOCH, &frame(NET, &remote_version(12, 10), 12));
    assert!(drain_sent(&mut p, EPOCH).is_empty());
    assert_eq!(
        drain_events(&mut p),
        [Event::Disconnected(DisconnectReason::DuplicateVersion)]
    );

    let mut p = active_inbound();
    let unknown = Message::Unknown {
        command: Command::new("bogus").unwrap(),
        payload: bytes::Bytes::new(),
    };
    p.handle_input(EPOCH, &frame(NET, &unknown, 12));
    assert!(matches!(
        drain_events(&mut p).as_slice(),
        [Event::Disconnected(DisconnectReason::Malformed(_))]
    ));
}

#[test]
fn stall_handler_tracks_each_requested_vector() {
    let mut p = active_inbound();
    let a = InvVect::new(InvType::TX, Hash256([1; 32]));
    let b = InvVect::new(InvType::TX, Hash256([2; 32]));
    p.handle_timeout(EPOCH + secs(5));
    p.send(Message::GetData(vec![a, b]));
    drain_sent(&mut p, EPOCH + secs(5));
    // Unrelated messages clear nothing; notfound for `a` clears only `a`.
    p.handle_input(
        EPOCH + secs(6),
        &frame(NET, &Message::NotFound(vec![a]), 12),
    );
    // Keep the idle timer quiet.
    for t in [20, 30, 40] {
        p.handle_input(EPOCH + secs(t), &frame(NET, &Message::Ping(1), 12));
        drain_sent(&mut p, EPOCH + secs(t));
    }
    // Deadline 35 s; ticks every 15 s from activation (0): disconnect at 45 s, naming `b`.
    p.handle_timeout(EPOCH + secs(44));
    assert!(p.is_ready());
    assert_eq!(p.poll_timeout(), Some(EPOCH + secs(45)));
    p.handle_timeout(EPOCH + secs(45));
    assert_eq!(
        drain_events(&mut p).last(),
        Some(&Event::Disconnected(DisconnectReason::StalledInventory(b)))
    );
}

#[test]
fn getdata_bursts_over_the_pending_limit_disconnect() {
    let mut p = active_inbound();
    let list = |start: u32| -> Vec<InvVect> {
        (start..start + 50_000)
            .map(|i| {
                let mut h = [0u8; 32];
                h[..4].copy_from_slice(&i.to_le_bytes());
                InvVect::new(InvType::TX, Hash256(h))
            })
            .collect()
    };
    assert!(p.send(Message::GetData(list(0))).is_some());
    drain_sent(&mut p, EPOCH);
    drain_events(&mut p);
    assert!(p.is_ready());
    p.send(Message::GetData(list(50_000)));
    assert_eq!(
        drain_events(&mut p),
        [Event::Disconnected(
            DisconnectReason::TooManyPendingRequests(100_000)
        )]
    );
    assert_eq!(MAX_PENDING_INVENTORY, 75_000);
}

#[test]
fn known_inventory_expires_after_fifteen_minutes() {
    let mut p = active_inbound();
    let tx = InvVect::new(InvType::TX, Hash256([3; 32]));
    p.add_known_inventory(tx);
    assert!(!p.queue_inventory(tx));
    // Keep the connection alive while time passes.
    let mut t = EPOCH;
    while t < EPOCH + secs(15 * 60 + 1) {
        t = t + secs(60);
        p.handle_input(t, &frame(NET, &Message::Ping(1), 12));
        drain_sent(&mut p, t);
    }
    assert!(!p.is_known_inventory(&tx));
    assert!(p.queue_inventory(tx));
}

#[test]
fn addresses_go_out_as_decred_addrv2_at_protocol_12_and_addr_below() {
    let addrs: Vec<bitpeer::wire::NetAddress> = (1..=3u8)
        .map(|i| {
            bitpeer::wire::NetAddress::new(
                std::net::Ipv4Addr::new(10, 0, 0, i).into(),
                9108,
                ServiceFlags::NETWORK,
            )
        })
        .collect();
    let mut p = active_inbound();
    assert_eq!(p.push_addr(&addrs).unwrap(), addrs);
    match drain_sent(&mut p, EPOCH).as_slice() {
        [Message::DcrAddrV2(list)] => {
            assert_eq!(list.len(), 3);
            assert_eq!(
                list[0].ip_addr(),
                Some(std::net::Ipv4Addr::new(10, 0, 0, 1).into())
            );
            assert_eq!(list[2].port, 9108);
        }
        s => panic!("{s:?}"),
    }
    let mut legacy = peer(true);
    legacy.handle_input(EPOCH, &frame(NET, &remote_version(11, 9), 11));
    legacy.handle_input(EPOCH, &frame(NET, &Message::Verack, 11));
    drain_sent(&mut legacy, EPOCH);
    legacy.push_addr(&addrs).unwrap();
    assert_eq!(drain_sent(&mut legacy, EPOCH), [Message::Addr(addrs)]);
}
