//! The four contenders behind one interface, so every workload runs the
//! same way through each.

use crate::component::ComponentClient;
use crate::mock_process::MockInfo;
use crate::native::Native;
use crate::scripts::Worker;
use crate::workloads::{Measured, Workload};

pub const COMPONENT: &str = "component";
pub const NATIVE: &str = "native";
pub const SIMPLE_SALESFORCE: &str = "simple-salesforce";
pub const JSFORCE: &str = "jsforce";
/// In table and chart order; the component is the baseline of every ratio.
pub const ALL: [&str; 4] = [COMPONENT, NATIVE, SIMPLE_SALESFORCE, JSFORCE];

pub enum Client {
    Component(Box<ComponentClient>),
    Native(Native, MockInfo),
    Script(Worker),
}

pub struct Contender {
    pub name: &'static str,
    pub client: Client,
}

impl Contender {
    pub async fn run(&mut self, workload: Workload, n: usize) -> Measured {
        match (&mut self.client, workload) {
            (Client::Component(c), Workload::W1) => c.w1(n).await,
            (Client::Component(c), Workload::W2) => c.w2(n).await,
            (Client::Component(c), Workload::W3) => c.w3(n).await,
            (Client::Native(c, _), Workload::W1) => c.w1(n).await,
            (Client::Native(_, mock), Workload::W2) => Native::w2(mock, n).await,
            (Client::Native(c, _), Workload::W3) => c.w3(n).await,
            (Client::Script(worker), w) => worker.run(w, n),
        }
    }
}
