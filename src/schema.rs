//! The JSON Schema of policy files, for editors' completion and validation. It mirrors
//! `raw.rs`; a test checks that every bundled policy file validates against it.

use serde_json::{Value, json};

pub fn schema() -> Value {
    let text = json!({"type": "string"});
    let selectors = json!({
        "description": "An entity name, `tag:NAME`, an IP address or prefix, or `any`; or a list of them (their union).",
        "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]
    });
    let ports = json!({
        "description": "`any`, `tcp`, `udp`, `sctp`, `icmp`, `tcp/443`, `udp/53`, `sctp/9000` or `tcp/8000-8100`.",
        "type": "array",
        "items": {"type": "string", "pattern": "^(any|tcp|udp|sctp|icmp|(tcp|udp|sctp)/[0-9]{1,5}(-[0-9]{1,5})?)$"}
    });
    // ASCII letters, digits, `.`, `_`, `-`, and any character beyond ASCII: `\p{L}` says
    // "letter" more exactly, but Python's `re` and other validators reject it.
    let name = json!({"type": "string", "pattern": "^([A-Za-z0-9._-]|[^\\x00-\\x7F])+$"});
    let date = json!({"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "description": "YYYY-MM-DD"});
    let entity_properties = json!({
        "name": name,
        "in": {"type": "string", "description": "The entity this one sits in."},
        "cidrs": {"type": "array", "items": {"type": "string"}, "description": "IPv4 or IPv6 addresses and prefixes."},
        "tags": {"type": "array", "items": {"type": "string"}},
        "description": text,
        "owner": text
    });
    let mut account_properties = entity_properties.clone();
    account_properties["provider"] = text.clone();
    account_properties["id"] = json!({"type": ["string", "integer"]});
    let ends = json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["from", "to"],
        "properties": {
            "from": {"$ref": "#/$defs/selectors"},
            "to": {"$ref": "#/$defs/selectors"},
            "ports": {"$ref": "#/$defs/ports", "minItems": 1},
            "direct": {"type": "boolean"}
        }
    });
    let list = |item: &str| json!({"type": ["array", "null"], "items": {"$ref": format!("#/$defs/{item}")}});
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "cordon policy file",
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "version": {"enum": [1, "1"]},
            "environments": list("entity"),
            "accounts": list("account"),
            "segments": list("entity"),
            "assets": list("entity"),
            "credentials": list("credential"),
            "flows": list("flow"),
            "invariants": list("invariant"),
            "exceptions": list("exception"),
            "imports": list("import"),
            "leaks": list("leak")
        },
        "$defs": {
            "import": {
                "type": "object",
                "description": "Infrastructure read into the model, the path relative to this file: a directory or file of Kubernetes manifests placed in an entity (`kubernetes`; its names then start with that entity's name and `/`), or a Terraform plan or state placed in an account (`terraform`). Exactly one of the two.",
                "additionalProperties": false,
                "required": ["in"],
                "properties": {
                    "kubernetes": {"type": "string", "description": "A directory or file of Kubernetes manifests."},
                    "terraform": {"type": "string", "description": "A Terraform plan or state, as `terraform show -json` writes it."},
                    "in": {"type": "string", "description": "The entity (for `kubernetes`) or account (for `terraform`) that holds what is read."},
                    "namespace": {"type": "string", "description": "For `kubernetes`: the namespace of objects that name none, as `kubectl apply -n NAMESPACE` gives them (default `default`)."}
                },
                "oneOf": [
                    {"required": ["kubernetes"], "not": {"required": ["terraform"]}},
                    {"required": ["terraform"], "not": {"anyOf": [{"required": ["kubernetes"]}, {"required": ["namespace"]}]}}
                ]
            },
            "selectors": selectors,
            "ports": ports,
            "entity": {
                "type": "object", "additionalProperties": false, "required": ["name"],
                "properties": entity_properties
            },
            "account": {
                "type": "object", "additionalProperties": false, "required": ["name"],
                "properties": account_properties
            },
            "flow": {
                "type": "object", "additionalProperties": false, "required": ["from", "to"],
                "properties": {
                    "name": text,
                    "from": {"$ref": "#/$defs/selectors"},
                    "to": {"$ref": "#/$defs/selectors"},
                    "ports": {"$ref": "#/$defs/ports"},
                    "auth": {"type": "array", "items": {"type": "string"}, "description": "Credentials, one of which the source must hold."},
                    "kind": text, "description": text, "owner": text, "ticket": text
                }
            },
            "credential": {
                "type": "object", "additionalProperties": false, "required": ["name"],
                "properties": {
                    "name": text,
                    "held_by": {"$ref": "#/$defs/selectors"},
                    "leaked": {"type": "boolean"},
                    "status": {"enum": ["active", "revoked"]},
                    "kind": text, "description": text, "owner": text,
                    "rotated": date
                }
            },
            "leak": {
                "type": "object", "additionalProperties": false, "required": ["credential"],
                "description": "A credential declared elsewhere, often one an importer read (`aws_iam_user.deploy`, `token:ci/runner`), that an attacker holds a copy of: as `leaked: true` on a credential written by hand.",
                "properties": {
                    "credential": {"type": "string", "description": "The credential's name."},
                    "description": text, "owner": text
                }
            },
            "invariant": {
                "type": "object", "additionalProperties": false, "required": ["name"],
                "properties": {
                    "name": text,
                    "description": text,
                    "severity": {"enum": ["critical", "high", "medium", "low"]},
                    "references": {"type": "array", "items": {"type": "string"}},
                    "forbid": ends,
                    "require": ends,
                    "through": {
                        "type": "object", "additionalProperties": false,
                        "required": ["from", "to", "via"],
                        "properties": {
                            "from": {"$ref": "#/$defs/selectors"},
                            "to": {"$ref": "#/$defs/selectors"},
                            "via": {"$ref": "#/$defs/selectors"}
                        }
                    }
                },
                "oneOf": [
                    {"required": ["forbid"]}, {"required": ["require"]}, {"required": ["through"]}
                ]
            },
            "exception": {
                "type": "object", "additionalProperties": false,
                "required": ["invariant", "reason", "owner", "expires"],
                "properties": {
                    "invariant": text, "reason": text, "owner": text,
                    "expires": date,
                    "path": {
                        "type": "array", "minItems": 2,
                        "items": {"type": "string"},
                        "description": "The one route this exception waives: the witness's leaves (or groups around them), first to last, each pair joined by a flow. `flow:NAME` between two entities pins that hop to the named flow. Omit to waive any witness."
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(value: &Value) -> Vec<&str> {
        let mut keys: Vec<&str> = value
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        keys.sort_unstable();
        keys
    }

    #[test]
    fn the_schema_names_every_key_the_loader_accepts() {
        let schema = schema();
        assert_eq!(
            keys(&schema["properties"]),
            [
                "accounts",
                "assets",
                "credentials",
                "environments",
                "exceptions",
                "flows",
                "imports",
                "invariants",
                "leaks",
                "segments",
                "version"
            ]
        );
        let defs = &schema["$defs"];
        assert_eq!(
            keys(&defs["flow"]["properties"]),
            [
                "auth",
                "description",
                "from",
                "kind",
                "name",
                "owner",
                "ports",
                "ticket",
                "to"
            ]
        );
        assert_eq!(
            keys(&defs["entity"]["properties"]),
            ["cidrs", "description", "in", "name", "owner", "tags"]
        );
        assert_eq!(
            keys(&defs["credential"]["properties"]),
            [
                "description",
                "held_by",
                "kind",
                "leaked",
                "name",
                "owner",
                "rotated",
                "status"
            ]
        );
        assert_eq!(
            keys(&defs["exception"]["properties"]),
            ["expires", "invariant", "owner", "path", "reason"]
        );
        assert_eq!(
            keys(&defs["leak"]["properties"]),
            ["credential", "description", "owner"]
        );
        let path = &defs["exception"]["properties"]["path"];
        assert!(
            path["description"]
                .as_str()
                .unwrap()
                .contains("`flow:NAME`")
        );
    }
}
