import Core
import HTTPTypes
import Hummingbird
import IAM
import Telemetry

/// Alert rules as data (docs/telemetry.md): list, add, change, disable, remove. The platform's for now.
enum AlertRuleRoutes {
    static func routes(_ services: ControllerServices) -> [RouteSpec] {
        let rules = services.alertRules
        let admin = RouteSpec.Access.authenticated(.platformManage, .platform)
        let path = "/api/v1/alert-rules"
        return [
            RouteSpec(.get, path, "alertRules.list", summary: "Every alert rule, the defaults included, with its Prometheus expression.",
                      tag: "telemetry", access: admin, response: "AlertRuleList") { _ in
                try JSONBody.response(["items": try await rules.all()])
            },
            RouteSpec(.post, path, "alertRules.create",
                      summary: "Add a rule: metric, comparison (>, >=, <, <=), threshold, forSeconds, severity (critical, high, medium, low), optionally one node's or tenant's series; `overrides` names the platform rule it replaces there; `baselineHours` compares the series with its own average over those hours, `changeMinutes` its rise over those minutes.",
                      tag: "telemetry", access: admin, request: "NewAlertRule", response: "AlertRule", status: 201) { call in
                let input = try await JSONBody.decode(NewRule.self, from: call.request, context: call.context)
                let stored = try await rules.add(AlertRule(name: input.name, metric: input.metric, comparison: input.comparison, threshold: input.threshold,
                                                           forSeconds: input.forSeconds ?? 0, severity: input.severity ?? .medium,
                                                           filter: SeriesFilter(nodeID: input.nodeId, tenantID: input.tenantId), overrides: input.overrides,
                                                           baselineHours: input.baselineHours, changeMinutes: input.changeMinutes))
                call.audit.target = stored.id
                return try JSONBody.response(stored, status: .created)
            },
            RouteSpec(.get, path + "/{id}", "alertRules.get", summary: "One rule, by id or name.", tag: "telemetry", access: admin, response: "AlertRule") { call in
                try JSONBody.response(try await rules.rule(try call.context.parameters.require("id")))
            },
            RouteSpec(.patch, path + "/{id}", "alertRules.update", summary: "Change a rule's threshold, forSeconds, severity, or enable or disable it.",
                      tag: "telemetry", access: admin, request: "AlertRulePatch", response: "AlertRule") { call in
                let input = try await JSONBody.decode(RulePatch.self, from: call.request, context: call.context)
                return try JSONBody.response(try await rules.update(try call.context.parameters.require("id"), threshold: input.threshold,
                                                                    forSeconds: input.forSeconds, severity: input.severity, enabled: input.enabled))
            },
            RouteSpec(.delete, path + "/{id}", "alertRules.delete", summary: "Remove a rule (its firing alerts resolve at the next evaluation).",
                      tag: "telemetry", access: admin, status: 204) { call in
                try await rules.remove(try call.context.parameters.require("id"))
                return JSONBody.noContent()
            },
        ]
    }

    struct NewRule: Decodable {
        var name: String
        var metric: String
        var comparison: AlertRule.Comparison
        var threshold: Double
        var forSeconds: Int?
        var severity: AlertRule.Severity?
        var nodeId: String?
        var tenantId: String?
        var overrides: String?
        var baselineHours: Int?
        var changeMinutes: Int?
    }

    struct RulePatch: Decodable {
        var threshold: Double?
        var forSeconds: Int?
        var severity: AlertRule.Severity?
        var enabled: Bool?
    }
}
