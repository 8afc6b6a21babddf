# ruff: noqa: E501  (one tool per line reads best as a table)
"""Tool specs for `make_catalog.py`, part B: Google, cloud, containers, payments, monitoring, browser, search."""

from __future__ import annotations

SERVERS_B: dict[str, str] = {
    "google-drive": """
search_files | Search for files in Google Drive by name or full text | query:str! page_size:int page_token:str
get_file | Get a Google Drive file's metadata: name, owners, size, sharing and modified time | file_id:str!
read_file | Read the contents of a Google Drive file; Google Docs are exported as Markdown and Sheets as CSV | file_id:str!
create_file | Create a new file in Google Drive with the given content | name:str! content:str! mime_type:str folder_id:str
update_file | Replace the content of an existing Google Drive file | file_id:str! content:str!
delete_file | Move a Google Drive file to the trash | file_id:str!
copy_file | Make a copy of a Google Drive file | file_id:str! name:str folder_id:str
move_file | Move a file to another Google Drive folder | file_id:str! folder_id:str!
create_folder | Create a folder in Google Drive | name:str! folder_id:str
list_folder | List the files in a Google Drive folder | folder_id:str! page_size:int page_token:str
share_file | Share a Google Drive file with a user, group or anyone with the link | file_id:str! email:str role:enum(reader,commenter,writer)! type:enum(user,group,anyone)!
list_permissions | List who has access to a Google Drive file | file_id:str!
export_file | Export a Google Docs, Sheets or Slides file to PDF, DOCX, XLSX or another format | file_id:str! mime_type:str!
read_spreadsheet_range | Read a range of cells from a Google Sheets spreadsheet | spreadsheet_id:str! range:str!
update_spreadsheet_range | Write values into a range of cells of a Google Sheets spreadsheet | spreadsheet_id:str! range:str! values:obj[]!
""",
    "google-calendar": """
list_calendars | List the calendars the user has access to | 
list_events | List events in a calendar within a time range | calendar_id:str! time_min:str time_max:str query:str max_results:int
get_event | Get the details of a calendar event | calendar_id:str! event_id:str!
create_event | Create a calendar event with title, time, attendees, location and video conference | calendar_id:str! summary:str! start:str! end:str! attendees:str[] location:str description:str add_conference:bool
update_event | Update an existing calendar event | calendar_id:str! event_id:str! summary:str start:str end:str attendees:str[] location:str description:str
delete_event | Delete a calendar event | calendar_id:str! event_id:str! send_updates:enum(all,externalOnly,none)
respond_to_event | Accept, decline or tentatively accept a meeting invitation | calendar_id:str! event_id:str! response:enum(accepted,declined,tentative)!
find_free_time | Find free time slots shared by several people's calendars | emails:str[]! time_min:str! time_max:str! duration_minutes:int!
query_free_busy | Get the busy intervals of a set of calendars | calendar_ids:str[]! time_min:str! time_max:str!
quick_add_event | Create an event from a natural-language text like 'Lunch with Ana tomorrow at noon' | calendar_id:str! text:str!
list_recurring_event_instances | List the instances of a recurring event | calendar_id:str! event_id:str! time_min:str time_max:str
""",
    "gmail": """
search_emails | Search emails using Gmail search syntax, e.g. from:ana is:unread | query:str! max_results:int
read_email | Read the content of an email message by ID | message_id:str!
send_email | Send a new email | to:str[]! subject:str! body:str! cc:str[] bcc:str[] html:bool attachments:str[]
draft_email | Create a draft email without sending it | to:str[]! subject:str! body:str! cc:str[] bcc:str[]
reply_to_email | Reply to an email message in its thread | message_id:str! body:str! reply_all:bool
forward_email | Forward an email to other recipients | message_id:str! to:str[]! note:str
delete_email | Permanently delete an email | message_id:str!
trash_email | Move an email to the trash | message_id:str!
modify_email_labels | Add or remove labels on an email, e.g. mark as read by removing UNREAD | message_id:str! add_label_ids:str[] remove_label_ids:str[]
list_labels | List all Gmail labels | 
create_label | Create a new Gmail label | name:str! label_list_visibility:str
get_thread | Get all messages of an email thread | thread_id:str!
download_attachment | Download an attachment of an email to a local path | message_id:str! attachment_id:str! save_path:str
create_filter | Create a Gmail filter that applies actions to matching incoming mail | criteria:obj! action:obj!
batch_modify_emails | Add or remove labels on many emails at once | message_ids:str[]! add_label_ids:str[] remove_label_ids:str[]
""",
    "aws": """
s3_list_buckets | List all S3 buckets in the AWS account | region:str
s3_create_bucket | Create a new S3 bucket | bucket:str! region:str acl:str
s3_delete_bucket | Delete an empty S3 bucket | bucket:str!
s3_list_objects | List the objects in an S3 bucket, optionally under a prefix | bucket:str! prefix:str max_keys:int continuation_token:str
s3_get_object | Download an object from an S3 bucket | bucket:str! key:str! version_id:str
s3_put_object | Upload an object to an S3 bucket | bucket:str! key:str! body:str! content_type:str
s3_delete_object | Delete an object from an S3 bucket | bucket:str! key:str!
s3_generate_presigned_url | Create a presigned URL that grants temporary access to an S3 object | bucket:str! key:str! expires_in:int method:enum(get_object,put_object)
ec2_describe_instances | Describe EC2 instances, with filters by state, tag or ID | instance_ids:str[] filters:obj[] region:str
ec2_start_instances | Start stopped EC2 instances | instance_ids:str[]! region:str
ec2_stop_instances | Stop running EC2 instances | instance_ids:str[]! region:str force:bool
ec2_reboot_instances | Reboot EC2 instances | instance_ids:str[]! region:str
ec2_run_instances | Launch new EC2 instances from an AMI | image_id:str! instance_type:str! count:int key_name:str subnet_id:str security_group_ids:str[] tags:obj
ec2_terminate_instances | Terminate EC2 instances | instance_ids:str[]! region:str
ec2_describe_security_groups | Describe VPC security groups and their rules | group_ids:str[] region:str
lambda_list_functions | List the Lambda functions in a region | region:str max_items:int
lambda_invoke | Invoke a Lambda function with a JSON payload | function_name:str! payload:obj invocation_type:enum(RequestResponse,Event,DryRun)
lambda_get_function | Get the configuration of a Lambda function | function_name:str!
lambda_update_function_code | Deploy new code to a Lambda function from a zip file or an image | function_name:str! zip_file_base64:str image_uri:str
cloudwatch_get_metric_data | Get CloudWatch metric values over a time range | namespace:str! metric_name:str! dimensions:obj[] start_time:str! end_time:str! period:int stat:str
cloudwatch_describe_alarms | List CloudWatch alarms and their states | state_value:enum(OK,ALARM,INSUFFICIENT_DATA) alarm_names:str[]
logs_filter_log_events | Search CloudWatch log events in a log group with a filter pattern | log_group_name:str! filter_pattern:str start_time:str end_time:str limit:int
logs_describe_log_groups | List CloudWatch log groups | prefix:str limit:int
logs_start_query | Start a CloudWatch Logs Insights query | log_group_names:str[]! query_string:str! start_time:str! end_time:str!
dynamodb_list_tables | List DynamoDB tables | limit:int
dynamodb_get_item | Get an item from a DynamoDB table by primary key | table_name:str! key:obj!
dynamodb_put_item | Write an item to a DynamoDB table | table_name:str! item:obj! condition_expression:str
dynamodb_query | Query a DynamoDB table or index by partition key | table_name:str! key_condition_expression:str! expression_attribute_values:obj! index_name:str limit:int
dynamodb_delete_item | Delete an item from a DynamoDB table | table_name:str! key:obj!
iam_list_users | List the IAM users of the account | path_prefix:str
iam_create_user | Create an IAM user | user_name:str! tags:obj
iam_attach_user_policy | Attach a managed policy to an IAM user | user_name:str! policy_arn:str!
iam_list_roles | List the IAM roles of the account | path_prefix:str
sts_get_caller_identity | Get the account, user ID and ARN of the credentials in use | 
ecs_list_services | List the services of an ECS cluster | cluster:str! 
ecs_update_service | Update an ECS service: desired count or task definition | cluster:str! service:str! desired_count:int task_definition:str force_new_deployment:bool
sqs_send_message | Send a message to an SQS queue | queue_url:str! message_body:str! delay_seconds:int
sqs_receive_messages | Receive messages from an SQS queue | queue_url:str! max_number_of_messages:int wait_time_seconds:int
cost_explorer_get_cost_and_usage | Get AWS costs and usage grouped by service or tag over a period | start:str! end:str! granularity:enum(DAILY,MONTHLY)! group_by:obj[]
route53_list_hosted_zones | List Route 53 hosted zones | 
route53_change_record_sets | Create, update or delete DNS records in a Route 53 hosted zone | hosted_zone_id:str! changes:obj[]!
""",
    "kubernetes": """
list_pods | List pods in a namespace, or in all namespaces, with optional label selector | namespace:str label_selector:str all_namespaces:bool
get_pod | Get the details and status of a pod | name:str! namespace:str
delete_pod | Delete a pod | name:str! namespace:str grace_period_seconds:int
get_pod_logs | Get the logs of a pod's container | pod:str! namespace:str container:str tail:int since_seconds:int previous:bool
exec_in_pod | Execute a command inside a running pod's container | pod:str! command:str[]! namespace:str container:str
list_deployments | List deployments in a namespace | namespace:str label_selector:str
get_deployment | Get a deployment's spec and rollout status | name:str! namespace:str
scale_deployment | Scale a deployment to a number of replicas | name:str! replicas:int! namespace:str
restart_deployment | Trigger a rolling restart of a deployment | name:str! namespace:str
rollout_undo | Roll back a deployment to a previous revision | name:str! namespace:str to_revision:int
list_services | List services in a namespace | namespace:str
list_namespaces | List all namespaces in the cluster | 
create_namespace | Create a namespace | name:str!
list_nodes | List the cluster's nodes with their status and capacity | label_selector:str
describe_node | Describe a node: conditions, capacity, allocated resources and pods | name:str!
cordon_node | Mark a node as unschedulable | name:str!
drain_node | Evict all pods from a node before maintenance | name:str! ignore_daemonsets:bool delete_emptydir_data:bool
apply_manifest | Apply a YAML manifest to the cluster, like kubectl apply | manifest:str! namespace:str dry_run:bool
delete_resource | Delete a Kubernetes resource of any kind by name | kind:str! name:str! namespace:str
get_events | List cluster events, e.g. failed scheduling or image pull errors | namespace:str field_selector:str
list_configmaps | List ConfigMaps in a namespace | namespace:str
get_secret | Get a Secret's keys, optionally decoding values | name:str! namespace:str decode:bool
port_forward | Forward a local port to a port of a pod or service | resource:str! local_port:int! remote_port:int! namespace:str
top_pods | Show CPU and memory usage of pods | namespace:str
list_contexts | List the kubeconfig contexts and the current one | 
helm_install | Install a Helm chart as a release | release_name:str! chart:str! namespace:str values:obj version:str
helm_list_releases | List Helm releases | namespace:str all_namespaces:bool
""",
    "docker": """
list_containers | List Docker containers, running only or all | all:bool filters:obj
run_container | Create and start a new container from an image | image:str! name:str command:str[] environment:obj ports:str[] volumes:str[] detach:bool
start_container | Start a stopped container | container_id:str!
stop_container | Stop a running container | container_id:str! timeout:int
restart_container | Restart a container | container_id:str!
remove_container | Remove a container | container_id:str! force:bool volumes:bool
fetch_container_logs | Fetch the logs of a container | container_id:str! tail:int since:str timestamps:bool
exec_container | Run a command in a running container | container_id:str! command:str[]! workdir:str user:str
inspect_container | Get low-level information about a container: config, state, mounts and network | container_id:str!
container_stats | Get live CPU, memory, network and disk I/O usage of a container | container_id:str!
list_images | List Docker images on the host | all:bool
pull_image | Pull an image from a registry | image:str! tag:str
build_image | Build an image from a Dockerfile | path:str! tag:str! dockerfile:str build_args:obj
push_image | Push an image to a registry | image:str! tag:str
remove_image | Remove an image from the host | image:str! force:bool
list_volumes | List Docker volumes | 
create_volume | Create a named volume | name:str! driver:str
list_networks | List Docker networks | 
create_network | Create a Docker network | name:str! driver:str
compose_up | Start the services of a Docker Compose project | project_dir:str! services:str[] build:bool detach:bool
compose_down | Stop and remove the services of a Docker Compose project | project_dir:str! volumes:bool
prune_system | Remove unused containers, networks, images and build cache | all:bool volumes:bool
""",
    "stripe": """
create_customer | Create a Stripe customer | email:str name:str description:str metadata:obj
retrieve_customer | Retrieve a Stripe customer by ID | customer:str!
update_customer | Update a Stripe customer's details | customer:str! email:str name:str metadata:obj
list_customers | List Stripe customers, optionally filtered by email | email:str limit:int starting_after:str
delete_customer | Permanently delete a Stripe customer | customer:str!
search_customers | Search Stripe customers with the search query language | query:str! limit:int
create_product | Create a product that can be sold | name:str! description:str active:bool metadata:obj
list_products | List products | active:bool limit:int
create_price | Create a price for a product, one-time or recurring | product:str! unit_amount:int! currency:str! recurring_interval:enum(day,week,month,year)
list_prices | List prices, optionally for one product | product:str active:bool limit:int
create_payment_link | Create a payment link for a price that customers can pay through | price:str! quantity:int!
create_payment_intent | Create a PaymentIntent to collect a payment from a customer | amount:int! currency:str! customer:str payment_method_types:str[] description:str
retrieve_payment_intent | Retrieve a PaymentIntent and its status | payment_intent:str!
list_payment_intents | List PaymentIntents | customer:str limit:int created:obj
list_charges | List charges, most recent first | customer:str limit:int created:obj
create_refund | Refund a charge or a PaymentIntent, fully or partially | payment_intent:str charge:str amount:int reason:enum(duplicate,fraudulent,requested_by_customer)
list_refunds | List refunds | charge:str payment_intent:str limit:int
create_invoice | Create a draft invoice for a customer | customer:str! days_until_due:int collection_method:enum(charge_automatically,send_invoice) description:str
create_invoice_item | Add a line item to a customer's upcoming or draft invoice | customer:str! price:str amount:int currency:str invoice:str description:str
finalize_invoice | Finalize a draft invoice so it can be paid | invoice:str!
send_invoice | Email a finalized invoice to the customer | invoice:str!
void_invoice | Void a finalized invoice | invoice:str!
list_invoices | List invoices, optionally for one customer or status | customer:str status:enum(draft,open,paid,uncollectible,void) limit:int
create_subscription | Subscribe a customer to one or more prices | customer:str! items:obj[]! trial_period_days:int
update_subscription | Change a subscription's prices, quantity or cancellation settings | subscription:str! items:obj[] cancel_at_period_end:bool proration_behavior:str
cancel_subscription | Cancel a customer's subscription immediately | subscription:str! invoice_now:bool prorate:bool
list_subscriptions | List subscriptions, filtered by customer, price or status | customer:str price:str status:str limit:int
retrieve_balance | Retrieve the current Stripe account balance | 
list_disputes | List payment disputes (chargebacks) | charge:str limit:int
create_coupon | Create a discount coupon | percent_off:num amount_off:int currency:str duration:enum(once,repeating,forever)! name:str
search_documentation | Search the Stripe documentation and API reference | question:str! language:str
""",
    "sentry": """
list_organizations | List the Sentry organizations the token can access | 
list_projects | List the projects of a Sentry organization | organization_slug:str!
list_issues | List unresolved issues (error groups) in a Sentry project | organization_slug:str! project_slug:str! query:str sort:enum(date,new,freq,user) limit:int
get_issue_details | Get a Sentry issue with its stack trace, tags and latest event | issue_id:str! organization_slug:str
get_issue_events | List the events (occurrences) of a Sentry issue | issue_id:str! limit:int
get_event | Get the full details of one error event, including the stack trace and breadcrumbs | organization_slug:str! project_slug:str! event_id:str!
update_issue | Resolve, ignore, assign or bookmark a Sentry issue | issue_id:str! status:enum(resolved,unresolved,ignored) assigned_to:str
search_events | Search error and transaction events with Sentry's query syntax | organization_slug:str! query:str! project_slug:str stats_period:str limit:int
list_releases | List the releases of a Sentry project | organization_slug:str! project_slug:str
create_release | Create a Sentry release and associate commits | organization_slug:str! version:str! projects:str[]! refs:obj[]
list_alert_rules | List the alert rules of a project | organization_slug:str! project_slug:str!
get_performance_summary | Get the slowest transactions and their p95 latency | organization_slug:str! project_slug:str! stats_period:str
analyze_issue_with_seer | Ask Sentry's AI to find the root cause of an issue and suggest a fix | issue_id:str! organization_slug:str!
create_project | Create a new Sentry project in a team | organization_slug:str! team_slug:str! name:str! platform:str
""",
    "playwright": """
browser_navigate | Navigate the browser to a URL | url:str!
browser_navigate_back | Go back to the previous page | 
browser_snapshot | Capture an accessibility snapshot of the current page; better than a screenshot for acting on it | 
browser_take_screenshot | Take a screenshot of the current page or of one element | filename:str fullPage:bool element:str ref:str type:enum(png,jpeg)
browser_click | Click an element on the page | element:str! ref:str! button:enum(left,right,middle) doubleClick:bool
browser_type | Type text into an editable element | element:str! ref:str! text:str! submit:bool slowly:bool
browser_press_key | Press a key on the keyboard, e.g. Enter or ArrowLeft | key:str!
browser_hover | Hover the mouse over an element | element:str! ref:str!
browser_select_option | Select one or more options in a dropdown | element:str! ref:str! values:str[]!
browser_fill_form | Fill several form fields at once | fields:obj[]!
browser_drag | Drag and drop between two elements | startElement:str! startRef:str! endElement:str! endRef:str!
browser_file_upload | Upload one or more files through a file chooser | paths:str[]!
browser_wait_for | Wait for text to appear or disappear, or for a number of seconds | text:str textGone:str time:num
browser_evaluate | Evaluate a JavaScript expression on the page or an element | function:str! element:str ref:str
browser_console_messages | Return all console messages of the page | 
browser_network_requests | List all network requests made since the page loaded | 
browser_handle_dialog | Accept or dismiss a dialog such as alert or confirm | accept:bool! promptText:str
browser_tabs | List, create, close or select a browser tab | action:enum(list,new,close,select)! index:int
browser_resize | Resize the browser window | width:int! height:int!
browser_pdf_save | Save the current page as a PDF file | filename:str
browser_close | Close the page | 
browser_install | Install the browser named in the configuration, when it is missing | 
""",
    "brave-search": """
brave_web_search | Search the web with the Brave Search API: general queries, news, articles; supports pagination and freshness | query:str! count:int offset:int country:str freshness:str
brave_local_search | Search for local businesses and places, e.g. restaurants or services near a location | query:str! count:int
brave_news_search | Search recent news articles | query:str! count:int freshness:str country:str
brave_image_search | Search for images on the web | query:str! count:int safesearch:enum(off,strict)
""",
    "confluence": """
search | Search Confluence content with CQL (Confluence Query Language) | cql:str! limit:int
get_page | Get a Confluence page's content, converted to Markdown | page_id:str! include_metadata:bool
create_page | Create a new Confluence page in a space | space_key:str! title:str! content:str! parent_id:str
update_page | Update the title or content of a Confluence page | page_id:str! title:str! content:str! version_comment:str
delete_page | Delete a Confluence page | page_id:str!
get_page_children | List the child pages of a Confluence page | page_id:str! limit:int
add_page_comment | Add a comment to a Confluence page | page_id:str! content:str!
get_page_comments | Get the comments of a Confluence page | page_id:str!
list_spaces | List Confluence spaces | limit:int type:enum(global,personal)
add_label | Add a label to a Confluence page | page_id:str! name:str!
""",
    "discord": """
send_message | Send a message to a Discord channel | channel_id:str! content:str! reply_to_message_id:str
read_messages | Read recent messages from a Discord channel | channel_id:str! limit:int before:str
list_guilds | List the Discord servers (guilds) the bot is in | 
list_guild_channels | List the channels of a Discord server | guild_id:str!
get_guild_members | List members of a Discord server | guild_id:str! limit:int
add_reaction | Add an emoji reaction to a Discord message | channel_id:str! message_id:str! emoji:str!
create_thread | Start a thread from a Discord message | channel_id:str! message_id:str! name:str!
delete_message | Delete a message from a Discord channel | channel_id:str! message_id:str!
create_text_channel | Create a new text channel in a Discord server | guild_id:str! name:str! topic:str category_id:str
add_role | Give a role to a member of a Discord server | guild_id:str! user_id:str! role_id:str!
""",
    "datadog": """
query_metrics | Query timeseries metric data with a Datadog metrics query | query:str! from:int! to:int!
list_monitors | List Datadog monitors with their status | name:str tags:str[] monitor_tags:str[]
get_monitor | Get a Datadog monitor's definition and state | monitor_id:int!
mute_monitor | Mute a monitor, optionally until a time | monitor_id:int! end:int scope:str
create_monitor | Create a Datadog monitor that alerts on a metric, log or APM query | name:str! type:str! query:str! message:str! tags:str[] priority:int
search_logs | Search Datadog logs with the log query syntax | query:str! from:str! to:str! limit:int sort:enum(timestamp,-timestamp)
list_dashboards | List Datadog dashboards | filter_shared:bool
get_dashboard | Get a Datadog dashboard's widgets and layout | dashboard_id:str!
list_incidents | List Datadog incidents | query:str page_size:int
list_hosts | List hosts reporting to Datadog, with their tags and metrics | filter:str count:int
get_apm_traces | Search APM spans and traces for a service | query:str! from:str! to:str! limit:int
schedule_downtime | Schedule a downtime to silence monitors during maintenance | scope:str[]! start:int end:int message:str monitor_tags:str[]
""",
    "pagerduty": """
list_incidents | List PagerDuty incidents by status, urgency or service | statuses:str[] urgencies:str[] service_ids:str[] since:str until:str limit:int
get_incident | Get a PagerDuty incident with its timeline | incident_id:str!
create_incident | Trigger a new PagerDuty incident on a service | title:str! service_id:str! urgency:enum(high,low) body:str
acknowledge_incident | Acknowledge a PagerDuty incident | incident_id:str!
resolve_incident | Resolve a PagerDuty incident | incident_id:str! resolution:str
list_oncalls | List who is on call now, for which schedules and escalation policies | schedule_ids:str[] escalation_policy_ids:str[] since:str until:str
list_services | List PagerDuty services | query:str limit:int
add_incident_note | Add a note to a PagerDuty incident | incident_id:str! content:str!
""",
    "cloudflare": """
list_zones | List the DNS zones (domains) of the Cloudflare account | name:str status:str
list_dns_records | List the DNS records of a zone | zone_id:str! type:str name:str
create_dns_record | Create a DNS record (A, AAAA, CNAME, TXT, MX...) in a zone | zone_id:str! type:str! name:str! content:str! ttl:int proxied:bool
update_dns_record | Update a DNS record | zone_id:str! record_id:str! type:str name:str content:str ttl:int proxied:bool
delete_dns_record | Delete a DNS record | zone_id:str! record_id:str!
purge_cache | Purge cached files of a zone, everything or by URL | zone_id:str! purge_everything:bool files:str[]
list_workers | List Cloudflare Workers scripts | account_id:str!
deploy_worker | Upload and deploy a Cloudflare Worker script | account_id:str! name:str! script:str! compatibility_date:str
get_worker_logs | Get recent invocation logs of a Worker | account_id:str! name:str! limit:int
kv_list_namespaces | List Workers KV namespaces | account_id:str!
kv_get_value | Read a value from a Workers KV namespace | account_id:str! namespace_id:str! key:str!
kv_put_value | Write a value to a Workers KV namespace | account_id:str! namespace_id:str! key:str! value:str! expiration_ttl:int
r2_list_buckets | List R2 object storage buckets | account_id:str!
d1_query | Run a SQL query against a D1 database | account_id:str! database_id:str! sql:str! params:str[]
get_zone_analytics | Get traffic analytics of a zone: requests, bandwidth, threats | zone_id:str! since:str until:str
""",
    "hubspot": """
search_contacts | Search HubSpot CRM contacts by name, email or property filters | query:str filters:obj[] limit:int
get_contact | Get a HubSpot contact by ID with selected properties | contact_id:str! properties:str[]
create_contact | Create a contact in the HubSpot CRM | email:str! firstname:str lastname:str company:str phone:str properties:obj
update_contact | Update a HubSpot contact's properties | contact_id:str! properties:obj!
list_companies | List companies in the HubSpot CRM | limit:int after:str
create_company | Create a company in the HubSpot CRM | name:str! domain:str industry:str properties:obj
list_deals | List deals in the sales pipeline | pipeline:str stage:str limit:int
create_deal | Create a deal in a pipeline stage | dealname:str! pipeline:str! dealstage:str! amount:num closedate:str
update_deal_stage | Move a deal to another pipeline stage | deal_id:str! dealstage:str!
create_note | Log a note on a contact, company or deal | body:str! contact_id:str company_id:str deal_id:str
create_task | Create a follow-up task for a sales rep | subject:str! due_date:str owner_id:str contact_id:str
list_owners | List the HubSpot users who can own records | email:str
""",
    "twilio": """
send_sms | Send an SMS text message to a phone number | to:str! body:str! from:str
list_messages | List sent and received SMS messages | to:str from:str date_sent:str limit:int
make_call | Place an outbound phone call that plays TwiML | to:str! from:str! twiml:str url:str
list_calls | List recent phone calls | status:str to:str limit:int
lookup_phone_number | Look up carrier and caller name information for a phone number | phone:str! fields:str[]
buy_phone_number | Buy an available phone number | phone_number:str! friendly_name:str
""",
    "redis": """
get | Get the string value of a key | key:str!
set | Set the string value of a key, with an optional expiry in seconds | key:str! value:str! expire_seconds:int
delete | Delete one or more keys | keys:str[]!
scan_keys | Iterate over keys matching a pattern without blocking the server | pattern:str count:int cursor:int
hgetall | Get all the fields and values of a hash | key:str!
hset | Set fields of a hash | key:str! mapping:obj!
lpush | Push values to the head of a list | key:str! values:str[]!
lrange | Get a range of elements from a list | key:str! start:int! stop:int!
expire | Set a key's time to live in seconds | key:str! seconds:int!
publish | Publish a message to a pub/sub channel | channel:str! message:str!
info | Get information and statistics about the Redis server | section:str
""",
    "mongodb": """
find | Find documents in a MongoDB collection matching a filter | database:str! collection:str! filter:obj projection:obj sort:obj limit:int
aggregate | Run an aggregation pipeline on a MongoDB collection | database:str! collection:str! pipeline:obj[]!
count | Count the documents in a collection matching a filter | database:str! collection:str! query:obj
insert_many | Insert documents into a MongoDB collection | database:str! collection:str! documents:obj[]!
update_many | Update all documents matching a filter | database:str! collection:str! filter:obj! update:obj! upsert:bool
delete_many | Delete all documents matching a filter | database:str! collection:str! filter:obj!
list_databases | List the databases of the MongoDB deployment | 
list_collections | List the collections of a database | database:str!
collection_schema | Infer the schema of a collection from a sample of its documents | database:str! collection:str! sample_size:int
create_index | Create an index on a collection | database:str! collection:str! keys:obj! name:str unique:bool
collection_indexes | List the indexes of a collection | database:str! collection:str!
explain | Explain the query plan of a find or aggregate | database:str! collection:str! method:obj!
""",
    "elasticsearch": """
list_indices | List Elasticsearch indices with their health, document count and size | index_pattern:str
get_mappings | Get the field mappings of an index | index:str!
search | Run an Elasticsearch query DSL search against an index | index:str! query_body:obj! size:int from:int
esql | Run an ES|QL query | query:str!
get_shards | Get shard allocation information for an index | index:str
index_document | Add or replace a document in an index | index:str! document:obj! id:str
delete_by_query | Delete all documents matching a query | index:str! query_body:obj!
cluster_health | Get the health status of the Elasticsearch cluster | 
""",
}
