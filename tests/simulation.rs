//! Deterministic simulation of whole networks of `Node`s (see tests/sim/mod.rs).
//!
//! `SIM_SEEDS=N` runs N seeds of the mixed-fault scenario (default 500); `SIM_SEED=x` replays
//! one (add `SIM_TRACE=1` to print its event trace). Every failure prints its seed and the
//! command that replays it.

mod sim;

use std::time::{Duration, Instant};

use bitpeer::DisconnectReason;
use sim::invariants::Kind;
use sim::{Fault, Outcome, Sabotage, Scenario};

fn fail_report(outcomes: &[&Outcome], test: &str) -> String {
    let mut s = format!("{} failing seed(s)\n", outcomes.len());
    for o in outcomes.iter().take(5) {
        s.push_str(&o.report(test));
    }
    s
}

fn print_trace(o: &Outcome) {
    for line in &o.trace {
        println!("{line}");
    }
}

/// CI's main run: hundreds of seeds of the mixed-fault scenario, every invariant checked.
#[test]
fn mixed_faults_many_seeds() {
    let seeds = sim::seeds(500);
    let start = Instant::now();
    let outcomes = sim::run_seeds(&Scenario::mixed(), &seeds);
    let elapsed = start.elapsed();
    if seeds.len() == 1 {
        print_trace(&outcomes[0]);
        println!("{}", outcomes[0].summary());
    }
    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| o.failed()).collect();
    assert!(
        failed.is_empty(),
        "{}",
        fail_report(&failed, "mixed_faults_many_seeds")
    );
    // The faults must actually have happened: over many seeds every kind of disconnect the
    // scenario provokes shows up, and inventory flows.
    let mut reasons = std::collections::BTreeMap::<String, u64>::new();
    let (mut handshakes, mut inv, mut pongs, mut chunks, mut addr) = (0, 0, 0, 0, 0);
    for o in &outcomes {
        addr += o.stats.addr_answers;
        for (r, c) in &o.stats.disconnects {
            *reasons.entry(r.clone()).or_default() += c;
        }
        handshakes += o.stats.handshakes;
        inv += o.stats.inv_entries;
        pongs += o.stats.pongs_matched;
        chunks += o.stats.chunks;
    }
    println!(
        "{} seeds in {:.1}s: {handshakes} handshakes, {inv} inv entries, {pongs} pongs, \
         {addr} getaddr answers, {chunks} chunks delivered, disconnects {reasons:?}",
        seeds.len(),
        elapsed.as_secs_f64()
    );
    assert!(handshakes > 0 && inv > 0 && pongs > 0 && addr > 0);
    if seeds.len() >= 100 {
        for r in [
            "ConnectionClosed",
            "IdleTimeout",
            "Stalled",
            "SendQueueFull",
            "HandshakeTimeout",
        ] {
            assert!(
                reasons.get(r).copied().unwrap_or(0) > 0,
                "no {r} disconnect in {} seeds: {reasons:?}",
                seeds.len()
            );
        }
    }
}

/// The same faults on a Decred network (dcrd's handshake, timers, expiring known inventory,
/// per-vector stall deadlines, legacy protocol versions).
#[test]
fn mixed_faults_decred_many_seeds() {
    let seeds = sim::seeds(100);
    let outcomes = sim::run_seeds(&Scenario::mixed_decred(), &seeds);
    if seeds.len() == 1 {
        print_trace(&outcomes[0]);
        println!("{}", outcomes[0].summary());
    }
    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| o.failed()).collect();
    assert!(
        failed.is_empty(),
        "{}",
        fail_report(&failed, "mixed_faults_decred_many_seeds")
    );
    let handshakes: u64 = outcomes.iter().map(|o| o.stats.handshakes).sum();
    let pongs: u64 = outcomes.iter().map(|o| o.stats.pongs_matched).sum();
    let addr: u64 = outcomes.iter().map(|o| o.stats.addr_answers).sum();
    println!(
        "{} Decred seeds: {handshakes} handshakes, {pongs} pongs, {addr} getaddr answers",
        seeds.len()
    );
    assert!(handshakes > 0 && pongs > 0);
}

/// Two runs of one seed produce the same event log; another seed does not.
#[test]
fn same_seed_same_event_log() {
    let s = Scenario::mixed();
    let a = sim::run(&s, 42);
    let b = sim::run(&s, 42);
    let c = sim::run(&s, 43);
    assert!(!a.failed(), "{}", a.report("same_seed_same_event_log"));
    assert_eq!(a.log_hash, b.log_hash, "seed 42 is not reproducible");
    assert_eq!(a.stats.frames, b.stats.frames);
    assert_eq!(a.stats.chunks, b.stats.chunks);
    assert_ne!(a.log_hash, c.log_hash, "different seeds, same log");
}

/// A fault-free network: every handshake completes, every item reaches every node, pings are
/// answered. (The 10,000-peer version is `cargo bench --bench sim`.)
#[test]
fn scale_network_relays_everything() {
    let s = Scenario::scale(40, 20);
    for seed in sim::seeds(1) {
        let o = sim::run(&s, seed);
        println!("{}", o.summary());
        assert!(
            !o.failed(),
            "{}",
            o.report("scale_network_relays_everything")
        );
        assert_eq!(o.stats.links, 400);
        assert_eq!(o.stats.handshakes, 400);
        assert_eq!(o.nodes_with_all_items, 40, "every node holds every item");
        assert!(o.disconnects.is_empty(), "{:?}", o.disconnects);
        // Two pings per direction per link in five minutes, all answered.
        assert!(o.stats.pongs_matched >= 2 * 2 * 400, "{}", o.summary());
    }
}

fn scripted(script: Vec<(Duration, Fault)>) -> Scenario {
    let mut s = Scenario::scripted(2, vec![(0, 1)]);
    s.script = script;
    s
}

fn reasons_at(o: &Outcome, node: usize) -> Vec<(f64, String)> {
    o.disconnects
        .iter()
        .filter(|d| d.node == node)
        .map(|d| ((d.at - sim::EPOCH).as_secs_f64(), format!("{:?}", d.reason)))
        .collect()
}

/// A peer that goes silent (its remote stops reading what it sends, so nothing arrives) is
/// disconnected exactly five minutes after the last message it received.
#[test]
fn silent_peer_is_disconnected_at_the_idle_deadline() {
    // Node 0 stops reading at t = 60 s for 8 minutes; the last frames it got were the
    // handshake's, at about t = 0.1 s.
    let s = scripted(vec![(
        Duration::from_secs(60),
        Fault::Stall {
            link: 0,
            dir: 1,
            dur: Duration::from_secs(480),
        },
    )]);
    let o = sim::run(&s, 1);
    assert!(
        !o.failed(),
        "{}",
        o.report("silent_peer_is_disconnected_at_the_idle_deadline")
    );
    let r0 = reasons_at(&o, 0);
    assert_eq!(r0.len(), 1, "{r0:?}");
    assert_eq!(r0[0].1, format!("{:?}", DisconnectReason::IdleTimeout));
    // Node 0 dialed: the listener's version and verack reached it at 0.1 s (two 50 ms hops).
    assert!(
        (r0[0].0 - 300.1).abs() < 1e-6,
        "idle disconnect at {}",
        r0[0].0
    );
    // Node 1 (still reading) sees the FIN one hop later.
    let r1 = reasons_at(&o, 1);
    assert_eq!(r1.len(), 1, "{r1:?}");
    assert_eq!(r1[0].1, format!("{:?}", DisconnectReason::ConnectionClosed));
    assert!((r1[0].0 - 300.15).abs() < 1e-6, "close seen at {}", r1[0].0);
}

/// A request the remote never answers trips the stall handler 30–45 s after it was written
/// (`getdata`) or 90–105 s (`getheaders`); the checker asserts the window.
#[test]
fn unanswered_requests_trip_the_stall_handler() {
    for (headers, lo, hi) in [(false, 30.0, 45.0), (true, 90.0, 105.0)] {
        let s = scripted(vec![(
            Duration::from_secs(20),
            Fault::Request {
                link: 0,
                side: 0,
                headers,
            },
        )]);
        let o = sim::run(&s, 2);
        assert!(
            !o.failed(),
            "{}",
            o.report("unanswered_requests_trip_the_stall_handler")
        );
        let r0 = reasons_at(&o, 0);
        assert_eq!(r0.len(), 1, "{r0:?}");
        assert!(r0[0].1.starts_with("Stalled"), "{r0:?}");
        let after = r0[0].0 - 20.0;
        assert!(
            after >= lo && after <= hi + 0.1,
            "stalled {after}s after the request"
        );
    }
}

/// A writer whose reader stopped reading piles bytes up until its send queue cap trips, and
/// never holds more than the cap.
#[test]
fn stalled_reader_fills_the_send_queue_to_its_cap() {
    let s = scripted(vec![
        (
            Duration::from_secs(10),
            Fault::Stall {
                link: 0,
                dir: 0,
                dur: Duration::from_secs(120),
            },
        ),
        (
            Duration::from_secs(10),
            Fault::Flood {
                link: 0,
                side: 0,
                until: sim::EPOCH + Duration::from_secs(100),
                every: Duration::from_millis(250),
                size: 16 * 1024,
            },
        ),
    ]);
    let o = sim::run(&s, 3);
    assert!(
        !o.failed(),
        "{}",
        o.report("stalled_reader_fills_the_send_queue_to_its_cap")
    );
    let r0 = reasons_at(&o, 0);
    assert_eq!(r0.len(), 1, "{r0:?}");
    assert!(r0[0].1.starts_with("SendQueueFull"), "{r0:?}");
    assert!(o.stats.peak_unsent <= 256 * 1024, "{}", o.stats.peak_unsent);
    assert!(o.stats.peak_unsent > 200 * 1024, "{}", o.stats.peak_unsent);
}

/// A partition delays bytes but loses none: announcements made during it arrive after it heals
/// and nobody disconnects.
#[test]
fn partition_heals_without_loss() {
    let mut s = Scenario::scripted(3, vec![(0, 1), (1, 2)]);
    s.items = 10;
    s.item_window = (Duration::from_secs(15), Duration::from_secs(50));
    s.script = vec![(
        Duration::from_secs(10),
        Fault::Partition {
            link: 0,
            dur: Duration::from_secs(60),
        },
    )];
    let o = sim::run(&s, 4);
    assert!(!o.failed(), "{}", o.report("partition_heals_without_loss"));
    assert!(o.disconnects.is_empty(), "{:?}", o.disconnects);
    assert_eq!(o.nodes_with_all_items, 3);
}

/// A clock stepping back an hour postpones a silent peer's idle deadline by the step, not
/// forever; a clock stepping forward past the idle timeout disconnects at once, never early.
#[test]
fn clock_steps_move_deadlines_by_the_step_only() {
    let s = scripted(vec![
        (
            Duration::from_secs(30),
            Fault::ClockStep {
                node: 0,
                delta_us: -3_600_000_000,
            },
        ),
        (
            Duration::from_secs(60),
            Fault::Stall {
                link: 0,
                dir: 1,
                dur: Duration::from_secs(2 * 3600),
            },
        ),
    ]);
    let o = sim::run(&s, 5);
    assert!(
        !o.failed(),
        "{}",
        o.report("clock_steps_move_deadlines_by_the_step_only")
    );
    let r0 = reasons_at(&o, 0);
    assert_eq!(r0.len(), 1, "{r0:?}");
    assert_eq!(r0[0].1, "IdleTimeout");
    // Last frame at 0.1 s (before the step); the step adds an hour.
    assert!((r0[0].0 - (3600.0 + 300.1)).abs() < 1e-6, "{r0:?}");

    let s = scripted(vec![(
        Duration::from_secs(30),
        Fault::ClockStep {
            node: 1,
            delta_us: 600_000_000,
        },
    )]);
    let o = sim::run(&s, 6);
    assert!(
        !o.failed(),
        "{}",
        o.report("clock_steps_move_deadlines_by_the_step_only")
    );
    let r1 = reasons_at(&o, 1);
    assert_eq!(r1.len(), 1, "{r1:?}");
    assert_eq!(r1[0].1, "IdleTimeout");
    assert!((r1[0].0 - 30.0).abs() < 1e-6, "{r1:?}");
}

// ----------------------------------------------------------------------------------------
// The checker catches deliberately broken behaviour.
// ----------------------------------------------------------------------------------------

fn sabotaged(sabotage: Sabotage) -> Outcome {
    let mut s = Scenario::scripted(3, vec![(0, 1), (1, 2), (2, 0)]);
    s.items = 12;
    s.horizon = Duration::from_secs(10 * 60);
    s.sabotage = vec![(1, sabotage)];
    sim::run(&s, 7)
}

#[test]
fn checker_catches_inventory_echoed_back() {
    let o = sabotaged(Sabotage::EchoInventory);
    assert!(
        o.has(Kind::AnnouncedBack),
        "{}",
        o.report("checker_catches_inventory_echoed_back")
    );
}

#[test]
fn checker_catches_duplicate_announcements() {
    let o = sabotaged(Sabotage::DuplicateInv);
    assert!(
        o.has(Kind::DuplicateInv),
        "{}",
        o.report("checker_catches_duplicate_announcements")
    );
}

#[test]
fn checker_catches_unanswered_pings() {
    let o = sabotaged(Sabotage::DropPongs);
    assert!(
        o.has(Kind::PingUnanswered),
        "{}",
        o.report("checker_catches_unanswered_pings")
    );
}

#[test]
fn checker_catches_missed_deadlines_and_lost_relay() {
    let mut s = scripted(vec![(
        Duration::from_secs(60),
        Fault::Stall {
            link: 0,
            dir: 1,
            dur: Duration::from_secs(480),
        },
    )]);
    s.sabotage = vec![(0, Sabotage::IgnoreTimers)];
    let o = sim::run(&s, 8);
    assert!(
        o.has(Kind::IdleLate),
        "{}",
        o.report("checker_catches_missed_deadlines_and_lost_relay")
    );

    // A node that never runs its timers never trickles: what it learned is never relayed.
    let o = sabotaged(Sabotage::IgnoreTimers);
    assert!(
        o.has(Kind::InventoryNotDelivered) || o.has(Kind::NotQuiescent),
        "{}",
        o.report("checker_catches_missed_deadlines_and_lost_relay")
    );
}

/// The sabotage-free version of the checker tests' network passes.
#[test]
fn checker_passes_the_unsabotaged_network() {
    let mut s = Scenario::scripted(3, vec![(0, 1), (1, 2), (2, 0)]);
    s.items = 12;
    s.horizon = Duration::from_secs(10 * 60);
    let o = sim::run(&s, 7);
    assert!(
        !o.failed(),
        "{}",
        o.report("checker_passes_the_unsabotaged_network")
    );
    assert_eq!(o.nodes_with_all_items, 3);
    assert!(o.stats.pongs_matched > 0);
}

/// Regression: after a node's clock stepped back past the moment its peer became ready, an
/// unanswered request used to wait for the clock to catch up with that moment (here ten
/// minutes) before the stall handler looked at it. It must still fire 30–45 s after the request.
#[test]
fn stall_handler_after_a_backward_clock_step() {
    let s = scripted(vec![
        (
            Duration::from_secs(60),
            Fault::ClockStep {
                node: 0,
                delta_us: -600_000_000,
            },
        ),
        (
            Duration::from_secs(70),
            Fault::Request {
                link: 0,
                side: 0,
                headers: false,
            },
        ),
    ]);
    let o = sim::run(&s, 9);
    assert!(
        !o.failed(),
        "{}",
        o.report("stall_handler_after_a_backward_clock_step")
    );
    let r0 = reasons_at(&o, 0);
    assert_eq!(r0.len(), 1, "{r0:?}");
    assert!(r0[0].1.starts_with("Stalled"), "{r0:?}");
    let after = r0[0].0 - 70.0;
    assert!(
        (30.0..=45.1).contains(&after),
        "stalled {after}s after the request"
    );
}

// ----------------------------------------------------------------------------------------
// The simulator's own parts.
// ----------------------------------------------------------------------------------------

#[test]
fn clock_round_trips_and_steps() {
    use bitpeer::Time;
    let mut c = sim::clock::Clock::with_offset(-5_000_000);
    let v = Time::from_secs(100);
    assert_eq!(c.local(v), Time::from_secs(95));
    assert_eq!(c.to_virtual(Time::from_secs(95)), v);
    c.step(10_000_000);
    assert_eq!(c.local(v), Time::from_secs(105));
    assert_eq!(c.steps(), 1);
}

#[test]
fn pipe_window_limits_acceptance_and_keeps_order() {
    use bitpeer::Time;
    use rand::SeedableRng;
    use sim::net::{Chunking, LinkParams, Pipe};
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
    let p = LinkParams {
        latency_us: 1000,
        jitter_us: 5000,
        window: 100,
        chunking: Chunking::Random {
            max: 17,
            tiny_permille: 300,
        },
    };
    let mut pipe = Pipe::default();
    let data: Vec<u8> = (0..=255).collect();
    pipe.push(bytes::Bytes::from(data.clone()));
    let now = Time::from_secs(1);
    assert_eq!(pipe.accept(now, &p, &mut rng), 100);
    assert_eq!(pipe.accept(now, &p, &mut rng), 0);
    let (mut got, mut pieces, mut t) = (Vec::new(), 0, now);
    while got.len() < data.len() {
        t = pipe.next_due().expect("something due");
        while let Some(piece) = pipe.pop_due(t) {
            got.extend_from_slice(&piece);
            pieces += 1;
        }
        pipe.accept(t, &p, &mut rng);
    }
    assert_eq!(got, data);
    assert!(pieces > 256 / 17, "{pieces} pieces");
    assert!(t > now);
    assert!(pipe.is_idle());
}

#[test]
fn checker_parses_inv_and_flags_duplicates() {
    use bitpeer::Time;
    use sim::invariants::{Checker, FrameInfo, parse_frame, parse_inv};
    let magic = [1, 2, 3, 4];
    let mut payload = vec![2u8];
    for h in [[7u8; 32], [9u8; 32]] {
        payload.extend_from_slice(&1u32.to_le_bytes());
        payload.extend_from_slice(&h);
    }
    let mut frame = magic.to_vec();
    frame.extend_from_slice(b"inv\0\0\0\0\0\0\0\0\0");
    frame.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    frame.extend_from_slice(&[0; 4]);
    frame.extend_from_slice(&payload);
    let (cmd, body) = parse_frame(magic, &frame).expect("well-formed");
    assert_eq!(cmd, "inv");
    assert_eq!(
        parse_inv(body).expect("two entries"),
        vec![[7; 32], [9; 32]]
    );
    assert!(parse_frame([0; 4], &frame).is_err());
    assert!(parse_frame(magic, &frame[..frame.len() - 1]).is_err());
    let t0 = (Time::ZERO, 0);
    let mut c = Checker::new(magic, None, &[[7; 32], [9; 32]], 2);
    let l = c.add_link([t0; 2]);
    c.handout(Time::ZERO, l, 0, 0, t0, &frame, true);
    assert_eq!(c.violation_count, 0);
    c.handout(Time::ZERO, l, 0, 0, t0, &frame, true);
    assert_eq!(c.violation_count, 2, "{:?}", c.violations());
    assert!(c.violations().iter().all(|v| v.kind == Kind::DuplicateInv));
    assert_eq!(c.advance(l, 0, frame.len() - 1), vec![]);
    assert_eq!(c.advance(l, 0, 1), vec![FrameInfo::Inv(vec![0, 1])]);

    // Where known inventory expires after 15 minutes, announcing again is allowed only after.
    let ttl = Duration::from_secs(900);
    let mut c = Checker::new(magic, Some(ttl), &[[7; 32], [9; 32]], 2);
    let l = c.add_link([t0; 2]);
    c.handout(Time::ZERO, l, 0, 0, t0, &frame, true);
    c.handout(Time::ZERO, l, 0, 0, (Time::ZERO + ttl, 0), &frame, true);
    assert_eq!(c.violation_count, 0, "{:?}", c.violations());
    assert_eq!(c.stats.reannounced_after_ttl, 2);
    c.handout(Time::ZERO, l, 0, 0, (Time::from_secs(899), 0), &frame, true);
    assert_eq!(c.violation_count, 2, "{:?}", c.violations());
}

/// Regression (Decred): a `getdata` queued behind our own backlog (here, while the remote's
/// reading is paused) used to start its stall deadline when queued, so the remote was
/// disconnected as stalled before the request had even been written. The deadline starts when
/// it is written (PEER.md section 15: "on sent").
#[test]
fn decred_stall_deadline_starts_when_the_request_is_written() {
    let mut s = scripted(vec![
        (
            Duration::from_secs(5),
            Fault::Stall {
                link: 0,
                dir: 0,
                dur: Duration::from_secs(60),
            },
        ),
        (
            Duration::from_secs(5),
            Fault::Flood {
                link: 0,
                side: 0,
                until: sim::EPOCH + Duration::from_millis(6400),
                every: Duration::from_millis(250),
                size: 16 * 1024,
            },
        ),
        (
            Duration::from_secs(10),
            Fault::Request {
                link: 0,
                side: 0,
                headers: false,
            },
        ),
    ]);
    s.network = bitpeer::Network::DECRED_SIMNET;
    let o = sim::run(&s, 10);
    assert!(
        !o.failed(),
        "{}",
        o.report("decred_stall_deadline_starts_when_the_request_is_written")
    );
    let r0 = reasons_at(&o, 0);
    assert_eq!(r0.len(), 1, "{r0:?}");
    assert!(r0[0].1.starts_with("StalledInventory"), "{r0:?}");
    // Written once the reader resumes at 65 s; due 30 s later, seen at the next 15 s tick.
    assert!((95.0..=110.2).contains(&r0[0].0), "{r0:?}");
}
