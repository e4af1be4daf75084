"""Validates policy files against cordon's JSON Schema with Python's jsonschema, a real
validator that editors' schema support resembles: usage: validate-schema.py SCHEMA FILE...

YAML is read without its timestamp type, so that a date stays the string the schema
describes, as it does for cordon."""
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
failed = 0
for path in sys.argv[2:]:
    with open(path) as handle:
        document = json.load(handle) if path.endswith(".json") else yaml.load(handle, Loader=Loader)
    for error in validator.iter_errors(document):
        failed += 1
        where = "/".join(str(part) for part in error.absolute_path)
        print(f"{path}: {where}: {error.message}")
print(f"schema: {len(sys.argv) - 2} files, {failed} errors")
sys.exit(1 if failed else 0)
