"""Generate `catalog.json`: a realistic multi-server MCP tool catalog for search tests and benchmarks.

The tools are modelled on the kinds of tools public MCP servers expose (source hosting, chat, files, git,
knowledge graphs, databases, issue trackers, docs, calendars, mail, cloud, containers, payments, error
tracking, browsers, web search, ...). Names, descriptions and schemas are written for this project.

Each tool is one line, `name | description | params`, where params are space-separated
`name:type` with `!` for required; types are `str int num bool obj str[] int[] obj[]` or
`enum(a,b,c)`. Parameter descriptions come from `PARAM_DOCS` (`"server.param"` overrides `"param"`).

Run `python make_catalog.py` in this folder to rewrite `catalog.json`; the output is deterministic.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from servers_a import SERVERS_A
from servers_b import SERVERS_B

PARAM_DOCS: dict[str, str] = {
    "owner": "Repository owner (user or organization login)",
    "repo": "Repository name",
    "path": "Path of the file or directory",
    "branch": "Branch name",
    "ref": "Git reference: branch, tag or commit SHA",
    "sha": "Commit SHA",
    "title": "Title",
    "body": "Body text in Markdown",
    "state": "Filter by state",
    "labels": "Label names",
    "assignees": "Logins of the users to assign",
    "page": "Page number of the results (1-based)",
    "per_page": "Results per page (max 100)",
    "query": "Search query",
    "q": "Search query using the service's query syntax",
    "limit": "Maximum number of results to return",
    "cursor": "Pagination cursor returned by the previous call",
    "issue_number": "Issue number",
    "pull_number": "Pull request number",
    "channel_id": "ID of the channel",
    "user_id": "ID of the user",
    "text": "Message text",
    "thread_ts": "Timestamp of the parent message, to reply in its thread",
    "project_id": "Project ID or URL-encoded path",
    "merge_request_iid": "Internal ID of the merge request",
    "namespace": "Kubernetes namespace (default: default)",
    "name": "Name of the resource",
    "container_id": "Container ID or name",
    "image": "Image name, optionally with a tag",
    "customer": "ID of the customer",
    "amount": "Amount in the smallest currency unit (e.g. cents)",
    "currency": "Three-letter ISO currency code, lowercase",
    "metadata": "Key-value pairs to attach to the object",
    "url": "URL to open or fetch",
    "selector": "CSS selector of the target element",
    "element": "Human-readable description of the element, used for permission",
    "sql": "SQL statement to run",
    "table_name": "Name of the table",
    "issue_key": "Issue key, e.g. PROJ-123",
    "project_key": "Project key, e.g. PROJ",
    "jql": "JQL query string",
    "team_id": "ID of the team",
    "issue_id": "Issue ID or identifier (e.g. ENG-42)",
    "page_id": "ID of the page",
    "database_id": "ID of the database",
    "block_id": "ID of the block",
    "file_id": "ID of the file",
    "folder_id": "ID of the parent folder",
    "calendar_id": "Calendar ID; 'primary' for the user's main calendar",
    "event_id": "ID of the event",
    "message_id": "ID of the message",
    "thread_id": "ID of the thread",
    "bucket": "Name of the S3 bucket",
    "key": "Object key",
    "region": "AWS region, e.g. us-east-1",
    "instance_id": "ID of the EC2 instance",
    "function_name": "Name or ARN of the Lambda function",
    "log_group_name": "Name of the log group",
    "organization_slug": "Slug of the organization",
    "project_slug": "Slug of the project",
    "timezone": "IANA timezone name, e.g. Europe/Paris",
    "entities": "Entities to create",
    "relations": "Relations to create",
    "start_time": "Start time (ISO 8601)",
    "end_time": "End time (ISO 8601)",
    "since": "Only return items updated after this time (ISO 8601)",
    "until": "Only return items before this time (ISO 8601)",
    "content": "Content",
    "description": "Description",
    "email": "Email address",
    "tags": "Tags",
    "id": "Identifier of the object",
    "zone_id": "ID of the DNS zone",
    "account_id": "Account ID",
    "service_id": "ID of the service",
    "incident_id": "ID of the incident",
    "repo_path": "Path to the git repository",
    "guild_id": "ID of the server (guild)",
    "space_key": "Key of the space",
    "dashboard_id": "ID of the dashboard",
    "monitor_id": "ID of the monitor",
    "list_id": "ID of the list",
    "board_id": "ID of the board",
    "card_id": "ID of the card",
    "phone": "Phone number in E.164 format",
    "to": "Recipient",
    "subject": "Subject line",
    "cc": "CC recipients",
    "bcc": "BCC recipients",
    "mime_type": "MIME type",
    "index": "Index name",
    "cluster": "Cluster name or ARN",
    "deployment": "Name of the deployment",
    "pod": "Name of the pod",
    "replicas": "Desired number of replicas",
    "manifest": "YAML or JSON manifest",
    "command": "Command and arguments to run",
    "environment": "Environment variables",
    "ports": "Port mappings, host:container",
    "volumes": "Volume mounts, host:container",
    "stream": "Follow the output as it is produced",
    "tail": "Number of lines to show from the end",
    "count": "Number of results",
    "offset": "Number of results to skip",
    "country": "Two-letter country code for localized results",
    "freshness": "Only results from the last day (pd), week (pw), month (pm) or year (py)",
}

_TYPES: dict[str, dict[str, Any]] = {
    "str": {"type": "string"},
    "int": {"type": "integer"},
    "num": {"type": "number"},
    "bool": {"type": "boolean"},
    "obj": {"type": "object"},
    "str[]": {"type": "array", "items": {"type": "string"}},
    "int[]": {"type": "array", "items": {"type": "integer"}},
    "obj[]": {"type": "array", "items": {"type": "object"}},
}
_PARAM = re.compile(r"^(?P<name>[A-Za-z_][\w.-]*):(?P<type>enum\([^)]*\)|[a-z]+(?:\[\])?)(?P<req>!?)$")


def schema_for(server: str, params: str) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required: list[str] = []
    for token in params.split():
        m = _PARAM.match(token)
        if m is None:
            raise ValueError(f"{server}: bad parameter spec {token!r}")
        name, kind = m["name"], m["type"]
        if kind.startswith("enum("):
            prop: dict[str, Any] = {"type": "string", "enum": kind[5:-1].split(",")}
        else:
            prop = dict(_TYPES[kind])
        doc = PARAM_DOCS.get(f"{server}.{name}") or PARAM_DOCS.get(name)
        if doc:
            prop["description"] = doc
        properties[name] = prop
        if m["req"]:
            required.append(name)
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


def build() -> dict[str, Any]:
    servers: dict[str, list[dict[str, Any]]] = {}
    for server, spec in {**SERVERS_A, **SERVERS_B}.items():
        tools = []
        for line in spec.strip().splitlines():
            name, rest = line.split("|", 1)
            description, params = rest.rsplit("|", 1)  # descriptions may contain `|`, params never do
            name, description, params = name.strip(), description.strip(), params.strip()
            tool: dict[str, Any] = {"name": name, "description": description, "inputSchema": schema_for(server, params)}
            if name.startswith(("list_", "get_", "search_", "read_", "describe_", "query")):
                tool["annotations"] = {"readOnlyHint": True}
            tools.append(tool)
        names = [t["name"] for t in tools]
        if len(set(names)) != len(names):
            raise ValueError(f"{server}: duplicate tool names")
        servers[server] = tools
    return {"servers": servers}


if __name__ == "__main__":
    catalog = build()
    out = Path(__file__).with_name("catalog.json")
    out.write_text(json.dumps(catalog, indent=1, sort_keys=True) + "\n")
    total = sum(len(t) for t in catalog["servers"].values())
    print(f"{out.name}: {len(catalog['servers'])} servers, {total} tools")
