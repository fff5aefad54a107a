//! kubectl-netpol: the NetworkPolicy engine and the tools around it.
