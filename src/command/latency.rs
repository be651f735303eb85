//! LATENCY LATEST | HISTORY | RESET | HISTOGRAM | DOCTOR | GRAPH | HELP.
//!
//! Latency events ("command", "fast-command") are sampled per core where the
//! command was timed (`observe`); these commands merge every core's series,
//! keeping the worst sample of each second. LATENCY HISTOGRAM sums the
//! per-core command latency buckets kept in `CoreStats`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::rc::Rc;

use bytes::Bytes;
use futures::future::LocalBoxFuture;

use super::errors;
use super::keys::help_reply;
use super::table;
use crate::command::session::Session;
use crate::observe::{bucket_usec, redis_buckets, unix_secs, EventSeries, BUCKETS};
use crate::resp::Reply;
use crate::services::Shard;
use crate::stats::CoreStats;

const HELP: &[&str] = &[
    "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return a human readable latency analysis report.",
    "GRAPH <event>",
    "    Return an ASCII latency graph for the <event> class.",
    "HISTORY <event>",
    "    Return time-latency samples for the <event> class.",
    "LATEST",
    "    Return the latest latency samples for all events.",
    "RESET [<event> ...]",
    "    Reset latency data of one or more <event> classes.",
    "    (default: reset all data for all event classes)",
    "HISTOGRAM [COMMAND ...]",
    "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
    "    If no commands are specified then all histograms are replied.",
    "HELP",
    "    Prints this help.",
];

fn bulk(s: &str) -> Reply {
    Reply::Bulk(Bytes::copy_from_slice(s.as_bytes()))
}

/// Every core's latency events, merged, by name.
async fn merged_events(sh: &Rc<Shard>, s: &Session) -> Vec<(&'static str, EventSeries)> {
    let per_core = sh
        .on_every_shard(s.parent, |shard: &Shard| {
            shard.host.observe.events.borrow().clone()
        })
        .await;
    let mut all: HashMap<&'static str, EventSeries> = HashMap::new();
    for events in per_core {
        for (name, series) in events {
            all.entry(name).or_default().merge(&series);
        }
    }
    let mut v: Vec<_> = all.into_iter().collect();
    v.sort_by_key(|(n, _)| *n);
    v
}

/// LATENCY DOCTOR | GRAPH | HISTORY | LATEST | RESET | HISTOGRAM | HELP
pub fn latency<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(async move {
        let sub = String::from_utf8_lossy(&a[1]).to_ascii_lowercase();
        let n = a.len();
        match sub.as_str() {
            "help" if n == 2 => help_reply(HELP),
            "latest" if n == 2 => Reply::Array(
                merged_events(sh, s)
                    .await
                    .into_iter()
                    .filter_map(|(name, s)| {
                        let &(time, ms) = s.samples.back()?;
                        Some(Reply::Array(vec![
                            bulk(name),
                            Reply::Int(time as i64),
                            Reply::Int(ms as i64),
                            Reply::Int(s.max as i64),
                        ]))
                    })
                    .collect(),
            ),
            "history" if n == 3 => {
                let events = merged_events(sh, s).await;
                let samples = events
                    .into_iter()
                    .find(|(name, _)| name.as_bytes() == &a[2][..])
                    .map(|(_, s)| s.samples)
                    .unwrap_or_default();
                Reply::Array(
                    samples
                        .into_iter()
                        .map(|(t, ms)| {
                            Reply::Array(vec![Reply::Int(t as i64), Reply::Int(ms as i64)])
                        })
                        .collect(),
                )
            }
            "graph" if n == 3 => {
                let events = merged_events(sh, s).await;
                match events.iter().find(|(name, _)| name.as_bytes() == &a[2][..]) {
                    Some((name, s)) if !s.samples.is_empty() => {
                        Reply::Verbatim(Bytes::from(graph(name, s)))
                    }
                    _ => errors::latency_no_samples(&a[2]),
                }
            }
            "reset" => {
                let names: Vec<Vec<u8>> = a[2..].iter().map(|e| e.to_vec()).collect();
                let reset = sh
                    .on_every_shard(s.parent, move |shard: &Shard| {
                        let mut events = shard.host.observe.events.borrow_mut();
                        let gone: Vec<&'static str> = events
                            .keys()
                            .copied()
                            .filter(|k| names.is_empty() || names.iter().any(|n| n == k.as_bytes()))
                            .collect();
                        for k in &gone {
                            events.remove(k);
                        }
                        gone
                    })
                    .await;
                let mut distinct: Vec<&str> = reset.into_iter().flatten().collect();
                distinct.sort();
                distinct.dedup();
                Reply::Int(distinct.len() as i64)
            }
            "histogram" => {
                let per_core = sh
                    .on_every_shard(s.parent, |shard: &Shard| shard.host.stats.borrow().clone())
                    .await;
                let mut total = CoreStats::new(table::row_count());
                for core in &per_core {
                    total.merge(core);
                }
                let rows: Vec<&'static table::CommandSpec> = table::all().collect();
                let wanted: Vec<usize> = if n == 2 {
                    (0..rows.len()).collect()
                } else {
                    let mut v: Vec<usize> = a[2..]
                        .iter()
                        .filter_map(|c| table::lookup_full(c).map(|s| s.index()))
                        .collect();
                    v.dedup();
                    v
                };
                Reply::Map(
                    wanted
                        .into_iter()
                        .filter_map(|i| histogram(rows[i].name, &redis_buckets(&total.commands[i])))
                        .collect(),
                )
            }
            "doctor" if n == 2 => {
                let events = merged_events(sh, s).await;
                Reply::Verbatim(Bytes::from(doctor(sh, &events)))
            }
            "help" | "latest" | "history" | "graph" | "doctor" => {
                errors::arity(&format!("latency|{sub}"))
            }
            _ => errors::unknown_subcommand(&a[1], "latency"),
        }
    })
}

/// One command's entry of LATENCY HISTOGRAM: calls and the cumulative
/// count at every bucket where it grew; None when it never ran.
fn histogram(name: &str, h: &[u64; BUCKETS]) -> Option<(Reply, Reply)> {
    let calls: u64 = h.iter().sum();
    if calls == 0 {
        return None;
    }
    let mut cumulative = 0;
    let mut buckets = Vec::new();
    for (k, &count) in h.iter().enumerate() {
        if count > 0 {
            cumulative += count;
            buckets.push((
                Reply::Int(bucket_usec(k) as i64),
                Reply::Int(cumulative as i64),
            ));
        }
    }
    Some((
        bulk(name),
        Reply::Map(vec![
            (bulk("calls"), Reply::Int(calls as i64)),
            (bulk("histogram_usec"), Reply::Map(buckets)),
        ]),
    ))
}

const GRAPH_COLS: usize = 80;

/// Redis's `latencyCommandGenSparkeline`: a header, a rule, and the samples
/// as a 4-row sparkline labelled with how long ago each happened.
fn graph(name: &str, s: &EventSeries) -> String {
    let now = unix_secs();
    let values: Vec<f64> = s.samples.iter().map(|&(_, ms)| ms as f64).collect();
    let labels: Vec<String> = s
        .samples
        .iter()
        .map(|&(t, _)| {
            let ago = now.saturating_sub(t);
            match ago {
                0..60 => format!("{ago}s"),
                60..3600 => format!("{}m", ago / 60),
                3600..86400 => format!("{}h", ago / 3600),
                _ => format!("{}d", ago / 86400),
            }
        })
        .collect();
    let high = s.samples.iter().map(|x| x.1).max().unwrap_or(0);
    let low = s.samples.iter().map(|x| x.1).min().unwrap_or(0);
    let mut o = format!(
        "{name} - high {high} ms, low {low} ms (all time high {} ms)\n",
        s.max
    );
    o.push_str(&"-".repeat(GRAPH_COLS));
    o.push('\n');
    let mut start = 0;
    while start < values.len() {
        let end = (start + GRAPH_COLS).min(values.len());
        if start != 0 {
            o.push('\n');
        }
        sparkline(&mut o, &values, &labels, start, end);
        start = end;
    }
    o
}

/// Redis's `sparklineRenderRange` with 4 rows and SPARKLINE_FILL.
fn sparkline(o: &mut String, values: &[f64], labels: &[String], from: usize, to: usize) {
    const CHARSET_FILL: &[u8] = b"_o#";
    const ROWS: usize = 4;
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let relmax = if max - min == 0.0 { 1.0 } else { max - min };
    let steps = (CHARSET_FILL.len() * ROWS) as i64;
    let mut row = 0;
    loop {
        let mut more = false;
        let mut chars = vec![b' '; to - from];
        for (j, c) in chars.iter_mut().enumerate() {
            let i = from + j;
            let step = (((values[i] - min) * steps as f64) / relmax) as i64;
            let step = step.clamp(0, steps - 1);
            if row < ROWS {
                let idx = step - ((ROWS - row - 1) * CHARSET_FILL.len()) as i64;
                more = true;
                if (0..CHARSET_FILL.len() as i64).contains(&idx) {
                    *c = CHARSET_FILL[idx as usize];
                } else if idx >= CHARSET_FILL.len() as i64 {
                    *c = b'|';
                }
            } else {
                // One blank row between the graph and its labels.
                if row == ROWS {
                    more = true;
                    break;
                }
                let label = labels[i].as_bytes();
                let at = row - ROWS - 1;
                if at < label.len() {
                    more = true;
                    *c = label[at];
                }
            }
        }
        if !more {
            break;
        }
        row += 1;
        o.push_str(&String::from_utf8_lossy(&chars));
        o.push('\n');
    }
}

/// Redis's `createLatencyReport`, for the events lanner records.
fn doctor(sh: &Shard, events: &[(&'static str, EventSeries)]) -> String {
    let config = sh.host.config();
    let threshold = config.latency_monitor_threshold;
    if events.is_empty() && threshold == 0 {
        return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n".into();
    }
    let now = unix_secs();
    let mut o = String::new();
    let (mut slowlog_enable, mut slowlog_tuning, mut slowlog_inspect) = (false, false, false);
    let (mut scheduler, mut large_objects) = (false, false);
    let mut advices = 0;
    for (num, (name, s)) in events.iter().enumerate() {
        if s.samples.is_empty() {
            continue;
        }
        if num == 0 {
            o.push_str("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n");
        }
        let count = s.samples.len() as u64;
        let sum: u64 = s.samples.iter().map(|x| x.1).sum();
        let avg = sum / count;
        let mad = s
            .samples
            .iter()
            .map(|x| (x.1 as f64 - avg as f64).abs())
            .sum::<f64>()
            / count as f64;
        let oldest = s.samples.iter().map(|x| x.0).min().unwrap_or(now);
        let period = now.saturating_sub(oldest).max(1);
        let _ = writeln!(
            o,
            "{}. {name}: {count} latency spikes (average {avg}ms, mean deviation {}ms, period {:.2} sec). Worst all time event {}ms.",
            num + 1,
            mad as u64,
            period as f64 / count as f64,
            s.max
        );
        if *name == "command" {
            if config.slowlog_log_slower_than < 0 {
                slowlog_enable = true;
                advices += 1;
            } else if (config.slowlog_log_slower_than / 1000) as u64 > threshold {
                slowlog_tuning = true;
                advices += 1;
            }
            slowlog_inspect = true;
            large_objects = true;
            advices += 2;
        }
        if *name == "fast-command" {
            scheduler = true;
            advices += 1;
        }
    }
    if events.is_empty() && advices == 0 {
        o.push_str("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n");
        return o;
    }
    if advices == 0 {
        o.push_str("\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n");
        return o;
    }
    o.push_str("\nI have a few advices for you:\n\n");
    if slowlog_enable {
        let _ = writeln!(o, "- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than {}'. If the Slow log is disabled Redis is not able to log slow commands execution for you.", threshold * 1000);
    }
    if slowlog_tuning {
        let _ = writeln!(o, "- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than {}'.", threshold * 1000);
    }
    if slowlog_inspect {
        o.push_str("- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n");
    }
    if scheduler {
        o.push_str("- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n  1) Lower the system load.\n  2) Use a computer / VM just for Redis if you are running other software in the same system.\n  3) Check if you have a \"noisy neighbour\" problem.\n  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n");
    }
    if large_objects {
        o.push_str("- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n");
    }
    o
}
