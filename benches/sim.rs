//! The 10,000-peer simulation: 100 nodes with 100 peers each (5,000 links, two peer ends each)
//! through handshakes, the relay of 20 inventory items to every node and two rounds of pings,
//! with every invariant of tests/sim checked. Reports simulated events per second and peak
//! memory (VmHWM).
//!
//! ```sh
//! cargo bench --bench sim
//! SIM_BENCH_NODES=200 SIM_BENCH_DEGREE=50 SIM_SEED=3 cargo bench --bench sim
//! ```

#[path = "../tests/sim/mod.rs"]
mod sim;

use std::time::Instant;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(default)
}

fn main() {
    let nodes = env("SIM_BENCH_NODES", 100) as usize;
    let degree = env("SIM_BENCH_DEGREE", 100) as usize;
    let seed = env("SIM_SEED", 1);
    let scenario = sim::Scenario::scale(nodes, degree);
    let before = sim::peak_rss_kib();
    let cpu_before = sim::thread_cpu_time();
    let start = Instant::now();
    let o = sim::run(&scenario, seed);
    let wall = start.elapsed().as_secs_f64();
    let cpu = match (cpu_before, sim::thread_cpu_time()) {
        (Some(a), Some(b)) => (b - a).as_secs_f64(),
        _ => wall,
    };
    assert!(!o.failed(), "{}", o.report("(bench sim)"));
    let s = &o.stats;
    assert_eq!(s.handshakes, s.links, "every handshake completed");
    assert_eq!(o.nodes_with_all_items, nodes, "every node got every item");
    let tasks = s.tasks as f64;
    let io = (s.node_calls + s.node_events) as f64;
    println!(
        "sim/scale: {nodes} nodes x {degree} peers = {} peer ends, {} links, seed {seed}",
        nodes * degree,
        s.links
    );
    println!(
        "  {:.0} s virtual in {wall:.2} s wall ({cpu:.2} s CPU): {} handshakes, {} frames ({:.1} MB), {} \
         deliveries, {} inv entries, {} pings ({} answered)",
        o.virtual_duration.as_secs_f64(),
        s.handshakes,
        s.frames,
        s.bytes as f64 / 1e6,
        s.chunks,
        s.inv_entries,
        s.pings,
        s.pongs_matched
    );
    println!(
        "  {:.0} simulated events/s of CPU ({:.0}/s wall; {} scheduler events: deliveries, \
         timer wakes, faults); {:.0} node calls+events/s of CPU ({} total)",
        tasks / cpu,
        tasks / wall,
        s.tasks,
        io / cpu,
        s.node_calls + s.node_events
    );
    println!(
        "  peak memory (VmHWM) {} MiB{}; peaks per peer: unsent {} B, buffered {} B, known \
         inventory {}, queued inventory {}; event-log hash {:016x}",
        sim::peak_rss_kib().map_or("?".into(), |k| format!("{:.1}", k as f64 / 1024.0)),
        before.map_or(String::new(), |k| format!(
            " (at start {:.1} MiB)",
            k as f64 / 1024.0
        )),
        s.peak_unsent,
        s.peak_buffered,
        s.peak_known_inventory,
        s.peak_queued_inventory,
        o.log_hash
    );
}
