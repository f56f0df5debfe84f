//! PeerState benchmarks: handshakes per second, inventory queue+flush throughput, LRU rates,
//! and the memory figures (heap of an idle established peer, bytes per known-inventory entry),
//! which are printed before the timed runs.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Duration;

use bitpeer::lru::LruSet;
use bitpeer::peer::{Config, PeerState, TricklePolicy};
use bitpeer::wire::{Hash256, InvType, InvVect, ServiceFlags};
use bitpeer::{Network, Time};
use criterion::{BatchSize, Criterion, Throughput, criterion_group};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// Counts live heap bytes so the bench can report what a peer really holds.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const EPOCH: Time = Time::from_secs(1_795_000_000);

fn cfg() -> Config {
    Config::new(Network::BITCOIN_REGTEST)
        .services(ServiceFlags::NETWORK | ServiceFlags::WITNESS)
        .trickle(TricklePolicy::Fixed(Duration::from_secs(10)))
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([10, 0, 0, 1], port))
}

/// Moves frames between two peers until both are quiet; returns whether both are ready.
fn pump(a: &mut PeerState, b: &mut PeerState, now: Time) -> bool {
    loop {
        let mut moved = false;
        while let Some(f) = a.poll_transmit() {
            a.on_sent(f.len(), now);
            b.handle_input(now, &f);
            moved = true;
        }
        while let Some(f) = b.poll_transmit() {
            b.on_sent(f.len(), now);
            a.handle_input(now, &f);
            moved = true;
        }
        while a.poll_event().is_some() {}
        while b.poll_event().is_some() {}
        if !moved {
            return a.is_ready() && b.is_ready();
        }
    }
}

fn handshaken_pair(seed: u64) -> (PeerState, PeerState) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut a = PeerState::outbound(cfg(), addr(8333), EPOCH, &mut rng);
    let mut b = PeerState::inbound(cfg(), addr(40000), EPOCH, &mut rng);
    assert!(pump(&mut a, &mut b, EPOCH));
    (a, b)
}

fn tx(i: u32) -> InvVect {
    let mut h = [0u8; 32];
    h[..4].copy_from_slice(&i.to_le_bytes());
    h[4..8].copy_from_slice(&i.wrapping_mul(2_654_435_761).to_le_bytes());
    InvVect::new(InvType::TX, Hash256(h))
}

/// Heap bytes an established, idle peer holds (measured by dropping it) plus its inline size.
fn idle_peer_bytes() -> (usize, usize) {
    let (a, b) = handshaken_pair(1);
    // The node-wide nonce cache is shared by all of a node's peers: keep it alive so only the
    // peer's own memory is counted.
    let node_config = a.config().clone();
    let boxed = Box::new(a);
    let before = LIVE.load(Ordering::Relaxed);
    drop(boxed);
    let freed = (before - LIVE.load(Ordering::Relaxed)) as usize;
    drop(b);
    drop(node_config);
    let inline = std::mem::size_of::<PeerState>();
    (freed - inline, inline)
}

fn print_memory() {
    let (heap, inline) = idle_peer_bytes();
    println!(
        "memory: idle established PeerState: {} heap bytes + {} inline = {} bytes (goal ≤ 2048)",
        heap,
        inline,
        heap + inline
    );
    let (mut a, _b) = handshaken_pair(2);
    for i in 0..1000 {
        a.add_known_inventory(tx(i));
    }
    let bytes = a.known_inventory_heap_bytes();
    println!(
        "memory: known inventory at capacity 1000: {bytes} heap bytes = {:.1} bytes/entry (goal ≤ 64)",
        bytes as f64 / 1000.0
    );
}

fn bench_handshake(c: &mut Criterion) {
    let mut g = c.benchmark_group("peer");
    g.throughput(Throughput::Elements(1));
    let mut seed = 0u64;
    g.bench_function("handshake (in-memory pair)", |bench| {
        bench.iter(|| {
            seed += 1;
            black_box(handshaken_pair(seed));
        })
    });
    g.finish();
}

fn bench_inventory(c: &mut Criterion) {
    let mut g = c.benchmark_group("inventory");
    const N: u32 = 50_000;
    g.throughput(Throughput::Elements(u64::from(N)));
    g.bench_function("queue+flush to inv frames", |bench| {
        bench.iter_batched(
            || handshaken_pair(3).0,
            |mut peer| {
                for i in 0..N {
                    peer.queue_inventory(tx(i));
                }
                peer.handle_timeout(EPOCH + Duration::from_secs(10));
                let mut bytes = 0;
                while let Some(f) = peer.poll_transmit() {
                    bytes += f.len();
                }
                assert!(bytes > N as usize * 36);
                bytes
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();

    let mut g = c.benchmark_group("lru");
    g.throughput(Throughput::Elements(u64::from(N)));
    g.bench_function("insert (cap 1000, evicting)", |bench| {
        let mut set = LruSet::new(1000);
        let mut k = 0u32;
        bench.iter(|| {
            for _ in 0..N {
                k = k.wrapping_add(1);
                set.insert(tx(k));
            }
        })
    });
    g.bench_function("lookup (cap 1000, half hits)", |bench| {
        let mut set = LruSet::new(1000);
        for i in 0..1000 {
            set.insert(tx(i));
        }
        bench.iter(|| {
            let mut hits = 0;
            for i in 0..N {
                hits += usize::from(set.contains(&tx(i % 2000)));
            }
            black_box(hits)
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = bench_handshake, bench_inventory
}

fn main() {
    print_memory();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
