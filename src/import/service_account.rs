//! What one importer tells another: the service accounts of the imported Kubernetes
//! clusters, each with the entities that hold a token of it. On EKS such a token
//! obtains an IAM role, through a trust policy that admits the account's OpenID
//! Connect subject (IRSA) or through an EKS Pod Identity association, so the Terraform
//! importer makes the role held wherever the token is.

/// One service account of one imported cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceAccount {
    pub namespace: String,
    pub name: String,
    /// The entities that hold a token of it, by their names in the model (the
    /// cluster's prefix included), sorted.
    pub holders: Vec<String>,
}

impl ServiceAccount {
    /// The subject of the tokens issued to it, as trust policies name it.
    pub fn subject(&self) -> String {
        format!("system:serviceaccount:{}:{}", self.namespace, self.name)
    }
}
