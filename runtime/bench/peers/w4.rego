# W4, alert thresholds, in Rego. Entry: data.bench.w4.result, an object
# {"allowed": bool, "alerts": [slugs of the alerts raised]}.
#
# Same rules as policies/w4.pol: alerts are a partial set, the page is
# computed in the policy.
package bench.w4

import rego.v1

min_requests := 20

judged if input.requests >= min_requests

error_rate := input.errors / input.requests if judged

block_rate := input.blocked / input.requests if judged

spend := input.tokens_spent / input.token_budget if input.token_budget > 0

errors_critical if error_rate >= 0.20

errors_warning if {
	error_rate >= 0.05
	not errors_critical
}

latency_high if input.p95_latency_ms >= 5000

latency_warning if {
	input.p95_latency_ms >= 1500
	not latency_high
}

budget_exhausted if {
	input.token_budget > 0
	input.tokens_spent >= input.token_budget
}

budget_warning if {
	spend >= 0.8
	not budget_exhausted
}

blocks_high if block_rate >= 0.30

blocks_warning if {
	block_rate >= 0.10
	not blocks_high
}

alerts contains "error-rate-at-the-critical-threshold" if errors_critical

alerts contains "error-rate-above-the-warning-threshold" if errors_warning

alerts contains "p95-latency-at-the-high-threshold" if latency_high

alerts contains "p95-latency-above-the-warning-threshold" if latency_warning

alerts contains "token-budget-exhausted" if budget_exhausted

alerts contains "token-spend-near-the-budget" if budget_warning

alerts contains "block-rate-at-the-high-threshold" if blocks_high

alerts contains "block-rate-above-the-warning-threshold" if blocks_warning

page if errors_critical

page if latency_high

page if budget_exhausted

page if blocks_high

default allowed := true

allowed := false if page

result := {"allowed": allowed, "alerts": alerts}
