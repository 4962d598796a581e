//! The worker's WIT (`wit/worker/worker.wit`) for wRPC, generated in one
//! place: the exports a worker serves, and the imports a caller invokes.
//! The connector's own types (`salesforce:connector/types`) are generated
//! with them, so both sides speak the connector's records and errors.

macro_rules! worker_world {
    ($world:literal) => {
        wit_bindgen_wrpc::generate!({
            world: $world,
            path: ["../wit", "../wit/worker"],
            generate_all,
            // Gates of the WASI packages under wit/deps, which the
            // connector's package brings along; none of their functions is
            // generated here.
            features: ["clocks-timezone", "network-error-code", "informational-outbound-responses"],
        });
    };
}

/// The workers' side: a `Handler` trait with one method per function.
pub mod serve {
    worker_world!("salesforce:worker/worker@0.1.0");
}

/// The callers' side: one async function per function.
pub mod call {
    worker_world!("salesforce:worker/caller@0.1.0");
}
