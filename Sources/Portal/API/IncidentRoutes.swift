import Core
import HTTPTypes
import Hummingbird
import IAM
import Provisioner
import Tenancy
import Telemetry

/// Incidents from detection to post-incident review (docs/telemetry.md): the platform's view and steps, and each
/// tenant's view of the incidents that touch its nodes.
enum IncidentRoutes {
    static let path = "/api/v1/incidents"

    static func routes(_ services: ControllerServices) -> [RouteSpec] {
        let incidents = services.incidents
        let manage = RouteSpec.Access.authenticated(.platformManage, .platform)
        let read = RouteSpec.Access.authenticated(.realmRead, .platform)
        let one = path + "/{id}"
        let filters: [QueryParameter] = [.oneOf("state", Incident.State.allCases.map(\.rawValue)),
                                         .oneOf("severity", Incident.Severity.allCases.map(\.rawValue)), "nodeId", "limit", "cursor"]
        func step(_ operationID: String, _ verb: String, summary: String, request: String,
                  _ body: @escaping @Sendable (RouteSpec.Call, String, StepInput) async throws -> Incident) -> RouteSpec {
            RouteSpec(.post, one + "/" + verb, operationID, summary: summary, tag: "incidents", access: manage, request: request, response: "Incident",
                      conditional: true) { call in
                let id = try call.context.parameters.require("id")
                call.audit.target = id
                let input = try await JSONBody.decode(StepInput.self, from: call.request, context: call.context)
                let incident = try await body(call, id, input)
                return try JSONBody.response(incident, version: incident.version)
            }
        }
        return [
            RouteSpec(.get, path, "incidents.list", summary: "Incidents, newest first; filter by state, severity and node.", tag: "incidents",
                      access: read, query: filters, response: "IncidentList") { call in
                try JSONBody.response(try await list(call, services: services, tenantID: nil))
            },
            RouteSpec(.post, path, "incidents.create", summary: "Open an incident by hand: title, severity, optionally the node (and so its tenant).",
                      tag: "incidents", access: manage, request: "NewIncident", response: "Incident", status: 201, idempotent: true) { call in
                let input = try await JSONBody.decode(NewIncident.self, from: call.request, context: call.context)
                let node = try await input.nodeId.asyncMap { try await services.nodes.node($0) }
                let incident = try await incidents.open(title: input.title, severity: input.severity, nodeID: node?.id, tenantID: node?.tenantId,
                                                        actor: actor(call))
                call.audit.target = incident.id
                return try JSONBody.response(incident, status: .created, version: incident.version)
            },
            RouteSpec(.get, one, "incidents.get", summary: "One incident: state, severity, owner, counts, and its review once written.",
                      tag: "incidents", access: read, response: "Incident") { call in
                let incident = try await incidents.incident(try call.context.parameters.require("id"))
                return try JSONBody.response(incident, version: incident.version)
            },
            RouteSpec(.get, one + "/timeline", "incidents.timeline",
                      summary: "The incident's timeline: its alerts and steps, the audit records of the incident and its node, and the node's operations, in the incident's window.",
                      tag: "incidents", access: read, response: "IncidentTimeline") { call in
                let incident = try await incidents.incident(try call.context.parameters.require("id"))
                return try JSONBody.response(["items": try await timeline(incident, services: services)])
            },
            RouteSpec(.patch, one, "incidents.update", summary: "Triage: set the severity (critical, high, medium, low).", tag: "incidents",
                      access: manage, request: "IncidentPatch", response: "Incident", conditional: true) { call in
                let id = try call.context.parameters.require("id")
                call.audit.target = id
                let input = try await JSONBody.decode(IncidentPatch.self, from: call.request, context: call.context)
                let incident = try await incidents.setSeverity(id, input.severity, actor: actor(call), ifVersion: try call.request.ifMatchVersion())
                return try JSONBody.response(incident, version: incident.version)
            },
            step("incidents.acknowledge", "acknowledge", summary: "detected → acknowledged, with an owner (default: the caller).",
                 request: "IncidentStep") { call, id, input in
                try await incidents.acknowledge(id, owner: input.owner ?? actor(call), actor: actor(call), note: input.note,
                                                ifVersion: try call.request.ifMatchVersion())
            },
            step("incidents.investigate", "investigate", summary: "acknowledged → investigating.", request: "IncidentStep") { call, id, input in
                try await incidents.investigate(id, actor: actor(call), note: input.note, ifVersion: try call.request.ifMatchVersion())
            },
            step("incidents.resolve", "resolve", summary: "acknowledged or investigating → resolved.", request: "IncidentStep") { call, id, input in
                try await incidents.resolve(id, actor: actor(call), note: input.note, ifVersion: try call.request.ifMatchVersion())
            },
            step("incidents.review", "review",
                 summary: "resolved → reviewed: the post-incident review records cause and fix, and freezes the timeline (alerts, audit records, node operations).",
                 request: "IncidentReview") { call, id, input in
                guard let cause = input.cause else { throw TelemetryError.invalidField(field: "cause", reason: "is required") }
                guard let fix = input.fix else { throw TelemetryError.invalidField(field: "fix", reason: "is required") }
                let incident = try await incidents.incident(id)
                let extra = try await timeline(incident, services: services).filter { $0.kind == .audit || $0.kind == .operation }
                return try await incidents.review(id, cause: cause, fix: fix, summary: input.summary, reviewer: actor(call), extra: extra,
                                                  ifVersion: try call.request.ifMatchVersion())
            },
            RouteSpec(.get, TenantRoutes.tenant + "/incidents", "tenants.incidents",
                      summary: "The incidents that touch the tenant's nodes (those allocated to it when the incident opened).",
                      tag: "incidents", access: .authenticated(.realmRead, .tenant), query: filters, response: "IncidentList") { call in
                try JSONBody.response(try await list(call, services: services, tenantID: call.tenant!.id))
            },
            RouteSpec(.get, TenantRoutes.tenant + "/incidents/{id}", "tenants.incidents.get",
                      summary: "One of the tenant's incidents (another tenant's answers 404).",
                      tag: "incidents", access: .authenticated(.realmRead, .tenant), response: "Incident") { call in
                let id = try call.context.parameters.require("id")
                let incident = try await incidents.incident(id)
                guard incident.tenantId == call.tenant!.id else { throw TelemetryError.incidentNotFound(id) }
                return try JSONBody.response(incident, version: incident.version)
            },
        ]
    }

    /// Who took a step: the caller's name.
    @Sendable static func actor(_ call: RouteSpec.Call) -> String { call.principal?.name ?? "unknown" }

    private static func list(_ call: RouteSpec.Call, services: ControllerServices, tenantID: String?) async throws -> ListBody<Incident> {
        let request = call.request
        let state = try request.queryString("state").map { value in
            guard let state = Incident.State(rawValue: value) else { throw PortalError.invalidQuery(parameter: "state", reason: "is not an incident state") }
            return state
        }
        let severity = try request.queryString("severity").map { value in
            guard let severity = Incident.Severity(rawValue: value) else { throw PortalError.invalidQuery(parameter: "severity", reason: "is not a severity") }
            return severity
        }
        let page = try await services.incidents.list(state: state, severity: severity, nodeID: request.queryString("nodeId"), tenantID: tenantID,
                                                     page: try request.pageRequest())
        return ListBody(items: page.items, nextCursor: page.nextCursor)
    }

    /// The incident's own timeline, with the audit records of the incident and of its node and the node's operations
    /// from its detection to its resolution (or now).
    static func timeline(_ incident: Incident, services: ControllerServices) async throws -> [TimelineEntry] {
        var entries = try await services.incidents.timeline(incident.id)
        let from = incident.detectedAt - 10 * 60_000
        let to = (incident.resolvedAt ?? services.clock.nowMillis()) + 60_000
        for target in [incident.id] + [incident.nodeId].compactMap({ $0 }) {
            let records = try await services.auditLog.records(AuditQuery(since: target == incident.id ? nil : from, until: target == incident.id ? nil : to, target: target),
                                                              page: PageRequest(limit: 200, after: nil))
            entries += records.items.map { record in
                TimelineEntry(at: record.at, kind: .audit, ref: record.id, summary: "\(record.action) by \(record.actorName): \(record.result) (\(record.status))",
                              correlationId: record.requestId)
            }
        }
        if let node = incident.nodeId {
            entries += try await services.nodes.operations(of: node).filter { $0.updatedAt >= from && $0.createdAt <= to }.map { operation in
                TimelineEntry(at: operation.createdAt, kind: .operation, ref: operation.id,
                              summary: "\(operation.kind.rawValue): \(operation.state.rawValue)\(operation.error.map { " (\($0))" } ?? "")")
            }
        }
        return entries.sorted { ($0.at, $0.kind.rawValue, $0.ref) < ($1.at, $1.kind.rawValue, $1.ref) }
    }

    struct NewIncident: Decodable {
        var title: String
        var severity: Incident.Severity
        var nodeId: String?
    }

    struct IncidentPatch: Decodable {
        var severity: Incident.Severity
    }

    struct StepInput: Decodable {
        var owner: String?
        var note: String?
        var cause: String?
        var fix: String?
        var summary: String?
    }
}

extension Optional {
    /// `map` with an async transform.
    func asyncMap<U>(_ transform: (Wrapped) async throws -> U) async rethrows -> U? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
