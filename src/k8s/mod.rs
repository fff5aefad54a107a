//! The one place the CLI talks to the Kubernetes API: the client and kubeconfig handling, and
//! the live snapshot (`live`). The other folders call through narrow traits (probe, install, lab)
//! so their planning code is tested with test doubles.

pub mod live;
