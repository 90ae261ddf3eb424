"""Runs the case named by stack config `policy-cases:case` (cases.py)."""

import pulumi
from cases import CASES

CASES[pulumi.Config().require("case")]()
