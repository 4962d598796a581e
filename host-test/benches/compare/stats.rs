//! Runs alternate between contenders (the order rotates each run, so none
//! always goes first on a warm or a noisy machine); each run gives one
//! figure per contender, and a result is their median with the min–max.

use crate::contenders::Contender;
use crate::workloads::Workload;
use serde::Serialize;
use std::collections::BTreeMap;

/// Seconds per operation: one figure per run, their median and spread.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub runs: Vec<f64>,
}

impl Summary {
    pub fn of(runs: Vec<f64>) -> Summary {
        let mut sorted = runs.clone();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        assert!(n > 0, "no runs");
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        Summary {
            median,
            min: sorted[0],
            max: sorted[n - 1],
            runs,
        }
    }

    /// Of a repeated measurement where only the typical value matters.
    pub fn median_of(samples: Vec<f64>) -> f64 {
        Summary::of(samples).median
    }
}

/// One contender's figures for one metric: seconds per operation, wall
/// and the client's own CPU.
#[derive(Clone, Debug, Default)]
pub struct Figures {
    pub time: BTreeMap<&'static str, Summary>,
    pub cpu: BTreeMap<&'static str, Summary>,
}

/// Metric (`W1`, `W3a` …) → its figures by contender.
pub type Results = BTreeMap<String, Figures>;

/// `runs` runs of `workload` (`n` operations each) through every
/// contender, alternating.
pub async fn alternate(
    contenders: &mut [Contender],
    workload: Workload,
    n: usize,
    runs: usize,
) -> Results {
    type Samples = BTreeMap<&'static str, Vec<f64>>;
    let mut figures: BTreeMap<String, (Samples, Samples)> = BTreeMap::new();
    let count = contenders.len();
    for run in 0..runs {
        for k in 0..count {
            let contender = &mut contenders[(run + k) % count];
            let name = contender.name;
            for (metric, per_op, cpu) in contender.run(workload, n).await.per_op() {
                let (time, cpus) = figures.entry(metric.to_string()).or_default();
                time.entry(name).or_default().push(per_op);
                cpus.entry(name).or_default().push(cpu);
            }
        }
    }
    let summarise = |by: Samples| by.into_iter().map(|(c, v)| (c, Summary::of(v))).collect();
    figures
        .into_iter()
        .map(|(metric, (time, cpu))| {
            let figures = Figures {
                time: summarise(time),
                cpu: summarise(cpu),
            };
            (metric, figures)
        })
        .collect()
}
