"""Validates policy files against cordon's JSON Schema with Python's jsonschema, a real
validator that editors' schema support resembles: usage: validate-schema.py SCHEMA FILE...

YAML is read without its timestamp type, so that a date stays the string the schema
describes, as it does for cordon. Every document of a file is read, and only cordon
policies are validated, as cordon tells them apart: Kubernetes objects (`apiVersion` and
`kind`) and Terraform plans (`format_version` and `terraform_version`) are left to their
importers."""
import json
import sys

import jsonschema
import yaml


class Loader(yaml.SafeLoader):
    pass


# Drop the implicit timestamp type: `2024-01-31` stays a string.
Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

schema = json.load(open(sys.argv[1]))
validator = jsonschema.Draft202012Validator(schema)
jsonschema.Draft202012Validator.check_schema(schema)


def foreign(document):
    """Whether a document belongs to an importer rather than to cordon's schema."""
    if not isinstance(document, dict):
        return False
    keys = set(document)
    return {"apiVersion", "kind"} <= keys or {"format_version", "terraform_version"} <= keys


failed = 0
validated = 0
for path in sys.argv[2:]:
    with open(path) as handle:
        if path.endswith(".json"):
            documents = [json.load(handle)]
        else:
            documents = list(yaml.load_all(handle, Loader=Loader))
    for document in documents:
        if document is None or foreign(document):
            continue
        validated += 1
        for error in validator.iter_errors(document):
            failed += 1
            where = "/".join(str(part) for part in error.absolute_path)
            print(f"{path}: {where}: {error.message}")
print(f"schema: {len(sys.argv) - 2} files, {validated} policy documents, {failed} errors")
sys.exit(1 if failed else 0)
