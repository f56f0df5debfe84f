//! The adapters over real loopback TCP: the tokio driver the examples use (`examples/net/`,
//! included by path so the tests exercise exactly the shipped code), a scripted Bitcoin Core
//! built from rust-bitcoin's codec, and the mio driver against the tokio one. Every test is
//! bounded by a timeout.

#[path = "../examples/net/mio_driver.rs"]
mod mio_driver;
#[path = "../examples/net/tokio_driver.rs"]
mod tokio_driver;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bitcoin::consensus::encode::{deserialize_partial, serialize};
use bitcoin::hashes::Hash as _;
use bitcoin::p2p::address::{AddrV2, AddrV2Message, Address};
use bitcoin::p2p::message::{CommandString, NetworkMessage, RawNetworkMessage};
use bitcoin::p2p::message_blockdata::{GetHeadersMessage, Inventory};
use bitcoin::p2p::message_compact_blocks::SendCmpct;
use bitcoin::p2p::message_network::VersionMessage;
use bitcoin::p2p::{Magic, ServiceFlags as BServices};
use bitcoin::{BlockHash, Wtxid};
use bitpeer::node::{Node, PeerId};
use bitpeer::peer::{Blame, TricklePolicy};
use bitpeer::wire::{Hash256, InvType, InvVect, Message, NetAddress, ServiceFlags};
use bitpeer::{Config, DisconnectReason, Event, Network, Time};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::time::timeout;
use tokio_driver::{NodeEvent, NodeHandle};

const LIMIT: Duration = Duration::from_secs(10);

fn cfg() -> Config {
    let mut cfg = Config::new(Network::BITCOIN_REGTEST)
        .services(ServiceFlags::NETWORK | ServiceFlags::WITNESS)
        .trickle(TricklePolicy::Fixed(Duration::from_millis(50)));
    cfg.ping_interval = Duration::from_millis(300);
    cfg
}

fn hashes(rng: &mut ChaCha20Rng, n: usize) -> Vec<Hash256> {
    (0..n).map(|_| Hash256(rng.r#gen())).collect()
}

/// A listening hub and `n` dialing nodes (each its own `Node`, tags 1..=n); returns once every
/// handshake completed on both ends.
async fn star(
    n: usize,
    rng: &mut ChaCha20Rng,
    tx: &UnboundedSender<NodeEvent>,
    rx: &mut UnboundedReceiver<NodeEvent>,
) -> (NodeHandle, Vec<NodeHandle>, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hub = NodeHandle::spawn(Node::new(cfg(), rng), 0, tx.clone());
    hub.listen(listener);
    let mut dialers = Vec::new();
    for tag in 1..=n {
        let node = NodeHandle::spawn(Node::new(cfg(), rng), tag, tx.clone());
        node.connect(addr).await.unwrap();
        dialers.push(node);
    }
    let mut ready: HashMap<usize, usize> = HashMap::new();
    while ready.values().sum::<usize>() < 2 * n {
        let ev = rx.recv().await.unwrap();
        match ev.event {
            Event::Ready(_) => *ready.entry(ev.node).or_default() += 1,
            Event::Disconnected(r) => {
                panic!("node {} peer {:?} disconnected: {r}", ev.node, ev.peer)
            }
            _ => {}
        }
    }
    assert_eq!(ready[&0], n);
    assert!((1..=n).all(|tag| ready[&tag] == 1));
    (hub, dialers, addr)
}

/// Node tag -> announced hash -> times it arrived, for inv received until `done` holds and
/// then for `linger` longer (so a duplicate would show).
async fn collect_invs(
    rx: &mut UnboundedReceiver<NodeEvent>,
    linger: Duration,
    done: impl Fn(&HashMap<usize, HashMap<Hash256, u32>>) -> bool,
) -> HashMap<usize, HashMap<Hash256, u32>> {
    let mut seen: HashMap<usize, HashMap<Hash256, u32>> = HashMap::new();
    let mut until = None;
    loop {
        let ev = match until {
            None => rx.recv().await,
            Some(t) => match tokio::time::timeout_at(t, rx.recv()).await {
                Ok(ev) => ev,
                Err(_) => return seen,
            },
        };
        let ev = ev.unwrap();
        match ev.event {
            Event::Message(Message::Inv(list)) => {
                for iv in list {
                    *seen.entry(ev.node).or_default().entry(iv.hash).or_default() += 1;
                }
            }
            Event::Disconnected(r) => {
                panic!("node {} peer {:?} disconnected: {r}", ev.node, ev.peer)
            }
            _ => {}
        }
        if until.is_none() && done(&seen) {
            until = Some(tokio::time::Instant::now() + linger);
        }
    }
}

/// Whether every peer of `node` measured a ping round trip.
async fn all_pinged(node: &NodeHandle) -> bool {
    node.call(|node, now| {
        let ids = node.peer_ids();
        !ids.is_empty()
            && ids
                .iter()
                .all(|id| node.peer(*id).unwrap().stats(now).last_ping_rtt.is_some())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_peers_handshake_relay_inventory_exactly_once_and_ping() {
    timeout(LIMIT, async {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let (tx, mut rx) = unbounded_channel();
        let (hub, dialers, _) = star(50, &mut rng, &tx, &mut rx).await;
        let txs = hashes(&mut rng, 300);
        let announce = txs.clone();
        dialers[0]
            .call(move |node, _| {
                announce
                    .into_iter()
                    .for_each(|h| node.announce(InvVect::new(InvType::TX, h)))
            })
            .await;
        let want: HashSet<Hash256> = txs.into_iter().collect();
        let complete = |seen: &HashMap<usize, HashMap<Hash256, u32>>| {
            (0..=50)
                .filter(|t| *t != 1)
                .all(|t| seen.get(&t).is_some_and(|m| m.len() == want.len()))
        };
        let seen = collect_invs(&mut rx, Duration::from_millis(300), complete).await;
        assert!(
            !seen.contains_key(&1),
            "the announcing node got its own inventory back"
        );
        for (tag, got) in &seen {
            assert_eq!(
                got.keys().copied().collect::<HashSet<_>>(),
                want,
                "node {tag}"
            );
            assert!(got.values().all(|n| *n == 1), "node {tag} got duplicates");
        }
        for node in std::iter::once(&hub).chain(&dialers) {
            while !all_pinged(node).await {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        let hub_peers = hub.call(|node, _| node.peer_ids().len()).await;
        assert_eq!(hub_peers, 50);
    })
    .await
    .expect("timed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_dialing_its_own_listener_detects_self_connection_on_both_ends() {
    timeout(LIMIT, async {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let (tx, mut rx) = unbounded_channel();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let node = NodeHandle::spawn(Node::new(cfg(), &mut rng), 0, tx);
        node.listen(listener);
        node.connect(addr).await.unwrap();
        let mut reasons = HashMap::new();
        while reasons.len() < 2 {
            let ev = rx.recv().await.unwrap();
            match ev.event {
                Event::Disconnected(r) => assert!(reasons.insert(ev.peer, r).is_none()),
                Event::Ready(_) => panic!("a self-connection completed its handshake"),
                _ => {}
            }
        }
        for r in reasons.values() {
            assert_eq!(*r, DisconnectReason::SelfConnection);
            assert_eq!(r.blame(), Blame::Incompatible);
        }
        // Both sockets are gone from the node.
        while node.call(|node, _| node.peer_ids().len()).await > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("timed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_sender_is_disconnected_as_malformed_while_the_others_stay_up() {
    timeout(LIMIT, async {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let (tx, mut rx) = unbounded_channel();
        let (hub, dialers, addr) = star(3, &mut rng, &tx, &mut rx).await;
        let mut raw = TcpStream::connect(addr).await.unwrap();
        let raw_addr = raw.local_addr().unwrap();
        raw.write_all(b"GET / HTTP/1.1\r\nHost: bitpeer\r\n\r\n")
            .await
            .unwrap();
        let reason = loop {
            let ev = rx.recv().await.unwrap();
            if let Event::Disconnected(r) = ev.event {
                assert_eq!(
                    (ev.node, ev.addr),
                    (0, raw_addr),
                    "the wrong peer went: {r}"
                );
                break r;
            }
        };
        assert!(matches!(reason, DisconnectReason::Malformed(_)), "{reason}");
        assert_eq!(reason.blame(), Blame::Remote);
        let mut rest = Vec::new();
        let closed = raw.read_to_end(&mut rest).await; // EOF (or a reset): the hub hung up
        assert!(closed.is_err() || rest.is_empty(), "{closed:?} {rest:?}");
        // The three good peers are still up and still relay.
        let ready = hub
            .call(|node, _| {
                node.peer_ids()
                    .iter()
                    .filter(|id| node.peer(**id).unwrap().is_ready())
                    .count()
            })
            .await;
        assert_eq!(ready, 3);
        let h = hashes(&mut rng, 1)[0];
        dialers[0]
            .call(move |node, _| node.announce(InvVect::new(InvType::TX, h)))
            .await;
        let complete = |seen: &HashMap<usize, HashMap<Hash256, u32>>| seen.len() == 3;
        let seen = collect_invs(&mut rx, Duration::from_millis(100), complete).await;
        for tag in [0, 2, 3] {
            assert_eq!(
                seen[&tag].keys().collect::<Vec<_>>(),
                vec![&h],
                "node {tag}"
            );
        }
    })
    .await
    .expect("timed out");
}

/// The remote end of one connection, speaking through rust-bitcoin's codec (as Core's bytes).
struct Scripted {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Scripted {
    /// The next message and its raw frame.
    async fn recv(&mut self) -> (NetworkMessage, Vec<u8>) {
        loop {
            if let Ok((msg, used)) = deserialize_partial::<RawNetworkMessage>(&self.buf) {
                assert_eq!(*msg.magic(), Magic::REGTEST);
                let raw: Vec<u8> = self.buf.drain(..used).collect();
                return (msg.payload().clone(), raw);
            }
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk).await.unwrap();
            assert!(
                n > 0,
                "the node closed the connection; unparsed: {:?}",
                self.buf
            );
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    async fn send(&mut self, msg: NetworkMessage) {
        let bytes = serialize(&RawNetworkMessage::new(Magic::REGTEST, msg));
        self.stream.write_all(&bytes).await.unwrap();
    }

    /// Bitcoin Core's side of a handshake with a node that dialed it (net_processing.cpp:
    /// `version`, then `wtxidrelay`, `sendaddrv2`, `sendtxrcncl`, then `verack`); `relay` is
    /// false for a `-blocksonly` Core. Returns the node's `version`, its raw frame and the
    /// messages it sent up to its `verack`.
    async fn core_handshake(
        &mut self,
        relay: bool,
    ) -> (VersionMessage, Vec<u8>, Vec<NetworkMessage>) {
        let (msg, raw) = self.recv().await;
        let NetworkMessage::Version(theirs) = msg else {
            panic!("first message {msg:?}")
        };
        let ours = VersionMessage {
            version: 70016,
            services: BServices::NETWORK | BServices::WITNESS | BServices::NETWORK_LIMITED,
            timestamp: Time::now().as_secs() as i64,
            receiver: Address::new(&self.stream.peer_addr().unwrap(), BServices::NONE),
            sender: Address::new(&"0.0.0.0:0".parse().unwrap(), BServices::NONE),
            nonce: 0x1234_5678_9abc_def0,
            user_agent: "/Satoshi:28.1.0/".into(),
            start_height: 850_000,
            relay,
        };
        self.send(NetworkMessage::Version(ours)).await;
        self.send(NetworkMessage::WtxidRelay).await;
        self.send(NetworkMessage::SendAddrV2).await;
        let mut rcncl = 1u32.to_le_bytes().to_vec();
        rcncl.extend_from_slice(&7u64.to_le_bytes());
        let command = CommandString::try_from_static("sendtxrcncl").unwrap();
        self.send(NetworkMessage::Unknown {
            command,
            payload: rcncl,
        })
        .await;
        self.send(NetworkMessage::Verack).await;
        let mut before_verack = Vec::new();
        loop {
            let (msg, _) = self.recv().await;
            let end = msg == NetworkMessage::Verack;
            before_verack.push(msg);
            if end {
                return (theirs, raw, before_verack);
            }
        }
    }
}

/// The node dials a scripted Bitcoin Core; returns the node, its events and the script.
async fn dial_scripted_core(seed: u64) -> (NodeHandle, UnboundedReceiver<NodeEvent>, Scripted) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (tx, rx) = unbounded_channel();
    let node = NodeHandle::spawn(
        Node::new(cfg(), &mut ChaCha20Rng::seed_from_u64(seed)),
        0,
        tx,
    );
    node.connect(listener.local_addr().unwrap()).await.unwrap();
    let (stream, _) = listener.accept().await.unwrap();
    (
        node,
        rx,
        Scripted {
            stream,
            buf: Vec::new(),
        },
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bitcoin_core_handshake_bytes_and_post_verack_traffic_are_tolerated() {
    timeout(LIMIT, async {
        let (node, mut events, mut core) = dial_scripted_core(4).await;
        let (version, raw, negotiation) = core.core_handshake(true).await;
        // Our version as Core parses it, relay byte included (last payload byte).
        assert_eq!(version.version, 70016);
        assert!(version.relay);
        assert_eq!(raw.last(), Some(&1));
        assert_eq!(
            u32::from_le_bytes(raw[16..20].try_into().unwrap()) as usize,
            raw.len() - 24
        );
        assert!(
            version.user_agent.starts_with("/bitpeer:"),
            "{}",
            version.user_agent
        );
        assert_ne!(version.nonce, 0);
        assert_eq!(
            version.receiver.port,
            core.stream.local_addr().unwrap().port()
        );
        assert!(version.timestamp.abs_diff(Time::now().as_secs() as i64) < 60);
        // wtxidrelay and sendaddrv2 strictly before verack, nothing else.
        assert_eq!(
            negotiation,
            vec![
                NetworkMessage::WtxidRelay,
                NetworkMessage::SendAddrV2,
                NetworkMessage::Verack
            ]
        );
        let ev = events.recv().await.unwrap();
        let Event::Ready(v) = ev.event else {
            panic!("{:?}", ev.event)
        };
        assert_eq!(
            (v.user_agent.as_str(), v.start_height),
            ("/Satoshi:28.1.0/", 850_000)
        );

        // What Core sends once the handshake is done.
        let wtxid = Wtxid::from_byte_array([7; 32]);
        let core_ping = 0xfeed_beef_u64;
        let addrs = vec![
            AddrV2Message {
                time: 1_700_000_000,
                services: BServices::NETWORK,
                addr: AddrV2::Ipv4([203, 0, 113, 9].into()),
                port: 18444,
            },
            AddrV2Message {
                time: 1_700_000_000,
                services: BServices::NETWORK,
                addr: AddrV2::TorV3([9; 32]),
                port: 18444,
            },
        ];
        let script = [
            NetworkMessage::SendCmpct(SendCmpct {
                send_compact: false,
                version: 2,
            }),
            NetworkMessage::Ping(core_ping),
            NetworkMessage::GetHeaders(GetHeadersMessage::new(
                vec![BlockHash::from_byte_array([3; 32])],
                BlockHash::all_zeros(),
            )),
            NetworkMessage::FeeFilter(1000),
            NetworkMessage::SendHeaders,
            NetworkMessage::AddrV2(addrs),
            NetworkMessage::Inv(vec![Inventory::WTx(wtxid)]),
        ];
        for msg in script {
            core.send(msg).await;
        }
        // Answer the node's pings like Core; its pong must echo our nonce; nothing it sends may
        // be a handshake message (Core disconnects for those after verack).
        let (mut ponged, mut pings) = (false, Vec::new());
        while !(ponged && pings.len() >= 2) {
            match core.recv().await.0 {
                NetworkMessage::Pong(n) => {
                    assert_eq!(n, core_ping);
                    ponged = true;
                }
                NetworkMessage::Ping(n) => {
                    pings.push(n);
                    core.send(NetworkMessage::Pong(n)).await;
                }
                m @ (NetworkMessage::Version(_)
                | NetworkMessage::Verack
                | NetworkMessage::WtxidRelay
                | NetworkMessage::SendAddrV2) => {
                    panic!("{m:?} after verack")
                }
                _ => {}
            }
        }
        assert!(
            pings[0] != 0 && pings[0] != pings[1],
            "BIP31 nonces: {pings:?}"
        );
        let (ready, rtt, headers, fee, known) = node
            .call(|node, now| {
                let p = node.peer(PeerId(0)).unwrap();
                let addrs: Vec<NetAddress> = node.known_addresses().copied().collect();
                (
                    p.is_ready(),
                    p.stats(now).last_ping_rtt,
                    p.wants_headers(),
                    p.fee_filter(),
                    addrs,
                )
            })
            .await;
        assert!(ready && rtt.is_some());
        assert!(headers);
        assert_eq!(fee, Some(1000));
        assert_eq!(
            known.len(),
            1,
            "the IPv4 entry of Core's addrv2 is stored: {known:?}"
        );
        assert_eq!(
            known[0].ip_addr(),
            "203.0.113.9".parse::<std::net::IpAddr>().unwrap()
        );
        // Every message reached the application, and nothing disconnected.
        let mut commands = Vec::new();
        while let Ok(ev) = events.try_recv() {
            match ev.event {
                Event::Message(m) => commands.push(m.command().to_string()),
                Event::Disconnected(r) => panic!("disconnected: {r}"),
                _ => {}
            }
        }
        for c in [
            "sendcmpct",
            "ping",
            "getheaders",
            "feefilter",
            "sendheaders",
            "addrv2",
            "inv",
        ] {
            assert!(
                commands.iter().any(|x| x == c),
                "{c} missing from {commands:?}"
            );
        }
    })
    .await
    .expect("timed out");
}

/// Splits raw bytes into (command, payload) frames, checking magic, length and checksum by
/// hand (rust-bitcoin's `Reject` insists on a hash that BIP61 only carries for tx and block).
fn frames(mut bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        assert!(bytes.len() >= 24, "partial header {bytes:?}");
        assert_eq!(bytes[..4], Magic::REGTEST.to_bytes());
        let command = String::from_utf8(bytes[4..16].to_vec()).unwrap();
        let len = u32::from_le_bytes(bytes[16..20].try_into().unwrap()) as usize;
        let payload = bytes[24..24 + len].to_vec();
        let hash = bitcoin::hashes::sha256d::Hash::hash(&payload);
        assert_eq!(
            bytes[20..24],
            hash.as_byte_array()[..4],
            "checksum of {command}"
        );
        out.push((command.trim_end_matches('\0').to_string(), payload));
        bytes = &bytes[24 + len..];
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_frame_after_handshake_gets_reject_malformed_and_a_hang_up() {
    timeout(LIMIT, async {
        let (_node, mut events, mut core) = dial_scripted_core(5).await;
        core.core_handshake(true).await;
        let mut frame = serialize(&RawNetworkMessage::new(
            Magic::REGTEST,
            NetworkMessage::Ping(1),
        ));
        frame[20] ^= 0xff; // the checksum
        core.stream.write_all(&frame).await.unwrap();
        // Everything until the node hangs up: pings at most, then one reject(malformed).
        let mut rest = std::mem::take(&mut core.buf);
        core.stream.read_to_end(&mut rest).await.unwrap();
        let frames = frames(&rest);
        let (last, payload) = frames.last().expect("a reject before the hang-up");
        assert_eq!(last, "reject");
        assert!(payload.starts_with(b"\x09malformed\x01"), "{payload:?}");
        assert!(frames[..frames.len() - 1].iter().all(|(c, _)| c == "ping"));
        let reason = loop {
            if let Event::Disconnected(r) = events.recv().await.unwrap().event {
                break r;
            }
        };
        assert!(matches!(reason, DisconnectReason::Malformed(_)), "{reason}");
        assert_eq!(reason.blame(), Blame::Remote);
    })
    .await
    .expect("timed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn getaddr_is_answered_with_gossiped_addresses() {
    timeout(LIMIT, async {
        let mut rng = ChaCha20Rng::seed_from_u64(6);
        let (tx, mut rx) = unbounded_channel();
        let (hub, dialers, _) = star(2, &mut rng, &tx, &mut rx).await;
        let gossip: Vec<NetAddress> = (1..=3)
            .map(|i| NetAddress {
                time: 1_700_000_000,
                ..NetAddress::new([198, 51, 100, i].into(), 8333, ServiceFlags::NETWORK)
            })
            .collect();
        let sent = gossip.clone();
        dialers[0]
            .call(move |node, _| node.peer_mut(PeerId(0)).unwrap().push_addr(&sent).unwrap())
            .await;
        while hub.call(|node, _| node.known_addresses().count()).await < 3 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        dialers[1]
            .call(|node, _| node.peer_mut(PeerId(0)).unwrap().send(Message::GetAddr))
            .await;
        let got = loop {
            let ev = rx.recv().await.unwrap();
            if let (2, Event::Message(Message::Addr(list))) = (ev.node, ev.event) {
                break list;
            }
        };
        let got: HashSet<_> = got.iter().map(|a| (a.ip, a.port)).collect();
        assert_eq!(got, gossip.iter().map(|a| (a.ip, a.port)).collect());
    })
    .await
    .expect("timed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mio_adapter_interoperates_with_the_tokio_adapter() {
    timeout(LIMIT, async {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let (tx, mut rx) = unbounded_channel();
        let (_hub, dialers, addr) = star(1, &mut rng, &tx, &mut rx).await;
        let mio_txs = hashes(&mut rng, 20);
        let tokio_txs = hashes(&mut rng, 20);
        let announce = mio_txs.clone();
        let (stop_tx, stop) = std::sync::mpsc::channel::<()>();
        // The mio node runs on its own thread until told to stop and its ping was answered.
        let mio = std::thread::spawn(move || {
            let mut rng = ChaCha20Rng::seed_from_u64(8);
            let mut m = mio_driver::MioNode::new(Node::new(cfg(), &mut rng)).unwrap();
            let id = m.connect(addr).unwrap();
            let (deadline, mut got, mut announced) =
                (Instant::now() + LIMIT, HashMap::new(), false);
            let mut stopped = false;
            let rtt = |m: &mio_driver::MioNode| m.node.peer(id).and_then(|p| p.last_ping_rtt());
            while Instant::now() < deadline && !(stopped && rtt(&m).is_some()) {
                m.turn(Duration::from_millis(20), |_, _, _, ev| match ev {
                    Event::Message(Message::Inv(list)) => list
                        .iter()
                        .for_each(|iv| *got.entry(iv.hash).or_insert(0) += 1),
                    Event::Disconnected(r) => panic!("mio peer disconnected: {r}"),
                    _ => {}
                })
                .unwrap();
                if !announced && m.node.peer(id).is_some_and(|p| p.is_ready()) {
                    announced = true;
                    announce
                        .iter()
                        .for_each(|h| m.node.announce(InvVect::new(InvType::TX, *h)));
                }
                stopped |= stop.try_recv().is_ok();
            }
            (got, rtt(&m))
        });
        // The hub sees the mio node's handshake; then the tokio dialer announces.
        loop {
            let ev = rx.recv().await.unwrap();
            if matches!(ev.event, Event::Ready(_)) {
                assert_eq!(ev.node, 0);
                break;
            }
        }
        let announce = tokio_txs.clone();
        dialers[0]
            .call(move |node, _| {
                announce
                    .into_iter()
                    .for_each(|h| node.announce(InvVect::new(InvType::TX, h)))
            })
            .await;
        let seen = collect_invs(&mut rx, Duration::from_millis(150), |seen| {
            seen.get(&1).is_some_and(|m| m.len() == 20)
        })
        .await;
        stop_tx.send(()).unwrap();
        assert_eq!(
            seen[&1].keys().copied().collect::<HashSet<_>>(),
            mio_txs.into_iter().collect()
        );
        assert!(seen[&1].values().all(|n| *n == 1));
        let (got, rtt) = tokio::task::spawn_blocking(move || mio.join().unwrap())
            .await
            .unwrap();
        assert_eq!(
            got.keys().copied().collect::<HashSet<_>>(),
            tokio_txs.into_iter().collect()
        );
        assert!(got.values().all(|n| *n == 1));
        assert!(rtt.is_some(), "the mio node's ping got a pong");
    })
    .await
    .expect("timed out");
}

/// Single-threaded on purpose: all the calls are queued before the node task runs again.
#[tokio::test(flavor = "current_thread")]
async fn node_task_loses_no_command_in_a_burst() {
    timeout(LIMIT, async {
        let (tx, _rx) = unbounded_channel();
        let node = NodeHandle::spawn(Node::new(cfg(), &mut ChaCha20Rng::seed_from_u64(9)), 0, tx);
        // Far more commands than the node task handles per batch, all queued at once: a dropped
        // command would drop its reply channel and fail the call.
        let calls: Vec<_> = (0..5000u32)
            .map(|i| {
                let node = node.clone();
                tokio::spawn(async move { node.call(move |_, _| i).await })
            })
            .collect();
        for (i, call) in calls.into_iter().enumerate() {
            assert_eq!(call.await.expect("a call was lost"), i as u32);
        }
    })
    .await
    .expect("timed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactions_are_not_relayed_to_a_blocks_only_core() {
    timeout(LIMIT, async {
        // The node dials a -blocksonly Core (relay = false) and accepts a bitpeer dialer.
        let (node, mut events, mut core) = dial_scripted_core(10).await;
        core.core_handshake(false).await;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        node.listen(listener);
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let (dtx, _drx) = unbounded_channel();
        let dialer = NodeHandle::spawn(Node::new(cfg(), &mut rng), 1, dtx);
        dialer.connect(addr).await.unwrap();
        let mut ready = 0;
        while ready < 2 {
            if let Event::Ready(_) = events.recv().await.unwrap().event {
                ready += 1; // Core, then the dialer
            }
        }
        let [tx, block] = [0, 1].map(|_| Hash256(rng.r#gen()));
        let wtx = InvVect::new(InvType::WTX, tx);
        dialer.call(move |node, _| node.announce(wtx)).await;
        loop {
            if let Event::Message(Message::Inv(list)) = events.recv().await.unwrap().event {
                assert_eq!(list, vec![wtx]);
                break;
            }
        }
        // Several trickle rounds pass; then a block, which is announced at once.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let (queued, known) = node
            .call(move |node, _| {
                let core = node.peer(PeerId(0)).unwrap();
                (core.queued_inventory(), core.is_known_inventory(&wtx))
            })
            .await;
        assert_eq!(
            (queued, known),
            (0, false),
            "the transaction was queued for Core"
        );
        let block_iv = InvVect::new(InvType::BLOCK, block);
        dialer.call(move |node, _| node.announce(block_iv)).await;
        loop {
            match core.recv().await.0 {
                NetworkMessage::Inv(list) => {
                    assert_eq!(
                        list,
                        vec![Inventory::Block(BlockHash::from_byte_array(block.0))]
                    );
                    break;
                }
                NetworkMessage::Ping(n) => core.send(NetworkMessage::Pong(n)).await,
                _ => {}
            }
        }
    })
    .await
    .expect("timed out");
}
