"""Heat's orchestration API (``/v1/{project_id}/stacks...``) over cool's builds.

A stack is a build: the same auth, policy, store and handlers underneath, Heat's
URLs, fields and fault body on top, so that the clients Heat's users already
have (python-openstackclient with heatclient, openstacksdk and Ansible,
gophercloud and Terraform, Horizon) work against cool unchanged.
/work/shared/notes/heat-api.md has the facts this follows; docs/heat-api.md
says what differs from Heat.
"""
