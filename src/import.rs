//! Importers: front ends that turn infrastructure (Kubernetes manifests, Terraform plans)
//! into the same raw model that policy files give, with every entity and flow located at
//! the line of the object, rule or resource it comes from. Nothing past `resolve` knows
//! where a flow came from.

pub mod kubernetes;
mod service_account;
pub mod terraform;

pub use service_account::ServiceAccount;
