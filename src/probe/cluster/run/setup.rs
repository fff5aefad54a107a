//! What every run on a cluster starts from.

use std::collections::BTreeSet;

use super::ClusterOptions;
use crate::model::{Probe, Snapshot};
use crate::probe::cluster::io::ClusterIo;
use crate::probe::cluster::plan::{
    self, dns_names, dns_target, not_ready_service_warnings, service_info, Group, PlanOptions,
    ProberSettings, ServiceInfo,
};

/// Services of the namespaces (for DNS rows and the not-ready warning); a namespace whose
/// Services cannot be listed only loses its DNS rows, with a note.
pub(super) async fn services<I: ClusterIo>(
    io: &I,
    namespaces: &BTreeSet<String>,
    notes: &mut Vec<String>,
) -> Vec<ServiceInfo> {
    let mut out = Vec::new();
    for ns in namespaces {
        match io.list_services(ns).await {
            Ok(list) => out.extend(list.iter().map(service_info)),
            Err(e) => notes.push(format!(
                "cannot list Services in {ns} ({e}): no DNS rows for their names"
            )),
        }
    }
    out
}

pub(super) fn plan_options(
    opts: &ClusterOptions,
    snap: &Snapshot,
    services: &[ServiceInfo],
    groups: &[Group],
    notes: &mut Vec<String>,
) -> PlanOptions {
    let dns = opts.dns && dns_target(snap).is_some();
    if opts.dns && !dns {
        notes.push(format!(
            "no cluster DNS pods known ({}, label {}={}): DNS rows skipped",
            plan::DNS_NAMESPACE,
            plan::DNS_LABEL.0,
            plan::DNS_LABEL.1
        ));
    }
    PlanOptions {
        timeout: opts.timeout,
        concurrency: opts.concurrency.max(1),
        retries: opts.retries,
        externals: opts.externals.clone(),
        dns_names: if dns {
            dns_names(services, groups)
        } else {
            Vec::new()
        },
    }
}

fn group_notes(groups: &[Group], snap: &Snapshot) -> Vec<String> {
    groups
        .iter()
        .filter(|g| g.members.len() > 1)
        .map(|g| {
            format!(
                "{} stands for {} pods with the same labels and ports (one prober for all of them)",
                g.display(snap),
                g.members.len()
            )
        })
        .collect()
}

/// What every run on a cluster starts from: its id, namespaces, notes about the groups and
/// their Services, the exec plan options and the probers' settings.
pub(super) struct RunSetup {
    pub(super) run: String,
    pub(super) ns_list: Vec<String>,
    pub(super) notes: Vec<String>,
    pub(super) plan_opts: PlanOptions,
    pub(super) settings: ProberSettings,
}

pub(super) async fn run_setup<I: ClusterIo>(
    io: &I,
    snap: &Snapshot,
    groups: &[Group],
    probes: &[Probe],
    opts: &ClusterOptions,
    dns_rows: bool,
) -> RunSetup {
    let run = plan::new_run_id();
    let namespaces: BTreeSet<String> = groups.iter().map(|g| g.namespace.clone()).collect();
    let mut notes = group_notes(groups, snap);
    let services = services(io, &namespaces, &mut notes).await;
    notes.extend(not_ready_service_warnings(&services, groups));
    let mut plan_opts = plan_options(opts, snap, &services, groups, &mut notes);
    if !dns_rows {
        plan_opts.dns_names.clear();
    }
    let checks_per_source =
        groups.len() * probes.len() + opts.externals.len() + plan_opts.dns_names.len();
    let settings = ProberSettings {
        run: run.clone(),
        image: opts.image.clone(),
        probes: probes.to_vec(),
        deadline: plan::deadline(
            opts.start_timeout,
            groups.len(),
            checks_per_source,
            opts.timeout,
            opts.concurrency,
            opts.retries,
            opts.parallel_sources,
        ),
    };
    RunSetup {
        run,
        ns_list: namespaces.into_iter().collect(),
        notes,
        plan_opts,
        settings,
    }
}
