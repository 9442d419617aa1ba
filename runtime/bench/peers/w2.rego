# W2, retrieval scope, in Rego. Entry: data.bench.w2.visible, the ids of
# the documents kept, in input order.
#
# Approximation: Rego has no request clock; `now` (Unix seconds) comes
# from the input. Levels are ranked through a lookup table.
package bench.w2

import rego.v1

levels := {"public": 0, "internal": 1, "confidential": 2, "restricted": 3}

allowed_sources := {"confluence", "gdrive", "sharepoint", "wiki"}

max_age_days := 90

visible := [doc.id |
	some doc in input.docs
	keep(doc)
]

keep(doc) if {
	doc.tenant == input.user.tenant
	levels[doc.classification] <= levels[input.user.clearance]
	some group in doc.acl
	group in input.user.groups
	doc.source in allowed_sources
	doc.updated_at >= input.now - (max_age_days * 86400)
}
