//! `MemoryPeak`: the linear memory an instance asks for, as the benchmark reads it.

use salesforce_host::egress::{Egress, Policy};
use salesforce_host::send::Sender;
use salesforce_host::{Connector, MemoryPeak};
use std::sync::Arc;

#[tokio::test]
async fn records_the_linear_memory_an_instance_asks_for() {
    let egress = Egress {
        policy: Arc::new(Policy::default()),
        sender: Sender::new(None).expect("sender"),
        denied: Arc::default(),
        log: None,
    };
    let peak = MemoryPeak::default();
    let probed = Connector::load(&sf_host::default_component_path())
        .expect("load")
        .record_memory_peak(peak.clone());
    drop(probed.instantiate(egress).await.expect("instantiate"));
    assert!(
        peak.bytes() >= 64 * 1024,
        "at least one wasm page: {}",
        peak.bytes()
    );
    peak.reset();
    assert_eq!(peak.bytes(), 0);
}
