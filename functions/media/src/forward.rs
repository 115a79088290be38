//! Putting completed events on the contact center's queue: `events.fifo`, or the queue's own
//! target from the config, in the same message group as on `ingest.fifo` (so a conversation
//! stays in order end to end) and with the `event_id` as the de-duplication id. The sender lives
//! in `switchboard_shared::event_queue`, shared with the outbound function.

pub use switchboard_shared::event_queue::{EventQueue, MemoryEventQueue, Outgoing, SqsEventQueue};
