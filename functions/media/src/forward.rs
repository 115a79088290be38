//! Putting completed events on the contact center's queue (the queue's own target from the
//! config, else the tenant's default target, else `events.fifo`: `config::targets`, as the
//! handler resolves it), in the same message group as on `ingest.fifo` (so a conversation
//! stays in order end to end) and with the `event_id` as the de-duplication id. The sender lives
//! in `switchboard_shared::event_queue`, shared with the outbound function.

pub use switchboard_shared::event_queue::{EventQueue, MemoryEventQueue, Outgoing, SqsEventQueue};
