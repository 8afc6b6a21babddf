# ruff: noqa: E501  (one tool per line reads best as a table)
"""Tool specs for `make_catalog.py`, part A: code hosting, chat, files, git, memory, time, fetch, SQL, trackers."""

from __future__ import annotations

SERVERS_A: dict[str, str] = {
    "github": """
create_repository | Create a new GitHub repository in your account or an organization | name:str! description:str private:bool autoInit:bool organization:str
fork_repository | Fork a GitHub repository to your account or to an organization | owner:str! repo:str! organization:str
search_repositories | Search for GitHub repositories by name, topic, language or description | query:str! page:int perPage:int
get_file_contents | Get the contents of a file or directory from a GitHub repository | owner:str! repo:str! path:str! ref:str
create_or_update_file | Create or update a single file in a GitHub repository with a commit | owner:str! repo:str! path:str! content:str! message:str! branch:str! sha:str
push_files | Push several files to a repository branch in a single commit | owner:str! repo:str! branch:str! files:obj[]! message:str!
delete_file | Delete a file from a GitHub repository with a commit | owner:str! repo:str! path:str! message:str! branch:str!
create_branch | Create a new branch in a GitHub repository from an existing ref | owner:str! repo:str! branch:str! from_branch:str
list_branches | List the branches of a GitHub repository | owner:str! repo:str! page:int perPage:int
list_commits | List the commits of a branch in a GitHub repository, newest first | owner:str! repo:str! sha:str author:str page:int perPage:int
get_commit | Get details of a commit, including changed files and stats | owner:str! repo:str! sha:str!
list_tags | List the git tags of a repository | owner:str! repo:str! page:int perPage:int
create_issue | Create a new issue in a GitHub repository | owner:str! repo:str! title:str! body:str assignees:str[] labels:str[] milestone:int
get_issue | Get the details of one issue in a GitHub repository | owner:str! repo:str! issue_number:int!
list_issues | List issues in a GitHub repository with filters for state, labels and sort order | owner:str! repo:str! state:enum(open,closed,all) labels:str[] sort:enum(created,updated,comments) direction:enum(asc,desc) since:str page:int per_page:int
update_issue | Update an existing issue: title, body, state, labels, assignees or milestone | owner:str! repo:str! issue_number:int! title:str body:str state:enum(open,closed) labels:str[] assignees:str[]
add_issue_comment | Add a comment to an issue or pull request | owner:str! repo:str! issue_number:int! body:str!
list_issue_comments | List the comments on an issue | owner:str! repo:str! issue_number:int! page:int per_page:int
search_issues | Search issues and pull requests across GitHub repositories with GitHub search syntax | q:str! sort:str order:enum(asc,desc) page:int per_page:int
create_pull_request | Open a new pull request to merge a head branch into a base branch | owner:str! repo:str! title:str! head:str! base:str! body:str draft:bool
get_pull_request | Get the details of a specific pull request | owner:str! repo:str! pull_number:int!
list_pull_requests | List and filter the pull requests of a repository | owner:str! repo:str! state:enum(open,closed,all) head:str base:str sort:enum(created,updated,popularity) page:int per_page:int
update_pull_request | Edit the title, body, base branch or state of a pull request | owner:str! repo:str! pull_number:int! title:str body:str state:enum(open,closed) base:str
merge_pull_request | Merge a pull request using a merge commit, squash or rebase | owner:str! repo:str! pull_number:int! commit_title:str commit_message:str merge_method:enum(merge,squash,rebase)
get_pull_request_files | Get the list of files changed in a pull request | owner:str! repo:str! pull_number:int!
get_pull_request_diff | Get the unified diff of a pull request | owner:str! repo:str! pull_number:int!
get_pull_request_status | Get the combined status of all status checks for a pull request | owner:str! repo:str! pull_number:int!
get_pull_request_comments | Get the review comments on a pull request | owner:str! repo:str! pull_number:int!
get_pull_request_reviews | Get the reviews submitted on a pull request | owner:str! repo:str! pull_number:int!
create_pull_request_review | Create a review on a pull request: approve, request changes or comment | owner:str! repo:str! pull_number:int! body:str event:enum(APPROVE,REQUEST_CHANGES,COMMENT)! comments:obj[]
request_reviewers | Request reviews on a pull request from users or teams | owner:str! repo:str! pull_number:int! reviewers:str[] team_reviewers:str[]
update_pull_request_branch | Update a pull request branch with the latest changes from its base branch | owner:str! repo:str! pull_number:int! expected_head_sha:str
search_code | Search for code across GitHub repositories | q:str! sort:str order:enum(asc,desc) page:int per_page:int
search_users | Search for GitHub users by name, location or followers | q:str! sort:str order:enum(asc,desc) page:int per_page:int
get_me | Get details of the authenticated GitHub user | 
list_workflow_runs | List the GitHub Actions workflow runs of a repository | owner:str! repo:str! workflow_id:str branch:str status:str page:int per_page:int
rerun_workflow_run | Re-run a GitHub Actions workflow run | owner:str! repo:str! run_id:int!
get_job_logs | Download the logs of a GitHub Actions job | owner:str! repo:str! job_id:int!
list_releases | List the releases of a repository | owner:str! repo:str! page:int per_page:int
create_release | Create a release for a tag, with release notes | owner:str! repo:str! tag_name:str! name:str body:str draft:bool prerelease:bool
list_notifications | List notifications for the authenticated user | all:bool participating:bool since:str page:int per_page:int
list_code_scanning_alerts | List code scanning alerts for a repository | owner:str! repo:str! state:enum(open,closed,dismissed,fixed) severity:str ref:str
get_secret_scanning_alert | Get a secret scanning alert detected in a repository | owner:str! repo:str! alertNumber:int!
star_repository | Star a repository for the authenticated user | owner:str! repo:str!
""",
    "gitlab": """
create_repository | Create a new GitLab project | name:str! description:str visibility:enum(private,internal,public) initialize_with_readme:bool
search_repositories | Search for GitLab projects | search:str! page:int per_page:int
get_file_contents | Get the contents of a file from a GitLab project | project_id:str! file_path:str! ref:str
create_or_update_file | Create or update a single file in a GitLab project | project_id:str! file_path:str! content:str! commit_message:str! branch:str!
push_files | Push multiple files to a GitLab project in one commit | project_id:str! branch:str! files:obj[]! commit_message:str!
create_branch | Create a new branch in a GitLab project | project_id:str! branch:str! ref:str
create_issue | Create a new issue in a GitLab project | project_id:str! title:str! description:str assignee_ids:int[] labels:str[] milestone_id:int
list_issues | List issues in a GitLab project | project_id:str! state:enum(opened,closed,all) labels:str[] search:str page:int per_page:int
update_issue | Update an issue in a GitLab project | project_id:str! issue_iid:int! title:str description:str state_event:enum(close,reopen) labels:str[]
create_merge_request | Create a new merge request in a GitLab project | project_id:str! title:str! source_branch:str! target_branch:str! description:str draft:bool
get_merge_request | Get details of a merge request | project_id:str! merge_request_iid:int!
list_merge_requests | List merge requests in a GitLab project | project_id:str! state:enum(opened,closed,merged,all) target_branch:str page:int per_page:int
update_merge_request | Update a merge request: title, description, target branch, assignees or labels | project_id:str! merge_request_iid:int! title:str description:str target_branch:str labels:str[]
merge_merge_request | Accept and merge a merge request | project_id:str! merge_request_iid:int! squash:bool should_remove_source_branch:bool
get_merge_request_diffs | Get the changes (diffs) of a merge request | project_id:str! merge_request_iid:int!
create_note | Create a comment (note) on an issue or merge request | project_id:str! noteable_type:enum(issue,merge_request)! noteable_iid:int! body:str!
list_pipelines | List CI/CD pipelines of a GitLab project | project_id:str! status:str ref:str page:int per_page:int
get_pipeline | Get details of a CI/CD pipeline | project_id:str! pipeline_id:int!
retry_pipeline | Retry the failed jobs of a pipeline | project_id:str! pipeline_id:int!
get_job_log | Get the log (trace) of a CI/CD job | project_id:str! job_id:int!
list_project_members | List the members of a GitLab project | project_id:str! query:str
list_labels | List the labels of a GitLab project | project_id:str! search:str
create_wiki_page | Create a wiki page in a GitLab project | project_id:str! title:str! content:str! format:enum(markdown,rdoc,asciidoc)
list_milestones | List the milestones of a GitLab project | project_id:str! state:enum(active,closed)
""",
    "slack": """
list_channels | List public channels in the Slack workspace with pagination | limit:int cursor:str
get_channel_history | Get recent messages from a Slack channel | channel_id:str! limit:int oldest:str latest:str
post_message | Post a new message to a Slack channel | channel_id:str! text:str! blocks:obj[]
reply_to_thread | Reply to a specific message thread in Slack | channel_id:str! thread_ts:str! text:str!
get_thread_replies | Get all replies in a message thread | channel_id:str! thread_ts:str!
add_reaction | Add a reaction emoji to a message | channel_id:str! timestamp:str! reaction:str!
remove_reaction | Remove a reaction emoji from a message | channel_id:str! timestamp:str! reaction:str!
get_users | Get a list of all users in the workspace with their basic profile information | limit:int cursor:str
get_user_profile | Get detailed profile information for a specific user | user_id:str!
lookup_user_by_email | Find a Slack user by their email address | email:str!
create_channel | Create a new public or private channel | name:str! is_private:bool
archive_channel | Archive a Slack channel | channel_id:str!
invite_to_channel | Invite users to a channel | channel_id:str! users:str[]!
set_channel_topic | Set the topic of a channel | channel_id:str! topic:str!
search_messages | Search messages across the workspace using Slack search modifiers | query:str! count:int sort:enum(score,timestamp)
send_direct_message | Send a direct message to a user | user_id:str! text:str!
upload_file | Upload a file and share it in one or more channels | channels:str[]! filename:str! content:str! title:str initial_comment:str
schedule_message | Schedule a message to be posted to a channel at a later time | channel_id:str! text:str! post_at:int!
update_message | Edit the text of a message previously posted | channel_id:str! ts:str! text:str!
delete_message | Delete a message from a channel | channel_id:str! ts:str!
pin_message | Pin a message to the channel | channel_id:str! timestamp:str!
set_status | Set the custom status text and emoji of the authenticated user | status_text:str! status_emoji:str expiration:int
""",
    "filesystem": """
read_text_file | Read the complete contents of a file from the file system as text; head or tail limit the lines | path:str! head:int tail:int
read_media_file | Read an image or audio file and return base64 data with its MIME type | path:str!
read_multiple_files | Read the contents of several files at once; failures on single files do not stop the others | paths:str[]!
write_file | Create a new file or completely overwrite an existing file with new content | path:str! content:str!
edit_file | Make line-based edits to a text file and return a git-style diff | path:str! edits:obj[]! dryRun:bool
create_directory | Create a new directory, or make sure it exists, including parents | path:str!
list_directory | Get a listing of all files and directories in a given path | path:str!
list_directory_with_sizes | List files and directories in a path, including their sizes | path:str! sortBy:enum(name,size)
directory_tree | Get a recursive tree view of files and directories as JSON | path:str! excludePatterns:str[]
move_file | Move or rename files and directories | source:str! destination:str!
search_files | Recursively search for files and directories matching a glob pattern | path:str! pattern:str! excludePatterns:str[]
get_file_info | Retrieve metadata about a file or directory: size, creation time, modified time, permissions | path:str!
list_allowed_directories | List the directories this server is allowed to access | 
delete_file | Delete a file from the file system | path:str!
""",
    "git": """
git_status | Show the working tree status of a git repository | repo_path:str!
git_diff_unstaged | Show changes in the working directory that are not yet staged | repo_path:str! context_lines:int
git_diff_staged | Show changes that are staged for commit | repo_path:str! context_lines:int
git_diff | Show differences between the working tree and a branch or commit | repo_path:str! target:str! context_lines:int
git_commit | Record staged changes to the repository with a commit message | repo_path:str! message:str!
git_add | Add file contents to the staging area | repo_path:str! files:str[]!
git_reset | Unstage all staged changes | repo_path:str!
git_log | Show the commit logs, with optional date filters | repo_path:str! max_count:int start_timestamp:str end_timestamp:str
git_create_branch | Create a new branch from an optional base branch | repo_path:str! branch_name:str! base_branch:str
git_checkout | Switch branches | repo_path:str! branch_name:str!
git_show | Show the contents of a commit | repo_path:str! revision:str!
git_branch | List git branches: local, remote or all | repo_path:str! branch_type:enum(local,remote,all)! contains:str
git_init | Initialize a new git repository | repo_path:str!
git_stash | Stash the changes in a dirty working directory | repo_path:str! message:str
""",
    "memory": """
create_entities | Create multiple new entities in the knowledge graph | entities:obj[]!
create_relations | Create multiple new relations between entities in the knowledge graph; relations are in active voice | relations:obj[]!
add_observations | Add new observations to existing entities in the knowledge graph | observations:obj[]!
delete_entities | Delete entities and their associated relations from the knowledge graph | entityNames:str[]!
delete_observations | Delete specific observations from entities in the knowledge graph | deletions:obj[]!
delete_relations | Delete relations from the knowledge graph | relations:obj[]!
read_graph | Read the entire knowledge graph | 
search_nodes | Search for nodes in the knowledge graph by matching names, types and observation content | query:str!
open_nodes | Open specific nodes in the knowledge graph by their names | names:str[]!
""",
    "time": """
get_current_time | Get the current time in a specific timezone | timezone:str!
convert_time | Convert a time between timezones | source_timezone:str! time:str! target_timezone:str!
""",
    "fetch": """
fetch | Fetch a URL from the internet and extract its contents as markdown; long pages can be read in chunks with start_index | url:str! max_length:int start_index:int raw:bool
""",
    "postgres": """
query | Run a read-only SQL query against the PostgreSQL database | sql:str!
execute_sql | Execute a SQL statement that modifies data or schema (INSERT, UPDATE, DELETE, DDL) | sql:str!
list_schemas | List the schemas in the PostgreSQL database | 
list_tables | List the tables in a schema | schema_name:str
describe_table | Get the columns, types, constraints and indexes of a table | table_name:str! schema_name:str
explain_query | Show the execution plan of a SQL query, optionally with ANALYZE | sql:str! analyze:bool
list_indexes | List the indexes of a table with their definitions and sizes | table_name:str! schema_name:str
get_table_stats | Get row counts, size on disk and vacuum statistics of tables | schema_name:str
list_active_queries | List currently running queries and their duration | min_duration_ms:int
""",
    "sqlite": """
read_query | Execute a SELECT query on the SQLite database | query:str!
write_query | Execute an INSERT, UPDATE or DELETE query on the SQLite database | query:str!
create_table | Create a new table in the SQLite database | query:str!
list_tables | List all tables in the SQLite database | 
describe_table | Get the schema information of a specific table | table_name:str!
append_insight | Add a business insight to the memo | insight:str!
""",
    "jira": """
search_issues | Search Jira issues using JQL (Jira Query Language) | jql:str! fields:str[] limit:int startAt:int
get_issue | Get the details of a Jira issue, including fields, comments and links | issue_key:str! fields:str[] expand:str
create_issue | Create a new Jira issue (bug, story, task or epic) in a project | project_key:str! summary:str! issue_type:enum(Bug,Story,Task,Epic,Subtask)! description:str assignee:str priority:str labels:str[]
update_issue | Update fields of an existing Jira issue | issue_key:str! fields:obj! 
delete_issue | Delete a Jira issue | issue_key:str! delete_subtasks:bool
transition_issue | Move a Jira issue to another status through a workflow transition | issue_key:str! transition_id:str! comment:str
get_transitions | Get the workflow transitions available for an issue | issue_key:str!
add_comment | Add a comment to a Jira issue | issue_key:str! body:str!
assign_issue | Assign a Jira issue to a user | issue_key:str! account_id:str!
add_worklog | Log time spent on a Jira issue | issue_key:str! time_spent:str! comment:str started:str
link_issues | Create a link between two Jira issues, e.g. blocks or relates to | inward_issue:str! outward_issue:str! link_type:str!
list_projects | List the Jira projects visible to the user | limit:int
get_project | Get the details of a Jira project | project_key:str!
list_sprints | List the sprints of a Jira Scrum board | board_id:int! state:enum(active,future,closed)
get_sprint_issues | Get the issues in a sprint | sprint_id:int! fields:str[]
create_sprint | Create a new sprint on a board | board_id:int! name:str! start_date:str end_date:str goal:str
list_boards | List the Scrum and Kanban boards | project_key:str type:enum(scrum,kanban)
get_user | Find a Jira user by name or email | query:str!
add_attachment | Attach a file to a Jira issue | issue_key:str! filename:str! content_base64:str!
get_changelog | Get the change history of a Jira issue | issue_key:str!
create_version | Create a release version in a Jira project | project_key:str! name:str! release_date:str description:str
""",
    "linear": """
list_issues | List Linear issues with filters for team, assignee, state and labels | team_id:str assignee_id:str state:str labels:str[] limit:int
get_issue | Get a Linear issue by ID, with its description, comments and attachments | issue_id:str!
create_issue | Create a new Linear issue in a team | team_id:str! title:str! description:str priority:int assignee_id:str label_ids:str[] project_id:str
update_issue | Update a Linear issue's title, description, state, priority or assignee | issue_id:str! title:str description:str state_id:str priority:int assignee_id:str
search_issues | Search Linear issues by text | query:str! limit:int
add_comment | Add a comment to a Linear issue | issue_id:str! body:str!
list_teams | List the teams in the Linear workspace | 
list_projects | List Linear projects | team_id:str limit:int
get_project | Get a Linear project with its milestones and progress | project_id:str!
create_project | Create a new Linear project | name:str! team_ids:str[]! description:str target_date:str
list_cycles | List the cycles (sprints) of a team | team_id:str!
list_users | List the users in the Linear workspace | 
get_viewer | Get the currently authenticated Linear user | 
list_issue_labels | List the issue labels available in a team | team_id:str
list_workflow_states | List the workflow states (Todo, In Progress, Done...) of a team | team_id:str!
archive_issue | Archive a Linear issue | issue_id:str!
create_attachment | Attach a URL to a Linear issue | issue_id:str! url:str! title:str!
""",
    "notion": """
search | Search Notion pages and databases by title | query:str! filter:obj sort:obj page_size:int
retrieve_page | Retrieve a Notion page's properties | page_id:str!
create_page | Create a new page in Notion, as a child of a page or a database | parent:obj! properties:obj! children:obj[]
update_page_properties | Update the properties of a Notion page | page_id:str! properties:obj!
archive_page | Archive (move to trash) a Notion page | page_id:str!
retrieve_block_children | Retrieve the content blocks of a page or block | block_id:str! page_size:int start_cursor:str
append_block_children | Append content blocks to a page or block | block_id:str! children:obj[]!
update_block | Update the content of a block | block_id:str! block:obj!
delete_block | Delete a block | block_id:str!
query_database | Query a Notion database with filters and sorts | database_id:str! filter:obj sorts:obj[] page_size:int start_cursor:str
retrieve_database | Retrieve a Notion database's schema and properties | database_id:str!
create_database | Create a Notion database as a child of a page | parent:obj! title:obj[]! properties:obj!
update_database | Update a Notion database's title or properties | database_id:str! title:obj[] properties:obj
create_comment | Create a comment on a page or in a discussion thread | parent:obj discussion_id:str rich_text:obj[]!
retrieve_comments | Retrieve the unresolved comments on a page or block | block_id:str!
list_users | List all users in the Notion workspace | page_size:int start_cursor:str
retrieve_user | Retrieve a Notion user by ID | user_id:str!
get_self | Retrieve the bot user of the Notion integration | 
""",
}
