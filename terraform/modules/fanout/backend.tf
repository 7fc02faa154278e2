################################################################################
# route_backend = "http": HTTP integrations to `fanout backend`, built from its contract
################################################################################

locals {
  # The backend's contract, rendered from shared/backend/contract.ts by `make tf-contract`: each
  # route's path, whether it is two-way, and the request parameters of its integration, which map
  # the connection id, the route, the event type and the authorizer's context into headers (API
  # Gateway sends them on $connect only otherwise: "Set up data mapping for WebSocket APIs in API
  # Gateway"), and the proof as a static value to fill in.
  backend_contract = jsondecode(file("${path.module}/backend-contract.json"))

  # The proof lives in a SecureString parameter either way: one the module creates from
  # backend_proof (written write-only: the parameter resource keeps no copy), or one it only reads.
  create_backend_proof_parameter = local.http_backend && var.backend_proof_parameter_name == null
  backend_proof_parameter_name   = local.http_backend ? coalesce(var.backend_proof_parameter_name, "/${var.name}/backend-proof") : null
  backend_proof_parameter_arn    = local.http_backend ? "arn:${data.aws_partition.current.partition}:ssm:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:parameter/${trimprefix(local.backend_proof_parameter_name, "/")}" : null

  # The value the integrations send. try(): the data source has no instance unless a parameter is named.
  backend_proof = local.http_backend ? (var.backend_proof_parameter_name == null ? var.backend_proof : try(data.aws_ssm_parameter.backend_proof[0].value, null)) : null

  # The routes the backend serves; none with route_backend = "lambda".
  backend_routes = { for key, route in local.routes : key => route if local.http_backend }

  # Each backend route's integration request parameters: the contract's, with the placeholder
  # replaced by the proof as a single-quoted static value. Over backend_routes, not routes: with the
  # Lambda routes there is no proof to put in a template.
  backend_proof_parameter_key = "integration.request.header.${local.backend_contract.proof_header}"
  backend_request_parameters = {
    for key, route in local.backend_routes : key => {
      for parameter, source in local.backend_contract.routes[key].request_parameters : parameter => (
        parameter == local.backend_proof_parameter_key ? "'${local.backend_proof}'" : source
      )
    }
  }
}

resource "aws_ssm_parameter" "backend_proof" {
  count = local.create_backend_proof_parameter ? 1 : 0

  name        = local.backend_proof_parameter_name
  description = "Proof the ${var.name} WebSocket API's HTTP integrations send to the route backend (X-Fanout-Gateway-Proof)"
  type        = "SecureString"

  # Written when created and whenever backend_proof_version changes; never read back into state.
  value_wo         = var.backend_proof
  value_wo_version = var.backend_proof_version

  tags = var.tags
}

# A parameter kept outside this stack: read to fill in the integrations' request parameters.
data "aws_ssm_parameter" "backend_proof" {
  count = local.http_backend && var.backend_proof_parameter_name != null ? 1 : 0

  name            = var.backend_proof_parameter_name
  with_decryption = true
}

# HTTP_PROXY: API Gateway sends the frame as the body and, on two-way routes, passes the backend's
# body back as the reply without an integration response ("Set up a WebSocket API integration
# response in API Gateway": for proxy integrations the backend output is passed through; the
# route response in api.tf is what sends it on the connection).
resource "aws_apigatewayv2_integration" "backend" {
  for_each = local.backend_routes

  api_id               = aws_apigatewayv2_api.this.id
  description          = "${each.key} -> POST ${var.backend_url}${local.backend_contract.routes[each.key].path}"
  integration_type     = "HTTP_PROXY"
  integration_method   = "POST"
  integration_uri      = "${var.backend_url}${local.backend_contract.routes[each.key].path}"
  connection_type      = var.backend_vpc_link_id == null ? "INTERNET" : "VPC_LINK"
  connection_id        = var.backend_vpc_link_id
  timeout_milliseconds = var.backend_integration_timeout_ms
  request_parameters   = local.backend_request_parameters[each.key]

  lifecycle {
    # Checked here as well as on backend_proof: a parameter the module only reads is known at apply.
    precondition {
      condition     = can(regex(local.backend_contract.proof_pattern, local.backend_proof))
      error_message = "The gateway's proof (backend_proof, or the parameter backend_proof_parameter_name) must be 32 to 512 characters of A-Z a-z 0-9 . _ ~ + / = -."
    }
  }
}

################################################################################
# The backend's policy: what the route functions it replaces are allowed, and the proof
################################################################################

locals {
  # The statements of the route functions in functions.json that their code needs (not those the
  # Lambda service uses for them, marked used_by: the function's own log group), the function's name
  # before each sid so that the sids stay unique (subscribe and unsubscribe both ManageSubscriptions).
  backend_statements = flatten([
    for name in sort(tolist(local.route_functions)) : [
      for statement in local.manifest.functions[name].policy : {
        sid       = "${name}${statement.sid}"
        actions   = statement.actions
        resources = [for resource in statement.resources : local.backend_policy_resources[resource]]
      } if !can(statement.used_by)
    ]
  ])

  backend_policy_resources = {
    table               = aws_dynamodb_table.this.arn
    post_to_connections = "${aws_apigatewayv2_stage.this.execution_arn}/POST/@connections/*"
  }
}

# Attach it to the backend's task role (ECS, EKS pod identity, an instance profile): it allows what
# the route Lambdas would be allowed, read from the same functions.json, and reading the proof.
data "aws_iam_policy_document" "backend" {
  count = local.http_backend ? 1 : 0

  dynamic "statement" {
    for_each = local.backend_statements

    content {
      sid       = statement.value.sid
      actions   = statement.value.actions
      resources = statement.value.resources
    }
  }

  # The task reads the proof at start (ECS `secrets`: the task execution role reads it instead).
  statement {
    sid       = "ReadGatewayProof"
    actions   = ["ssm:GetParameter"]
    resources = [local.backend_proof_parameter_arn]
  }
}

resource "aws_iam_policy" "backend" {
  count = local.http_backend ? 1 : 0

  name        = "${var.name}-backend"
  description = "What the ${var.name} route backend calls: the route functions' statements of functions.json, and reading its proof"
  policy      = data.aws_iam_policy_document.backend[0].json

  tags = var.tags
}
