# W1, tool permission, in Rego. Entry: data.bench.w1.decision, one of
# "deny", "allow", "allow_with_approval".
#
# Same rules as policies/w1.pol; the role map is data in the policy.
package bench.w1

import rego.v1

allowed_roles := {
	"search": {"guest", "analyst", "engineer", "admin"},
	"fs.read": {"analyst", "engineer", "admin"},
	"fs.write": {"engineer", "admin"},
	"http.fetch": {"analyst", "engineer", "admin"},
	"db.query": {"engineer", "admin"},
	"shell.exec": {"admin"},
}

workspace_prefix := "/workspace/"

approval_risk := 4

role_may_use_tool if input.principal.role in allowed_roles[input.tool.name]

violations contains "path escapes the workspace" if contains(input.args.path, "..")

# Written with `is_string` rather than `path := input.args.path`: regorus
# 0.14.1's RVM lets an assignment from an undefined reference succeed (the
# interpreter correctly fails the body), which would deny every call
# without a path.
violations contains "path outside the workspace" if {
	is_string(input.args.path)
	not startswith(input.args.path, workspace_prefix)
}

allowed if {
	role_may_use_tool
	count(violations) == 0
}

default decision := "deny"

decision := "allow_with_approval" if {
	allowed
	input.tool.risk >= approval_risk
}

decision := "allow" if {
	allowed
	input.tool.risk < approval_risk
}
