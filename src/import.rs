//! Importers: front ends that turn infrastructure (Kubernetes manifests) into the same
//! raw model that policy files give, with every entity and flow located at the line of
//! the object or rule it comes from. Nothing past `resolve` knows where a flow came from.

pub mod kubernetes;
