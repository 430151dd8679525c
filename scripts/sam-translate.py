#!/usr/bin/env python3
"""Translate a SAM template to CloudFormation offline and print it as JSON.

Usage: sam-translate.py template.yaml [Key=Value ...]

Uses the aws-sam-translator library (what `sam build`/CloudFormation run), with
no AWS calls: local CodeUri values become s3:// placeholders and managed policy
names are not resolved (the template uses policy templates and inline
statements only). Parameters not given take their defaults.
"""
import json
import os
import sys

from samtranslator.parser import parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        template = yaml_parse(f.read())
    params = dict(a.split("=", 1) for a in argv[2:])
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    for res in template.get("Resources", {}).values():
        if res.get("Type") == "AWS::Serverless::Function":
            props = res.setdefault("Properties", {})
            uri = props.get("CodeUri")
            if isinstance(uri, str) and not uri.startswith("s3://"):
                props["CodeUri"] = "s3://pilotsync-build/" + uri.strip("./") + "code.zip"
    glob = template.get("Globals", {}).get("Function", {})
    if isinstance(glob.get("CodeUri"), str) and not glob["CodeUri"].startswith("s3://"):
        glob["CodeUri"] = "s3://pilotsync-build/code.zip"
    out = Translator(managed_policy_map={}, sam_parser=parser.Parser()).translate(
        sam_template=template, parameter_values=params, passthrough_metadata=True
    )
    json.dump(out, sys.stdout, indent=1, sort_keys=True, default=str)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
