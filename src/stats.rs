//! Per-core counters: plain integers touched only by their own core, summed
//! across cores when INFO asks (no contended atomics per request).

use std::collections::HashMap;
use std::time::Duration;

use crate::command::table::CommandSpec;
use crate::resp::Reply;

/// Upper bounds of the per-command latency buckets, in microseconds:
/// powers of two from 1 µs to 2^24 µs (about 16.8 s); slower calls are
/// counted in `calls` only (Prometheus's `+Inf` bucket).
pub const LATENCY_BUCKETS_US: [u64; 25] = {
    let mut b = [0u64; 25];
    let mut i = 0;
    while i < 25 {
        b[i] = 1 << i;
        i += 1;
    }
    b
};

#[derive(Clone, Copy, Default, Debug)]
pub struct CmdStat {
    pub calls: u64,
    pub usec: u64,
    pub rejected: u64,
    pub failed: u64,
    /// Calls per latency bucket (`LATENCY_BUCKETS_US`), not cumulative.
    pub latency: [u64; 25],
}

/// The bucket of a call that took `us` microseconds, if any.
fn latency_bucket(us: u64) -> Option<usize> {
    let i = (64 - us.saturating_sub(1).leading_zeros()) as usize;
    (i < LATENCY_BUCKETS_US.len()).then_some(i)
}

#[derive(Clone, Default, Debug)]
pub struct CoreStats {
    pub commands: Vec<CmdStat>,
    pub errors: HashMap<String, u64>,
    pub total_commands: u64,
    pub total_error_replies: u64,
    pub connections_received: u64,
    pub rejected_connections: u64,
    pub connected_clients: u64,
    /// Connections waiting in a blocking command.
    pub blocked_clients: u64,
    pub net_input_bytes: u64,
    pub net_output_bytes: u64,
    pub reads_processed: u64,
    pub writes_processed: u64,
    pub hops: u64,
    pub query_buffer_disconnections: u64,
    /// Connections closed to keep clients under `maxmemory-clients`.
    pub evicted_clients: u64,
}

impl CoreStats {
    pub fn new(commands: usize) -> CoreStats {
        CoreStats {
            commands: vec![CmdStat::default(); commands],
            ..CoreStats::default()
        }
    }

    /// A command that ran (here), with its reply.
    pub fn record(&mut self, spec: &'static CommandSpec, took: Duration, reply: &Reply) {
        let s = &mut self.commands[spec.index()];
        let us = took.as_micros() as u64;
        s.calls += 1;
        s.usec += us;
        if let Some(b) = latency_bucket(us) {
            s.latency[b] += 1;
        }
        self.total_commands += 1;
        if let Reply::Error(e) = reply {
            s.failed += 1;
            self.count_error(e);
        }
    }

    /// A command refused before it ran (arity, auth …).
    pub fn reject(&mut self, spec: Option<&'static CommandSpec>, error: &str) {
        if let Some(spec) = spec {
            self.commands[spec.index()].rejected += 1;
        }
        self.count_error(error);
    }

    fn count_error(&mut self, error: &str) {
        self.total_error_replies += 1;
        let prefix = error.split(' ').next().unwrap_or("ERR");
        match self.errors.get_mut(prefix) {
            Some(n) => *n += 1,
            None => {
                // Redis caps distinct error codes at 128 to bound memory.
                if self.errors.len() < 128 {
                    self.errors.insert(prefix.to_string(), 1);
                }
            }
        }
    }

    /// Adds another core's counters (for INFO).
    pub fn merge(&mut self, o: &CoreStats) {
        if self.commands.len() < o.commands.len() {
            self.commands.resize(o.commands.len(), CmdStat::default());
        }
        for (a, b) in self.commands.iter_mut().zip(&o.commands) {
            a.calls += b.calls;
            a.usec += b.usec;
            a.rejected += b.rejected;
            a.failed += b.failed;
            for (x, y) in a.latency.iter_mut().zip(&b.latency) {
                *x += y;
            }
        }
        for (k, v) in &o.errors {
            *self.errors.entry(k.clone()).or_default() += v;
        }
        self.total_commands += o.total_commands;
        self.total_error_replies += o.total_error_replies;
        self.connections_received += o.connections_received;
        self.rejected_connections += o.rejected_connections;
        self.connected_clients += o.connected_clients;
        self.blocked_clients += o.blocked_clients;
        self.net_input_bytes += o.net_input_bytes;
        self.net_output_bytes += o.net_output_bytes;
        self.reads_processed += o.reads_processed;
        self.writes_processed += o.writes_processed;
        self.hops += o.hops;
        self.evicted_clients += o.evicted_clients;
        self.query_buffer_disconnections += o.query_buffer_disconnections;
    }

    /// CONFIG RESETSTAT: zero what Redis zeroes (not the live client count).
    pub fn reset(&mut self) {
        let (connected, blocked) = (self.connected_clients, self.blocked_clients);
        *self = CoreStats::new(self.commands.len());
        self.connected_clients = connected;
        self.blocked_clients = blocked;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_buckets_are_powers_of_two_upper_bounds() {
        assert_eq!(latency_bucket(0), Some(0));
        assert_eq!(latency_bucket(1), Some(0));
        assert_eq!(latency_bucket(2), Some(1));
        assert_eq!(latency_bucket(3), Some(2));
        assert_eq!(latency_bucket(4), Some(2));
        assert_eq!(latency_bucket(1 << 24), Some(24));
        assert_eq!(latency_bucket((1 << 24) + 1), None);
        for us in [0, 1, 5, 100, 1000, 123_456] {
            let b = latency_bucket(us).unwrap();
            assert!(us <= LATENCY_BUCKETS_US[b]);
            assert!(b == 0 || us > LATENCY_BUCKETS_US[b - 1]);
        }
    }
}
