//! Pub/Sub: every connection's channel, pattern and shard-channel
//! subscriptions, shared by all cores.
#[derive(Default)]
pub struct PubSub {}
