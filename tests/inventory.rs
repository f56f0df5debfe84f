//! Inventory relay and the push helpers, through the public API with virtual time.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use bitpeer::peer::{PushError, TricklePolicy};
use bitpeer::wire::{
    AddrV2, AddrV2Address, Hash256, InvType, InvVect, Message, NetAddress, RejectCode, ServiceFlags,
};
use bitpeer::{Network, PeerState, Time};
use common::{EPOCH, addr, cfg, drain_events, drain_sent, frame};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

const NET: Network = Network::BITCOIN_REGTEST;

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn tx(i: u32) -> InvVect {
    let mut h = [0u8; 32];
    h[..4].copy_from_slice(&i.to_le_bytes());
    InvVect::new(InvType::TX, Hash256(h))
}

/// An active inbound peer (scripted remote) at `EPOCH`.
fn active(config: bitpeer::Config, version: u32, services: ServiceFlags, seed: u64) -> PeerState {
    let mut peer = PeerState::inbound(
        config,
        addr("192.0.2.9:40000"),
        EPOCH,
        &mut ChaCha20Rng::seed_from_u64(seed),
    );
    let v = Message::Version(bitpeer::wire::Version {
        protocol_version: version as i32,
        services,
        timestamp: EPOCH.as_secs() as i64,
        nonce: 77,
        ..Default::default()
    });
    peer.handle_input(EPOCH, &frame(NET, &v, version));
    if version >= 70016 {
        peer.handle_input(EPOCH, &frame(NET, &Message::SendAddrV2, version));
    }
    peer.handle_input(EPOCH, &frame(NET, &Message::Verack, version));
    assert!(peer.is_ready());
    drain_sent(&mut peer, EPOCH);
    drain_events(&mut peer);
    peer
}

fn invs(msgs: &[Message]) -> Vec<Vec<InvVect>> {
    msgs.iter()
        .filter_map(|m| match m {
            Message::Inv(l) => Some(l.clone()),
            _ => None,
        })
        .collect()
}

/// Runs timers up to `until`, collecting (time, inv lists) of what is sent.
fn run(peer: &mut PeerState, from: Time, until: Time) -> Vec<(Time, Vec<InvVect>)> {
    let mut out = Vec::new();
    let mut now = from;
    while let Some(t) = peer.poll_timeout() {
        if t > until {
            break;
        }
        now = now.max(t);
        peer.handle_timeout(now);
        for l in invs(&drain_sent(peer, now)) {
            out.push((now, l));
        }
    }
    out
}

fn fixed(s: u64) -> bitpeer::Config {
    cfg().trickle(TricklePolicy::Fixed(secs(s)))
}

#[test]
fn batches_are_at_most_1000_vectors() {
    for (n, want) in [
        (999usize, vec![999usize]),
        (1000, vec![1000]),
        (1001, vec![1000, 1]),
        (2500, vec![1000, 1000, 500]),
    ] {
        let mut peer = active(fixed(10), 70016, ServiceFlags::NETWORK, 1);
        for i in 0..n {
            assert!(peer.queue_inventory(tx(i as u32)));
        }
        assert_eq!(peer.queued_inventory(), n);
        let sent = run(&mut peer, EPOCH, EPOCH + secs(10));
        let sizes: Vec<usize> = sent.iter().map(|(_, l)| l.len()).collect();
        assert_eq!(sizes, want, "{n} vectors");
        let all: Vec<InvVect> = sent.into_iter().flat_map(|(_, l)| l).collect();
        assert_eq!(all, (0..n as u32).map(tx).collect::<Vec<_>>(), "order kept");
        assert_eq!(peer.queued_inventory(), 0);
    }
}

#[test]
fn fixed_trickle_flushes_on_interval_ticks() {
    let mut peer = active(fixed(10), 70016, ServiceFlags::NETWORK, 2);
    assert_eq!(
        peer.poll_timeout(),
        Some(EPOCH + secs(120)),
        "nothing queued: no trickle wakeup"
    );
    peer.handle_timeout(EPOCH + secs(3));
    peer.queue_inventory(tx(1));
    assert_eq!(peer.poll_timeout(), Some(EPOCH + secs(10)));
    let sent = run(&mut peer, EPOCH + secs(3), EPOCH + secs(24));
    assert_eq!(sent, vec![(EPOCH + secs(10), vec![tx(1)])]);
    // Queued after a quiet spell: waits for the next tick, not sent at once.
    peer.handle_timeout(EPOCH + secs(25));
    peer.queue_inventory(tx(2));
    let sent = run(&mut peer, EPOCH + secs(25), EPOCH + secs(60));
    assert_eq!(sent, vec![(EPOCH + secs(30), vec![tx(2)])]);
}

#[test]
fn poisson_trickle_schedule_and_means() {
    let poisson = cfg().trickle(TricklePolicy::Poisson {
        outbound_mean: secs(2),
        inbound_mean: secs(5),
    });
    // Mean of many rounds with a fixed seed: queue one vector, measure until it is sent.
    let mean_delay = |config: bitpeer::Config, inbound: bool| {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let mut peer = if inbound {
            active(config, 70016, ServiceFlags::NETWORK, 3)
        } else {
            let mut p = PeerState::outbound(config, addr("192.0.2.1:1"), EPOCH, &mut rng);
            let v = Message::Version(bitpeer::wire::Version {
                protocol_version: 70016,
                nonce: 5,
                ..Default::default()
            });
            p.handle_input(EPOCH, &frame(NET, &v, 70016));
            p.handle_input(EPOCH, &frame(NET, &Message::Verack, 70016));
            drain_sent(&mut p, EPOCH);
            p
        };
        let rounds = 4000u32;
        let mut now = EPOCH;
        let mut total = Duration::ZERO;
        for i in 0..rounds {
            // Keep the peer alive: a ping from the remote every round.
            peer.handle_input(now, &frame(NET, &Message::Ping(1), 70016));
            drain_sent(&mut peer, now);
            peer.queue_inventory(tx(i));
            let t = peer.poll_timeout().unwrap();
            assert!(t >= now);
            peer.handle_timeout(t);
            let sent = invs(&drain_sent(&mut peer, t));
            if sent != vec![vec![tx(i)]] {
                // A ping or idle timer came first; finish the round.
                let t2 = peer.poll_timeout().unwrap();
                peer.handle_timeout(t2);
                assert_eq!(invs(&drain_sent(&mut peer, t2)), vec![vec![tx(i)]]);
                total += t2 - now;
                now = t2;
            } else {
                total += t - now;
                now = t;
            }
        }
        total.as_secs_f64() / f64::from(rounds)
    };
    let out = mean_delay(poisson.clone(), false);
    let inb = mean_delay(poisson.clone(), true);
    // Exponential: standard error of the mean = mean / sqrt(4000) ≈ 1.6 %.
    assert!((out - 2.0).abs() < 0.1, "outbound mean {out}");
    assert!((inb - 5.0).abs() < 0.25, "inbound mean {inb}");

    // The exact schedule for one seed is reproducible.
    let schedule = || {
        let mut peer = active(poisson.clone(), 70016, ServiceFlags::NETWORK, 42);
        let mut times = Vec::new();
        let mut now = EPOCH;
        for i in 0..5 {
            peer.queue_inventory(tx(i));
            let sent = run(&mut peer, now, now + secs(60));
            now = sent[0].0;
            times.push(now - EPOCH);
        }
        times
    };
    let a = schedule();
    assert_eq!(a, schedule());
    assert!(a.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn known_inventory_is_never_announced_in_either_direction() {
    let mut peer = active(fixed(10), 70016, ServiceFlags::NETWORK, 4);
    // The remote announced tx 1: we must not announce it back.
    peer.handle_input(EPOCH, &frame(NET, &Message::Inv(vec![tx(1)]), 70016));
    assert!(peer.is_known_inventory(&tx(1)));
    assert!(!peer.queue_inventory(tx(1)));
    // We announce tx 2 once; queuing it again afterwards does nothing.
    assert!(peer.queue_inventory(tx(2)));
    assert!(
        peer.queue_inventory(tx(2)),
        "duplicates in the queue are allowed..."
    );
    let sent = run(&mut peer, EPOCH, EPOCH + secs(10));
    assert_eq!(
        sent,
        vec![(EPOCH + secs(10), vec![tx(2)])],
        "...but sent once"
    );
    assert!(!peer.queue_inventory(tx(2)));
    // Learned between queueing and the trickle: skipped.
    assert!(peer.queue_inventory(tx(3)));
    peer.add_known_inventory(tx(3));
    assert!(run(&mut peer, EPOCH + secs(10), EPOCH + secs(20)).is_empty());
    assert_eq!(peer.known_inventory_len(), 3);
}

#[test]
fn known_inventory_evicts_least_recently_used() {
    let mut c = fixed(10);
    c.max_known_inventory = 3;
    let mut peer = active(c, 70016, ServiceFlags::NETWORK, 5);
    for i in 1..=3 {
        peer.add_known_inventory(tx(i));
    }
    peer.add_known_inventory(tx(1)); // refresh 1: now 2 is the oldest
    peer.add_known_inventory(tx(4)); // evicts 2
    assert!(peer.is_known_inventory(&tx(1)));
    assert!(!peer.is_known_inventory(&tx(2)));
    assert!(peer.is_known_inventory(&tx(3)) && peer.is_known_inventory(&tx(4)));
    assert!(peer.queue_inventory(tx(2)));
    assert!(!peer.queue_inventory(tx(3)));
}

#[test]
fn immediate_inventory_and_blocks_bypass_the_trickle() {
    let mut peer = active(fixed(10), 70016, ServiceFlags::NETWORK, 6);
    peer.queue_inventory(tx(1));
    assert!(peer.queue_inventory_now(tx(2)));
    let block = InvVect::new(InvType::BLOCK, Hash256([9; 32]));
    assert!(peer.queue_inventory(block));
    assert_eq!(
        invs(&drain_sent(&mut peer, EPOCH)),
        vec![vec![tx(2)], vec![block]]
    );
    assert!(
        !peer.queue_inventory_now(tx(2)),
        "known after the immediate send"
    );
    assert!(!peer.queue_inventory(block));
    let sent = run(&mut peer, EPOCH, EPOCH + secs(10));
    assert_eq!(sent, vec![(EPOCH + secs(10), vec![tx(1)])]);
}

fn v4(i: u32) -> NetAddress {
    NetAddress::new(
        std::net::Ipv4Addr::from(0x0a00_0000 + i).into(),
        8333,
        ServiceFlags::NETWORK,
    )
}

#[test]
fn push_addr_truncates_to_a_uniform_random_subset() {
    let all: Vec<NetAddress> = (0..3000).map(v4).collect();
    let mut counts: HashMap<NetAddress, u32> = HashMap::new();
    let trials = 300;
    for seed in 0..trials {
        let mut peer = active(cfg(), 70016, ServiceFlags::NETWORK, 1000 + seed);
        let sent = peer.push_addr(&all).unwrap();
        assert_eq!(sent.len(), 1000);
        let mut uniq = sent.clone();
        uniq.sort_by_key(|a| a.ip);
        uniq.dedup();
        assert_eq!(uniq.len(), 1000, "no duplicates");
        assert_eq!(
            drain_sent(&mut peer, EPOCH),
            vec![Message::Addr(sent.clone())]
        );
        for a in sent {
            *counts.entry(a).or_default() += 1;
        }
    }
    // Each address is chosen with probability 1/3: expected 100 per address.
    assert_eq!(counts.len(), 3000, "every address was picked at least once");
    let expected = f64::from(trials as u32) / 3.0;
    let chi2: f64 = all
        .iter()
        .map(|a| {
            let o = f64::from(*counts.get(a).unwrap_or(&0));
            (o - expected).powi(2) / expected
        })
        .sum();
    // Binomial(300, 1/3) per cell, variance 66.7: chi² / cells ≈ 2/3 for a uniform pick;
    // a biased shuffle (e.g. always the first 1000) gives ~200 per cell.
    let per_cell = chi2 / 3000.0;
    assert!((0.55..0.8).contains(&per_cell), "chi²/cell = {per_cell}");

    // Short lists go out whole and in order; empty lists send nothing.
    let mut peer = active(cfg(), 70016, ServiceFlags::NETWORK, 7);
    assert_eq!(peer.push_addr(&all[..5]).unwrap(), all[..5].to_vec());
    assert!(peer.push_addr(&[]).unwrap().is_empty());
    assert_eq!(drain_sent(&mut peer, EPOCH).len(), 1);
}

#[test]
fn push_addrv2_falls_back_to_addr_without_sendaddrv2() {
    let entries = vec![
        AddrV2 {
            time: 1,
            services: ServiceFlags::NETWORK,
            addr: AddrV2Address::Ipv4([1, 2, 3, 4].into()),
            port: 8333,
        },
        AddrV2 {
            time: 2,
            services: ServiceFlags::NETWORK,
            addr: AddrV2Address::TorV3([7; 32]),
            port: 8333,
        },
    ];
    let mut modern = active(cfg(), 70016, ServiceFlags::NETWORK, 8);
    assert!(modern.wants_addrv2());
    assert_eq!(modern.push_addrv2(&entries).unwrap(), entries);
    assert_eq!(
        drain_sent(&mut modern, EPOCH),
        vec![Message::AddrV2(entries.clone())]
    );
    let mut old = active(cfg(), 70015, ServiceFlags::NETWORK, 9);
    assert!(!old.wants_addrv2());
    assert_eq!(old.push_addrv2(&entries).unwrap(), entries[..1].to_vec());
    assert_eq!(
        drain_sent(&mut old, EPOCH),
        vec![Message::Addr(vec![entries[0].to_legacy().unwrap()])]
    );
}

#[test]
fn getblocks_and_getheaders_suppress_back_to_back_duplicates() {
    let mut peer = active(cfg(), 70016, ServiceFlags::NETWORK, 10);
    let (h1, h2, stop) = (Hash256([1; 32]), Hash256([2; 32]), Hash256::ZERO);
    assert!(peer.push_get_blocks(&[h1, h2], stop).unwrap().is_some());
    assert_eq!(
        peer.push_get_blocks(&[h1], stop).unwrap(),
        None,
        "same begin and stop"
    );
    assert!(
        peer.push_get_headers(&[h1], stop).unwrap().is_some(),
        "tracked separately"
    );
    assert!(
        peer.push_get_blocks(&[h1], Hash256([3; 32]))
            .unwrap()
            .is_some()
    );
    assert!(
        peer.push_get_blocks(&[h2], Hash256([3; 32]))
            .unwrap()
            .is_some()
    );
    assert_eq!(peer.push_get_headers(&[h1], stop).unwrap(), None);
    // Empty locators are never duplicates.
    assert!(peer.push_get_headers(&[], stop).unwrap().is_some());
    assert!(peer.push_get_headers(&[], stop).unwrap().is_some());
    let too_many = vec![h1; 501];
    assert!(matches!(
        peer.push_get_headers(&too_many, stop),
        Err(PushError::TooMany { .. })
    ));
    let cmds: Vec<_> = drain_sent(&mut peer, EPOCH)
        .iter()
        .map(Message::command)
        .collect();
    assert_eq!(cmds.len(), 6);
}

#[test]
fn reject_is_gated_by_version_and_carries_hash_only_for_tx_and_block() {
    let mut old = active(cfg(), 70001, ServiceFlags::NETWORK, 11);
    assert_eq!(
        old.push_reject("tx", RejectCode::INVALID, "bad", Hash256([5; 32])),
        None
    );
    assert!(drain_sent(&mut old, EPOCH).is_empty());
    let mut peer = active(cfg(), 70002, ServiceFlags::NETWORK, 12);
    assert!(
        peer.push_reject("tx", RejectCode::INVALID, "bad", Hash256([5; 32]))
            .is_some()
    );
    assert!(
        peer.push_reject("inv", RejectCode::INVALID, "bad", Hash256([5; 32]))
            .is_some()
    );
    let sent = drain_sent(&mut peer, EPOCH);
    match sent.as_slice() {
        [Message::Reject(a), Message::Reject(b)] => {
            assert_eq!(a.hash, Hash256([5; 32]));
            assert_eq!(b.hash, Hash256::ZERO, "not on the wire for inv");
        }
        s => panic!("{s:?}"),
    }
}

#[test]
fn compact_filter_requests_need_the_service() {
    let mut plain = active(cfg(), 70016, ServiceFlags::NETWORK, 13);
    assert_eq!(
        plain.push_get_cfilters(0, 1, Hash256::ZERO),
        Err(PushError::NotOffered(ServiceFlags::COMPACT_FILTERS))
    );
    let mut cf = active(
        cfg(),
        70016,
        ServiceFlags::NETWORK | ServiceFlags::COMPACT_FILTERS,
        14,
    );
    cf.push_get_cfilters(0, 1, Hash256([1; 32])).unwrap();
    cf.push_get_cfheaders(0, 1, Hash256([1; 32])).unwrap();
    cf.push_get_cfcheckpt(0, Hash256([1; 32])).unwrap();
    let cmds: Vec<String> = drain_sent(&mut cf, EPOCH)
        .iter()
        .map(|m| m.command().to_string())
        .collect();
    assert_eq!(cmds, ["getcfilters", "getcfheaders", "getcfcheckpt"]);
}

#[test]
fn last_block_and_announced_block_bookkeeping() {
    let mut peer = active(cfg(), 70016, ServiceFlags::NETWORK, 15);
    peer.update_last_block_height(10);
    peer.update_last_block_height(5);
    assert_eq!(peer.last_block(), 10, "never lowered");
    peer.update_last_announced_block(Hash256([8; 32]));
    assert_eq!(peer.last_announced_block(), Some(Hash256([8; 32])));
}

#[test]
fn inventory_relays_between_two_real_peers() {
    let mut p = common::Pair::new(fixed(10), fixed(10), 16);
    assert!(p.handshake());
    for i in 0..1500 {
        p.a.peer.queue_inventory(tx(i));
    }
    p.run_for(secs(15));
    let got: Vec<InvVect> =
        p.b.messages()
            .iter()
            .filter_map(|m| match m {
                Message::Inv(l) => Some(l.clone()),
                _ => None,
            })
            .flatten()
            .collect();
    assert_eq!(got.len(), 1500);
    // B learned them from A's inv, so it will not announce them back: the newest 1000 (the
    // cache's capacity) are remembered, the oldest 500 were evicted.
    assert!((500..1500).all(|i| !p.b.peer.queue_inventory(tx(i))));
    assert!((0..500).all(|i| p.b.peer.queue_inventory(tx(i))));
}
