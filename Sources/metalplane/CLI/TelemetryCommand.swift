import ArgumentParser
import Foundation
import NIOHTTP1

/// `metalplane telemetry …`: the fleet's series over a range, and the alert rules (docs/telemetry.md).
struct TelemetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "telemetry", abstract: "The fleet's time series (range queries) and the alert rules.",
        subcommands: [Query.self, Latency.self, Rules.self, AddRule.self, SetRule.self])

    struct Query: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A metric's series over a range, one value per step (as Prometheus evaluates a range).",
            discussion: "e.g. metalplane telemetry query node_package_celsius --node NODE --since 2026-12-01T00:00:00Z --step 300; with --tenant SLUG, that tenant's route (its series only).")
        @Argument(help: "The metric (node_… or model_…; docs/telemetry.md lists them).") var metric: String
        @Option(help: "Only this node's series.") var node: String?
        @Option(help: "Only this model's series (org/name).") var model: String?
        @Option(help: "Only this project's series.") var project: String?
        @Option(help: "A tenant's series: its own route (tenant admins), by slug or id.") var tenant: String?
        @Option(help: "Start: milliseconds or RFC 3339 (default: an hour before --until).") var since: String?
        @Option(help: "End: milliseconds or RFC 3339 (default: now).") var until: String?
        @Option(help: "Seconds between points (default 60).") var step: Int?

        func run() async throws {
            let query = TelemetryCommand.query([("metric", metric), ("node", node), ("model", model), ("project", project), ("since", since),
                                                ("until", until), ("step", step.map(String.init))])
            let base = tenant.map { "/api/v1/tenants/\(TelemetryCommand.encoded($0))/telemetry/query" } ?? "/api/v1/telemetry/query"
            try await CLIClient.call(.GET, base + "?" + query)
        }
    }

    struct Latency: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Request latency over a range from the merged histograms: exact p50/p95/p99 of every matching request.",
            discussion: "e.g. metalplane telemetry latency --model acme/chat --since 2026-12-01T00:00:00Z --step 3600; with --tenant SLUG, that tenant's route (its models only).")
        @Option(help: "Only this node's instances.") var node: String?
        @Option(help: "Only this model's instances (org/name).") var model: String?
        @Option(help: "Only this project's instances.") var project: String?
        @Option(help: "A tenant's requests: its own route (tenant admins), by slug or id.") var tenant: String?
        @Option(help: "Start: milliseconds or RFC 3339 (default: an hour before --until).") var since: String?
        @Option(help: "End: milliseconds or RFC 3339 (default: now).") var until: String?
        @Option(help: "Also each step of this many seconds (60 or more).") var step: Int?

        func run() async throws {
            let query = TelemetryCommand.query([("node", node), ("model", model), ("project", project), ("since", since), ("until", until),
                                                ("step", step.map(String.init))])
            let base = tenant.map { "/api/v1/tenants/\(TelemetryCommand.encoded($0))/telemetry/latency" } ?? "/api/v1/telemetry/latency"
            try await CLIClient.call(.GET, base + (query.isEmpty ? "" : "?" + query))
        }
    }

    static func encoded(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }

    /// `name=value&…` of the parameters given, percent-encoded.
    static func query(_ parameters: [(String, String?)]) -> String {
        parameters.compactMap { name, value in value.map { "\(name)=\(encoded($0))" } }.joined(separator: "&")
    }

    struct Rules: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rules", abstract: "List the alert rules with their Prometheus expressions.")
        func run() async throws { try await CLIClient.call(.GET, "/api/v1/alert-rules") }
    }

    struct AddRule: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add-rule", abstract: "Add an alert rule, e.g. add-rule GpuHot node_accelerator_celsius_max '>' 80 --for 120 --severity critical.")
        @Argument(help: "The rule's name (letters, digits, _).") var name: String
        @Argument(help: "The metric.") var metric: String
        @Argument(help: "The comparison: >, >=, < or <=.") var comparison: String
        @Argument(help: "The threshold.") var threshold: Double
        @Option(name: .customLong("for"), help: "Seconds the condition must hold before the alert fires (default 0).") var forSeconds = 0
        @Option(help: "critical, high, medium or low (default medium).") var severity = "medium"
        @Option(help: "Only this node's series.") var node: String?
        @Option(help: "Only this tenant's series (its id).") var tenant: String?
        @Option(help: "The platform rule this one replaces for --node or --tenant.") var overrides: String?
        @Option(help: "Compare the series with its own average over this many hours (the threshold is then a ratio).") var baselineHours: Int?
        @Option(help: "Compare how much the series rose over this many minutes (a restart counter's crash loop).") var changeMinutes: Int?

        func run() async throws {
            var body: [String: Any] = ["name": name, "metric": metric, "comparison": comparison, "threshold": threshold, "forSeconds": forSeconds, "severity": severity]
            if let node { body["nodeId"] = node }
            if let tenant { body["tenantId"] = tenant }
            if let overrides { body["overrides"] = overrides }
            if let baselineHours { body["baselineHours"] = baselineHours }
            if let changeMinutes { body["changeMinutes"] = changeMinutes }
            try await CLIClient.call(.POST, "/api/v1/alert-rules", body: body)
        }
    }

    struct SetRule: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set-rule", abstract: "Change a rule (by name or id): threshold, for, severity, enable or disable.")
        @Argument(help: "The rule's name or id.") var rule: String
        @Option(help: "A new threshold.") var threshold: Double?
        @Option(name: .customLong("for"), help: "New seconds the condition must hold.") var forSeconds: Int?
        @Option(help: "critical, high, medium or low.") var severity: String?
        @Flag(help: "Enable the rule.") var enable = false
        @Flag(help: "Disable the rule (its firing alerts resolve).") var disable = false

        func run() async throws {
            var body: [String: Any] = [:]
            if let threshold { body["threshold"] = threshold }
            if let forSeconds { body["forSeconds"] = forSeconds }
            if let severity { body["severity"] = severity }
            guard !(enable && disable) else { throw ValidationError("--enable and --disable together") }
            if enable || disable { body["enabled"] = enable }
            guard !body.isEmpty else { throw ValidationError("nothing to change: give --threshold, --for, --severity, --enable or --disable") }
            try await CLIClient.call(.PATCH, "/api/v1/alert-rules/\(rule)", body: body)
        }
    }
}
