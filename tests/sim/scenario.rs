//! Scenarios: the shape of a network and the faults it suffers, turned into a concrete plan by
//! the seeded PRNG (topology, per-node configuration and clock, fault schedule, inventory).

use std::time::Duration;

use std::net::Ipv4Addr;

use bitpeer::peer::{Config, TricklePolicy};
use bitpeer::wire::{Hash256, InvType, InvVect, NetAddress, ServiceFlags, versions};
use bitpeer::{Chain, Network, Time};
use rand::Rng;

use super::net::{Chunking, LinkParams};
use super::{EPOCH, Fault, Sabotage};

/// How nodes are connected.
#[derive(Clone, Debug)]
pub enum Topology {
    /// A random spanning tree plus `extra` random links (parallel links allowed).
    Connected {
        /// Links beyond the tree.
        extra: usize,
    },
    /// A random `degree`-regular multigraph (configuration model, no self-loops): every node
    /// has exactly `degree` peers.
    Regular {
        /// Peers per node.
        degree: usize,
    },
    /// These links, `(dialer, listener)`.
    Explicit(Vec<(usize, usize)>),
}

/// Relative weights of the chunking modes links are drawn with.
#[derive(Clone, Copy, Debug)]
pub struct ChunkMix {
    /// Whole segments.
    pub whole: u32,
    /// Random sizes up to 512 bytes, a few single bytes.
    pub random: u32,
    /// Random sizes up to 16 bytes, a third single bytes.
    pub tiny: u32,
    /// Every piece one byte.
    pub bytewise: u32,
}

/// Fault probabilities, in per-mille: per initial link, except `clock_step` (per node) and
/// `redial` (per dead link).
#[derive(Clone, Copy, Debug, Default)]
pub struct FaultMix {
    /// The link is reset once.
    pub reset: u32,
    /// A partition of 2–60 s.
    pub short_partition: u32,
    /// A partition of 4–8 min (longer than the 5 min idle timeout, sometimes).
    pub long_partition: u32,
    /// One side stops reading for 10 s – 7 min.
    pub stall: u32,
    /// One side floods 16 KiB messages for 20–90 s while the other stops reading (the writer's
    /// queue must hit its cap) — or, half the time, while it keeps reading.
    pub flood: u32,
    /// One side sends a `getdata` or `getheaders` the remote never answers (the stall handler
    /// must fire within the spec's window).
    pub request: u32,
    /// A partition of 10–60 s from the moment the link is dialed (the handshake times out
    /// when it lasts more than 30 s).
    pub slow_handshake: u32,
    /// The node's clock steps once or twice by ±30 s – 10 min.
    pub clock_step: u32,
    /// A dead link is redialed after 1–30 s (at most three times).
    pub redial: u32,
}

/// Everything a run is made of, before the seed fixes the details.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Name (for reports).
    pub name: &'static str,
    /// The network every node is on.
    pub network: Network,
    /// Nodes start with addresses to gossip, and dialers send `getaddr` once ready.
    pub gossip: bool,
    /// Nodes.
    pub nodes: usize,
    /// Links.
    pub topology: Topology,
    /// Faults, dials and announcements happen before this (virtual time after the epoch).
    pub horizon: Duration,
    /// After the horizon the run continues until the network is quiet, for at most this long.
    pub settle_cap: Duration,
    /// Initial links are dialed at random times in `0..dial_stagger`.
    pub dial_stagger: Duration,
    /// Inventory items injected at random nodes.
    pub items: usize,
    /// Items are injected at random times in this window.
    pub item_window: (Duration, Duration),
    /// Per-mille of items that are blocks (announced at once, not trickled).
    pub block_permille: u32,
    /// Base one-way latency range, milliseconds.
    pub latency_ms: (u64, u64),
    /// Jitter per piece, up to this many milliseconds.
    pub jitter_ms: u64,
    /// Bytes in flight per direction.
    pub window: usize,
    /// Chunking modes.
    pub chunking: ChunkMix,
    /// Faults.
    pub faults: FaultMix,
    /// Each node's clock is offset by up to ± this many seconds.
    pub skew_secs: i64,
    /// Draw trickle policy and protocol version per node (else btcd defaults, latest version).
    pub mixed_nodes: bool,
    /// `Config::max_send_queue_bytes` of every node.
    pub max_send_queue_bytes: usize,
    /// Deliberately broken nodes (checker tests).
    pub sabotage: Vec<(usize, Sabotage)>,
    /// Faults at fixed times (after the epoch), on initial link indices.
    pub script: Vec<(Duration, Fault)>,
}

/// One node's plan.
#[derive(Clone, Debug)]
pub struct NodePlan {
    /// Its configuration.
    pub cfg: Config,
    /// Its clock offset, microseconds.
    pub offset_us: i64,
    /// Whether its clock will step.
    pub unstable: bool,
    /// Addresses it knows at the start.
    pub addresses: Vec<NetAddress>,
    /// Deliberate misbehaviour.
    pub sabotage: Option<Sabotage>,
}

/// A scenario made concrete by a seed.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Nodes.
    pub nodes: Vec<NodePlan>,
    /// Initial links `(dialer, listener)`.
    pub links: Vec<(usize, usize)>,
    /// Faults (including dials and announcements) at virtual times.
    pub faults: Vec<(Time, Fault)>,
    /// The inventory items.
    pub items: Vec<InvVect>,
}

fn at(d: Duration) -> Time {
    EPOCH.saturating_add(d)
}

fn roll<R: Rng>(rng: &mut R, permille: u32) -> bool {
    permille > 0 && rng.gen_range(0..1000) < permille
}

fn secs<R: Rng>(rng: &mut R, lo: f64, hi: f64) -> Duration {
    Duration::from_micros(rng.gen_range((lo * 1e6) as u64..=(hi * 1e6) as u64))
}

impl Scenario {
    /// The mixed-fault scenario CI runs for hundreds of seeds: 10 nodes on a random connected
    /// graph (15 links), 20 virtual minutes of resets, partitions (during the handshake too),
    /// stalled readers, floods, unanswered requests, skewed and stepping clocks and redials, 60
    /// inventory items; nodes differ in trickle policy and protocol version; links differ in
    /// latency and chunking (whole segments, random pieces, single bytes).
    pub fn mixed() -> Scenario {
        Scenario {
            name: "mixed",
            network: Network::BITCOIN_REGTEST,
            gossip: true,
            nodes: 10,
            topology: Topology::Connected { extra: 6 },
            horizon: Duration::from_secs(20 * 60),
            settle_cap: Duration::from_secs(2 * 3600),
            dial_stagger: Duration::from_secs(2),
            items: 60,
            item_window: (Duration::from_secs(1), Duration::from_secs(19 * 60)),
            block_permille: 100,
            latency_ms: (1, 300),
            jitter_ms: 50,
            window: 64 * 1024,
            chunking: ChunkMix {
                whole: 45,
                random: 35,
                tiny: 15,
                bytewise: 5,
            },
            faults: FaultMix {
                reset: 150,
                short_partition: 200,
                long_partition: 60,
                stall: 150,
                flood: 80,
                request: 80,
                slow_handshake: 40,
                clock_step: 100,
                redial: 600,
            },
            skew_secs: 2 * 3600,
            mixed_nodes: true,
            max_send_queue_bytes: 256 * 1024,
            sabotage: Vec::new(),
            script: Vec::new(),
        }
    }

    /// The mixed-fault scenario on a Decred network: dcrd's handshake order, 120 s idle timeout,
    /// 107 s pings, 100–500 ms trickle, known inventory that expires after 15 minutes, per-vector
    /// stall deadlines (`getdata` only), protocol versions 9–12 (legacy verack rule below 12).
    pub fn mixed_decred() -> Scenario {
        Scenario {
            name: "mixed-decred",
            network: Network::DECRED_SIMNET,
            // On: at protocol 12 `Node` answers getaddr with Decred's addrv2, below with addr.
            gossip: true,
            ..Scenario::mixed()
        }
    }

    /// A fault-free network of `nodes` nodes with `degree` peers each (`nodes × degree` peer
    /// ends): every handshake, the relay of 20 items to every node, and two rounds of pings.
    pub fn scale(nodes: usize, degree: usize) -> Scenario {
        Scenario {
            name: "scale",
            network: Network::BITCOIN_REGTEST,
            gossip: false,
            nodes,
            topology: Topology::Regular { degree },
            horizon: Duration::from_secs(5 * 60),
            settle_cap: Duration::from_secs(30 * 60),
            dial_stagger: Duration::from_secs(5),
            items: 20,
            item_window: (Duration::from_secs(10), Duration::from_secs(60)),
            block_permille: 100,
            latency_ms: (5, 100),
            jitter_ms: 10,
            window: 256 * 1024,
            chunking: ChunkMix {
                whole: 90,
                random: 10,
                tiny: 0,
                bytewise: 0,
            },
            faults: FaultMix::default(),
            skew_secs: 60,
            mixed_nodes: false,
            max_send_queue_bytes: 40 * 1024 * 1024,
            sabotage: Vec::new(),
            script: Vec::new(),
        }
    }

    /// `nodes` nodes on explicit links, no random faults, whole-segment chunking, 50 ms
    /// latency: the base for scripted tests.
    pub fn scripted(nodes: usize, links: Vec<(usize, usize)>) -> Scenario {
        Scenario {
            name: "scripted",
            network: Network::BITCOIN_REGTEST,
            gossip: false,
            nodes,
            topology: Topology::Explicit(links),
            horizon: Duration::from_secs(15 * 60),
            settle_cap: Duration::from_secs(3 * 3600),
            dial_stagger: Duration::ZERO,
            items: 0,
            item_window: (Duration::from_secs(1), Duration::from_secs(60)),
            block_permille: 0,
            latency_ms: (50, 50),
            jitter_ms: 0,
            window: 64 * 1024,
            chunking: ChunkMix {
                whole: 1,
                random: 0,
                tiny: 0,
                bytewise: 0,
            },
            faults: FaultMix::default(),
            skew_secs: 0,
            mixed_nodes: false,
            max_send_queue_bytes: 256 * 1024,
            sabotage: Vec::new(),
            script: Vec::new(),
        }
    }

    /// Draws a link's characteristics.
    pub fn link_params<R: Rng>(&self, rng: &mut R) -> LinkParams {
        let (lo, hi) = self.latency_ms;
        let c = self.chunking;
        let total = (c.whole + c.random + c.tiny + c.bytewise).max(1);
        let pick = rng.gen_range(0..total);
        let chunking = if pick < c.whole {
            Chunking::Whole
        } else if pick < c.whole + c.random {
            Chunking::Random {
                max: 512,
                tiny_permille: 20,
            }
        } else if pick < c.whole + c.random + c.tiny {
            Chunking::Random {
                max: 16,
                tiny_permille: 333,
            }
        } else {
            Chunking::Random {
                max: 1,
                tiny_permille: 1000,
            }
        };
        LinkParams {
            latency_us: rng.gen_range(lo * 1000..=hi.max(lo) * 1000).max(1),
            jitter_us: self.jitter_ms * 1000,
            window: self.window,
            chunking,
        }
    }

    fn node_config<R: Rng>(&self, rng: &mut R) -> Config {
        let decred = self.network.chain() == Chain::Decred;
        let services = if decred {
            ServiceFlags::NETWORK
        } else {
            ServiceFlags::NETWORK | ServiceFlags::WITNESS
        };
        let mut cfg = Config::new(self.network).services(services);
        if self.mixed_nodes {
            cfg = cfg.trickle(match rng.gen_range(0..4) {
                0 => TricklePolicy::Fixed(Duration::from_secs(10)),
                1 => TricklePolicy::Fixed(Duration::from_millis(1500)),
                2 => TricklePolicy::Poisson {
                    outbound_mean: Duration::from_secs(2),
                    inbound_mean: Duration::from_secs(5),
                },
                _ => TricklePolicy::Uniform {
                    min: Duration::from_millis(100),
                    max: Duration::from_millis(500),
                },
            });
            let v = if decred {
                [12, 12, 11, 9][rng.gen_range(0..4)]
            } else {
                [versions::LATEST, 70_015, 70_012, 70_002][rng.gen_range(0..4)]
            };
            cfg = cfg.protocol_version(v);
        }
        cfg.max_send_queue_bytes = self.max_send_queue_bytes;
        cfg
    }

    fn topology<R: Rng>(&self, rng: &mut R) -> Vec<(usize, usize)> {
        let n = self.nodes;
        let orient = |rng: &mut R, a: usize, b: usize| {
            if rng.gen_bool(0.5) { (a, b) } else { (b, a) }
        };
        match &self.topology {
            Topology::Explicit(links) => links.clone(),
            Topology::Connected { extra } => {
                let mut links = Vec::new();
                for i in 1..n {
                    let parent = rng.gen_range(0..i);
                    links.push(orient(rng, parent, i));
                }
                for _ in 0..*extra {
                    if n < 2 {
                        break;
                    }
                    let a = rng.gen_range(0..n);
                    let b = (a + rng.gen_range(1..n)) % n;
                    links.push((a, b));
                }
                links
            }
            Topology::Regular { degree } => {
                assert!(n * degree % 2 == 0 && n > 1, "n × degree must be even");
                let mut stubs: Vec<usize> = (0..n).flat_map(|i| vec![i; *degree]).collect();
                for i in (1..stubs.len()).rev() {
                    let j = rng.gen_range(0..=i);
                    stubs.swap(i, j);
                }
                // Break self-loops by swapping with a random stub elsewhere.
                for _ in 0..100 {
                    let mut clean = true;
                    for p in (0..stubs.len()).step_by(2) {
                        if stubs[p] == stubs[p + 1] {
                            clean = false;
                            let j = rng.gen_range(0..stubs.len());
                            stubs.swap(p + 1, j);
                        }
                    }
                    if clean {
                        break;
                    }
                }
                stubs
                    .chunks_exact(2)
                    .filter(|p| p[0] != p[1])
                    .map(|p| (p[0], p[1]))
                    .collect()
            }
        }
    }

    /// Makes the scenario concrete.
    pub fn plan<R: Rng>(&self, rng: &mut R) -> Plan {
        let h = self.horizon.as_secs_f64();
        let mut nodes = Vec::new();
        let mut faults = Vec::new();
        for i in 0..self.nodes {
            let cfg = self.node_config(rng);
            let offset_us = if self.skew_secs > 0 {
                rng.gen_range(-self.skew_secs * 1_000_000..=self.skew_secs * 1_000_000)
            } else {
                0
            };
            let unstable = roll(rng, self.faults.clock_step);
            if unstable {
                for _ in 0..rng.gen_range(1..=2) {
                    let when = secs(rng, 10.0, h - 60.0);
                    let size = rng.gen_range(30_000_000..=600_000_000i64);
                    let delta_us = if rng.gen_bool(0.5) { size } else { -size };
                    faults.push((at(when), Fault::ClockStep { node: i, delta_us }));
                }
            }
            let sabotage = self.sabotage.iter().find(|(n, _)| *n == i).map(|(_, s)| *s);
            let mut addresses = Vec::new();
            if self.gossip {
                for _ in 0..rng.gen_range(0..=60) {
                    let ip = Ipv4Addr::from(rng.gen_range(0x0100_0000..=0xdfff_ffffu32));
                    addresses.push(NetAddress {
                        time: EPOCH.as_secs() as u32,
                        services: ServiceFlags::NETWORK,
                        ip: ip.to_ipv6_mapped(),
                        port: rng.gen_range(1..=u16::MAX),
                    });
                }
            }
            nodes.push(NodePlan {
                cfg,
                offset_us,
                unstable,
                addresses,
                sabotage,
            });
        }
        let links = self.topology(rng);
        for (l, &(a, b)) in links.iter().enumerate() {
            let when = if self.dial_stagger.is_zero() {
                Duration::ZERO
            } else {
                secs(rng, 0.0, self.dial_stagger.as_secs_f64())
            };
            faults.push((at(when), Fault::Dial { a, b, redials: 3 }));
            let f = self.faults;
            if roll(rng, f.slow_handshake) {
                let dur = secs(rng, 10.0, 60.0);
                faults.push((at(when), Fault::Partition { link: l, dur }));
            }
            let window = |rng: &mut R, lo: f64, hi: f64| {
                let dur = secs(rng, lo, hi);
                let start = secs(rng, 5.0, (h - 30.0 - dur.as_secs_f64()).max(5.0));
                (start, dur)
            };
            if roll(rng, f.reset) {
                let when = secs(rng, 5.0, h - 60.0);
                faults.push((at(when), Fault::Reset { link: l }));
            }
            if roll(rng, f.short_partition) {
                let (start, dur) = window(rng, 2.0, 60.0);
                faults.push((at(start), Fault::Partition { link: l, dur }));
            }
            if roll(rng, f.long_partition) {
                let (start, dur) = window(rng, 240.0, 480.0);
                faults.push((at(start), Fault::Partition { link: l, dur }));
            }
            if roll(rng, f.stall) {
                let (start, dur) = window(rng, 10.0, 420.0);
                let dir = rng.gen_range(0..2);
                faults.push((at(start), Fault::Stall { link: l, dir, dur }));
            }
            if roll(rng, f.flood) {
                let (start, dur) = window(rng, 20.0, 90.0);
                let side = rng.gen_range(0..2);
                if rng.gen_bool(0.5) {
                    faults.push((
                        at(start),
                        Fault::Stall {
                            link: l,
                            dir: side,
                            dur: dur + Duration::from_secs(5),
                        },
                    ));
                }
                faults.push((
                    at(start),
                    Fault::Flood {
                        link: l,
                        side,
                        until: at(start + dur),
                        every: Duration::from_millis(250),
                        size: 16 * 1024,
                    },
                ));
            }
            if roll(rng, f.request) {
                let when = secs(rng, 5.0, h - 180.0);
                let side = rng.gen_range(0..2);
                // dcrd keeps no deadline for getheaders.
                let headers = rng.gen_bool(0.5) && self.network.chain() == Chain::Bitcoin;
                faults.push((
                    at(when),
                    Fault::Request {
                        link: l,
                        side,
                        headers,
                    },
                ));
            }
        }
        let mut items = Vec::new();
        for i in 0..self.items {
            let mut hash = [0u8; 32];
            rng.fill(&mut hash[..]);
            let inv_type = if roll(rng, self.block_permille) {
                InvType::BLOCK
            } else {
                InvType::TX
            };
            items.push(InvVect::new(inv_type, Hash256(hash)));
            let (lo, hi) = self.item_window;
            let when = secs(rng, lo.as_secs_f64(), hi.as_secs_f64());
            let node = rng.gen_range(0..self.nodes);
            faults.push((
                at(when),
                Fault::Announce {
                    node,
                    item: i as u32,
                },
            ));
        }
        for (d, f) in &self.script {
            faults.push((at(*d), f.clone()));
        }
        Plan {
            nodes,
            links,
            faults,
            items,
        }
    }
}
