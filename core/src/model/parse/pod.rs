//! Pods, and the pod templates of workloads (Deployment, StatefulSet, DaemonSet, ReplicaSet,
//! Job, CronJob) as virtual pods: labels, container ports, addresses, node, hostNetwork.

use std::net::IpAddr;

use serde_json::{Map, Value};

use super::*;

fn parse_container_ports(spec: &Map<String, Value>, path: &str) -> Result<Vec<ContainerPort>> {
    let mut ports = Vec::new();
    for key in ["containers", "initContainers"] {
        each(spec, path, key, |c| {
            let cmap = c.object(&[])?;
            each(cmap, c.path, "ports", |p| {
                let pmap = p.object(&[])?;
                let num_path = join(p.path, "containerPort");
                let port = match field(pmap, "containerPort") {
                    Some(v) => port_number(v, &num_path)?,
                    None => {
                        return Err(FieldError::new(
                            num_path,
                            "missing: a container port needs containerPort",
                        ))
                    }
                };
                let name = match field(pmap, "name") {
                    Some(v) => {
                        let name_path = join(p.path, "name");
                        let n = Node {
                            value: v,
                            path: &name_path,
                        }
                        .str()?;
                        if !is_port_name(n) {
                            return Err(FieldError::new(join(p.path, "name"), format!("invalid port name {n:?}: up to 15 lower-case letters, digits and '-', with at least one letter")));
                        }
                        Some(n.to_string())
                    }
                    None => None,
                };
                let protocol = parse_protocol(pmap, p.path)?;
                ports.push(ContainerPort {
                    name,
                    port,
                    protocol,
                });
                Ok(())
            })?;
            Ok(())
        })?;
    }
    ports.sort();
    ports.dedup();
    Ok(ports)
}

fn parse_ips(status: Option<&Value>) -> Result<Vec<IpAddr>> {
    let mut ips = Vec::new();
    let Some(status) = status.and_then(Value::as_object) else {
        return Ok(ips);
    };
    let mut add = |text: &str, path: &str| -> Result<()> {
        let ip: IpAddr = text
            .parse()
            .map_err(|_| FieldError::new(path, format!("invalid IP address {text:?}")))?;
        if !ips.contains(&ip) {
            ips.push(ip);
        }
        Ok(())
    };
    if let Some(Value::String(ip)) = field(status, "podIP") {
        add(ip, "status.podIP")?;
    }
    if let Some(Value::Array(list)) = field(status, "podIPs") {
        for (i, item) in list.iter().enumerate() {
            if let Some(Value::String(ip)) = item.get("ip") {
                add(ip, &format!("status.podIPs[{i}].ip"))?;
            }
        }
    }
    Ok(ips)
}

/// The pod-template path of each workload kind.
pub(crate) fn template_path(kind: &str) -> Option<&'static [&'static str]> {
    match kind {
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job" => Some(&["spec", "template"]),
        "CronJob" => Some(&["spec", "jobTemplate", "spec", "template"]),
        _ => None,
    }
}

/// The pod template of a workload, and the path prefix to it (`spec.template.`).
fn pod_template<'a>(obj: &'a Value, kind: &str) -> Result<(&'a Map<String, Value>, String)> {
    let path = template_path(kind)
        .ok_or_else(|| FieldError::new("kind", format!("{kind} has no pod template")))?;
    let joined = path.join(".");
    let mut v = obj;
    for p in path {
        v = match v.get(*p) {
            Some(x) if !x.is_null() => x,
            _ => {
                return Err(FieldError::new(
                    &joined,
                    format!("missing: a {kind} needs {joined}"),
                ))
            }
        };
    }
    let m = Node {
        value: v,
        path: &joined,
    }
    .object(&[])?;
    Ok((m, format!("{joined}.")))
}

/// The labels of a pod template (`<prefix>metadata.labels`), validated as the API server does.
fn template_labels(template: &Map<String, Value>, prefix: &str) -> Result<Labels> {
    match template
        .get("metadata")
        .and_then(|m| m.get("labels"))
        .filter(|v| !v.is_null())
    {
        Some(v) => {
            let p = format!("{prefix}metadata.labels");
            let l = string_map(Node { value: v, path: &p })?;
            validate_labels(&l, &p)?;
            Ok(l)
        }
        None => Ok(Labels::new()),
    }
}

/// Parses a Pod, or the pod template of a workload (`kind` tells which) into a virtual pod
/// named after the workload.
pub fn parse_pod_object(
    obj: &Value,
    kind: &str,
    default_namespace: &str,
    source: Source,
) -> std::result::Result<Option<Pod>, (Option<String>, FieldError)> {
    let (map, meta, namespace, label) = open_object(obj, kind, default_namespace)?;
    let wrap = |e: FieldError| (Some(label.clone()), e);
    let (pod_map, prefix, origin) = if kind == "Pod" {
        (map, String::new(), PodOrigin::Pod)
    } else {
        let (m, prefix) = pod_template(obj, kind).map_err(wrap)?;
        let origin = PodOrigin::Workload {
            kind: kind.to_string(),
            name: meta.name.clone(),
        };
        (m, prefix, origin)
    };
    let labels = if kind == "Pod" {
        meta.labels.clone()
    } else {
        template_labels(pod_map, &prefix).map_err(wrap)?
    };
    let spec_path = format!("{prefix}spec");
    let spec = match field(pod_map, "spec") {
        Some(v) => Node {
            value: v,
            path: &spec_path,
        }
        .object(&[])
        .map_err(wrap)?,
        None => {
            return Err(wrap(FieldError::new(
                spec_path,
                "missing: a pod needs a spec with containers",
            )))
        }
    };
    let ports = parse_container_ports(spec, &spec_path).map_err(wrap)?;
    let host_network = matches!(field(spec, "hostNetwork"), Some(Value::Bool(true)));
    let node = field(spec, "nodeName")
        .and_then(Value::as_str)
        .map(str::to_string);
    let ips = if kind == "Pod" {
        parse_ips(field(map, "status")).map_err(wrap)?
    } else {
        Vec::new()
    };
    // Finished pods hold no IP and take no traffic.
    if kind == "Pod" {
        if let Some(phase) = map
            .get("status")
            .and_then(|s| s.get("phase"))
            .and_then(Value::as_str)
        {
            if phase == "Succeeded" || phase == "Failed" {
                return Ok(None);
            }
        }
    }
    Ok(Some(Pod {
        namespace,
        name: meta.name,
        labels,
        ports,
        ips,
        host_network,
        node,
        origin,
        source,
    }))
}
