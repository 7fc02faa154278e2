################################################################################
# The deployment manifest: functions.json, with the module's overrides applied
################################################################################

# functions.json is the one place a function's memory, timeout, settings (with their ranges and
# defaults), wiring and IAM actions are written; the handlers and the local runtime read the same
# file (docs/architecture.md, "The deployment manifest"). Nothing in this file refers to a resource,
# so the policy tests evaluate it with terraform itself, without any provider.

locals {
  manifest = jsondecode(file("${path.module}/functions.json"))

  # Two-way routes send the function's reply back on the socket (route response `$default`).
  routes = {
    "$connect" = {
      function = "connect"
      two_way  = false
    }
    "$disconnect" = {
      function = "disconnect"
      two_way  = false
    }
    "$default" = {
      function = "default"
      two_way  = true
    }
    subscribe = {
      function = "subscribe"
      two_way  = true
    }
    unsubscribe = {
      function = "unsubscribe"
      two_way  = true
    }
  }

  # With route_backend = "http" the backend serves the routes, and their functions are not created.
  http_backend    = var.route_backend == "http"
  route_functions = toset([for route in values(local.routes) : route.function])

  # Description, memory, timeout and IAM statements of each function this configuration creates,
  # with var.functions applied: every function, or, with route_backend = "http", the authorizer and
  # the fan-out function only (the backend serves the routes). Each has a directory in functions/,
  # from which `make build` writes <artifacts_dir>/<name>.zip.
  functions = {
    for name, fn in local.manifest.functions : name => {
      description = fn.description
      memory_size = lookup(lookup(var.functions, name, {}), "memory_size", fn.memory_size)
      timeout     = lookup(lookup(var.functions, name, {}), "timeout", fn.timeout)
      policy      = fn.policy
    } if !(local.http_backend && contains(local.route_functions, name))
  }

  # Every setting (a variable with a default, not wired from a resource) of any function, by name.
  # functions.json declares a setting that several functions read identically in each of them.
  setting_specs = merge([
    for fn in values(local.manifest.functions) : {
      for key, variable in fn.environment : key => variable if !can(variable.from)
    }
  ]...)

  # Settings the module takes as variables of their own (documented and validated there), by the
  # environment variable they set; `settings` may not set them as well (setting_problems says so).
  setting_variables = {
    HISTORY_RETENTION_SECONDS = "history_retention_seconds"
  }
  setting_variable_values = {
    HISTORY_RETENTION_SECONDS = var.history_retention_seconds
  }

  # The settings of each function, as its environment carries them: the module's own variable for
  # the setting, else var.settings, else the default.
  function_settings = {
    for name, fn in local.manifest.functions : name => {
      for key, variable in fn.environment : key => tostring(lookup(local.setting_variable_values, key, lookup(var.settings, key, variable.default))) if !can(variable.from)
    }
  }

  # The fan-out queue's consumer (event source mapping and redrive), with var.fanout_queue applied.
  fanout_queue = {
    for key, spec in local.manifest.fanout_queue : key => lookup(var.fanout_queue, key, spec.default) if can(spec.default)
  }

  # functions.json gives the visibility timeout as weights of these terms (6 x the fan-out timeout
  # + the batching window); only the terms are bound here, the weights are not repeated.
  visibility_terms = {
    fanout_timeout          = local.functions.fanout.timeout
    batching_window_seconds = local.fanout_queue.batching_window_seconds
  }
  fanout_queue_visibility_timeout = sum([
    for term, weight in local.manifest.fanout_queue.visibility_timeout_seconds.sum_of : weight * local.visibility_terms[term]
  ])

  # Overrides functions.json does not allow, one line each; the `settings` output fails the plan on
  # any. Every setting is an integer (shared/deployment/manifest.ts admits no other type yet).
  setting_problems = concat([
    for key in keys(var.settings) : "settings.${key} is the module's ${local.setting_variables[key]} input; set that instead."
    if can(local.setting_variables[key])
    ], [
    for key, value in var.settings : (
      can(local.setting_specs[key])
      ? "settings.${key} must be an integer from ${local.setting_specs[key].min} to ${local.setting_specs[key].max}, got \"${value}\"."
      : "settings.${key} is not a setting of any function (functions.json has ${join(", ", sort(keys(local.setting_specs)))})."
    ) if !can(local.setting_variables[key]) && !try(floor(tonumber(value)) == tonumber(value) && tonumber(value) >= local.setting_specs[key].min && tonumber(value) <= local.setting_specs[key].max, false)
  ])
  function_problems = [
    for name in keys(var.functions) : (
      contains(keys(local.manifest.functions), name)
      ? "functions.${name} is a route function, which route_backend = \"http\" does not create; size the backend instead."
      : "functions.${name} is not a function (functions.json has ${join(", ", sort(keys(local.manifest.functions)))})."
    ) if !contains(keys(local.functions), name)
  ]
  fanout_queue_problems = [
    for key, value in var.fanout_queue : (
      can(local.manifest.fanout_queue[key].default)
      ? "fanout_queue.${key} must be a whole number from ${local.manifest.fanout_queue[key].min} to ${local.manifest.fanout_queue[key].max}, got ${value}."
      : "fanout_queue.${key} is not a setting of the fan-out queue (functions.json has ${join(", ", sort(keys(local.fanout_queue)))})."
    ) if !try(floor(value) == value && value >= local.manifest.fanout_queue[key].min && value <= local.manifest.fanout_queue[key].max, false)
  ]
}

output "settings" {
  description = "What functions.json and the overrides (`settings`, `functions`, `fanout_queue`) resolve to: each function's memory, timeout and settings, and the fan-out queue's consumer settings and visibility timeout. Plan fails here on an override functions.json does not allow."
  value = {
    functions = {
      for name, fn in local.functions : name => {
        memory_size = fn.memory_size
        timeout     = fn.timeout
        settings    = local.function_settings[name]
      }
    }
    fanout_queue = merge(local.fanout_queue, { visibility_timeout_seconds = local.fanout_queue_visibility_timeout })
  }

  precondition {
    condition     = length(local.setting_problems) == 0
    error_message = join("\n", local.setting_problems)
  }

  precondition {
    condition     = length(local.function_problems) == 0
    error_message = join("\n", local.function_problems)
  }

  precondition {
    condition     = length(local.fanout_queue_problems) == 0
    error_message = join("\n", local.fanout_queue_problems)
  }
}
