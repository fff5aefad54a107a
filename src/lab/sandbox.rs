//! `lab check --local --probe`: the lab's pods (and the cluster DNS) as network namespaces on this
//! host, the enforcer's rules for setup + the user's policies between them, and real packets for
//! every check (see `probe::local`).

use super::check::{bind_offline, offline_snapshot_of, Answer, LabReport, ProbeOutcome};
use super::spec::{Lab, Target};
use super::LabError;
use crate::model::Probe;
use crate::probe::local::{self, LocalError, LocalOptions};
use crate::probe::ProbeReport;

fn map_err(e: LocalError) -> LabError {
    match e {
        LocalError::Environment(m) => LabError::Environment(format!(
            "{m} (lab check --probe sends real packets; without --probe the check is static and needs no privilege)"
        )),
        LocalError::Input(m) => LabError::Catalogue(m),
    }
}

/// Sends real packets for every check of `report` (made by `check::check_offline` with the same
/// policies) and records what they did; the report passes only if the packets agree with
/// every check.
pub fn probe_local(
    lab: &Lab,
    answer: &Answer,
    report: &mut LabReport,
    opts: &LocalOptions,
) -> Result<(), LabError> {
    let mut snap = offline_snapshot_of(lab, answer)?;
    let bindings = bind_offline(lab, &snap)?;
    let mut pods: Vec<usize> = bindings.pods.values().copied().collect();
    pods.push(bindings.dns);
    pods.sort_unstable();
    pods.dedup();
    let probes = lab_probes(lab);
    local::assign_addresses(&mut snap, &pods).map_err(map_err)?;
    let pr = local::run_local(&snap, &pods, &probes, opts).map_err(map_err)?;
    let key = |lab_pod: &str| {
        bindings
            .pods
            .get(lab_pod)
            .map(|&i| snap.pods[i].key())
            .unwrap_or_default()
    };
    record_packets(lab, report, &pr, &key, "real packets");
    Ok(())
}

/// The ports the lab's checks probe (DNS checks are the probe's own rows).
pub fn lab_probes(lab: &Lab) -> Vec<Probe> {
    let mut probes: Vec<Probe> = lab
        .checks
        .iter()
        .filter_map(|c| match &c.target {
            Target::Pod { probe, .. } => Some(*probe),
            Target::Dns => None,
        })
        .collect();
    probes.sort();
    probes.dedup();
    probes
}

/// Records in `report` what the packets of `pr` did for every check; `row_of` names the probe
/// report's row (`ns/name`) of a lab pod, and `what` says where the packets ran. The report
/// passes only if the packets did what every check requires.
pub fn record_packets(
    lab: &Lab,
    report: &mut LabReport,
    pr: &ProbeReport,
    row_of: &dyn Fn(&str) -> String,
    what: &str,
) {
    let (mut agree, mut disagree, mut errors) = (0, 0, 0);
    let mut wrong = 0;
    for (spec, result) in lab.checks.iter().zip(report.checks.iter_mut()) {
        let from = row_of(&spec.from);
        let (observed, verdict) = match &spec.target {
            Target::Pod { to, probe } => {
                let to = row_of(to);
                pr.matrix
                    .connections
                    .iter()
                    .find(|c| {
                        c.from == from
                            && c.to == to
                            && c.port == probe.port
                            && c.protocol == probe.protocol.as_str()
                    })
                    .map(|c| {
                        (
                            c.observed,
                            c.verdict.clone().unwrap_or_else(|| "error".into()),
                        )
                    })
                    .unwrap_or((None, "not probed".into()))
            }
            // The first DNS row of a source is the cluster DNS check.
            Target::Dns => pr
                .dns
                .iter()
                .find(|d| d.from == from)
                .map(|d| (d.observed, d.verdict.clone()))
                .unwrap_or((None, "not probed".into())),
        };
        match observed {
            None => errors += 1,
            Some(o) if o == result.actual => agree += 1,
            Some(_) => disagree += 1,
        }
        if observed != Some(spec.allowed) {
            wrong += 1;
        }
        result.observed = observed;
        result.packets = Some(verdict);
    }
    let all_ok = wrong == 0;
    let verdict = if all_ok {
        format!("{what} did what all {} checks require", lab.checks.len())
    } else {
        format!(
            "{what} did not do what {wrong} of {} checks require",
            lab.checks.len()
        )
    };
    report.probe = Some(ProbeOutcome {
        passed: all_ok,
        agree,
        disagree,
        errors,
        verdict,
    });
    report.passed = report.passed && all_ok;
}
