//! The connector over wRPC on NATS: the bindings of `wit/worker/worker.wit`
//! and a Rust caller that bounds every call by its deadline and notices a
//! worker that dies mid-call. The workers are `sf-host serve`
//! (docs/scale-out.md).

pub mod bindings;
pub mod caller;
pub mod liveness;

pub use caller::{CallError, Caller};
