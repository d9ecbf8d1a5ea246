import Core
import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import IAM
import NodeContract
import Scheduler

/// Placing models on a project's nodes (the runbook's `/place_instance` and `/instance/previews`,
/// scoped to a project), and the project's `/state` for the health checklist.
enum PlacementRoutes {
    static let base = "/api/v1/tenants/{tenant}/projects/{project}"

    static func routes(_ services: ControllerServices) -> [RouteSpec] {
        let scoped = projectScoped(services)
        // The runbook's curl commands as written: the same three routes at the root, for the project a project API key names.
        let runbook = scoped.filter { ["placement.place", "placement.previews", "placement.state"].contains($0.operationID) }.map(atRunbookRoot)
        return scoped + runbook
    }

    /// `spec` at the root path the runbook uses, acting on the caller's project.
    static func atRunbookRoot(_ spec: RouteSpec) -> RouteSpec {
        var root = spec
        root.path = String(spec.path.dropFirst(base.count))
        root.operationID = spec.operationID + "AtRoot"
        root.summary = spec.summary + " The runbook's root path: the project is the one the caller's project API key names."
        if case .authenticated(let permission, _) = spec.access { root.access = .authenticated(permission, .callerProject(scopedPath: spec.path)) }
        return root
    }

    static func projectScoped(_ services: ControllerServices) -> [RouteSpec] {
        return [
            RouteSpec(.post, base + "/place_instance", "placement.place",
                      summary: "Place a model on the project's nodes (sharding, min_nodes, excluded_nodes); impossible placements get 400 with a typed reason.",
                      tag: "placement", access: .authenticated(.nodesAllocate, .project), request: "PlaceInstanceRequest", response: "PlacementResult",
                      status: 201, idempotent: true) { call in
                let request = try await JSONBody.decode(PlaceInstanceRequest.self, from: call.request, context: call.context)
                let project = try call.projectID()
                let placed = try await PlacementWorkflow(services: services).place(
                    .init(modelId: request.modelId, sharding: request.sharding ?? .pipeline, minNodes: request.minNodes ?? 1,
                          excluded: Set(request.excludedNodes ?? []), engine: request.engine), projectID: project)
                let (card, shards, instances) = (placed.card, placed.shards, placed.instances)
                call.audit.target = instances.first?.placementId
                return try JSONBody.response(PlacementResult(placementId: instances.first?.placementId ?? "", modelId: card.modelId, shards: shards,
                                                             instances: instances), status: .created)
            },
            RouteSpec(.delete, base + "/placements/{placementId}", "placement.stop",
                      summary: "Stop a placement's instances (the whole inference cluster) and give back its clusters quota.",
                      tag: "placement", access: .authenticated(.nodesAllocate, .project), response: "ModelInstanceList") { call in
                let placement = try call.context.parameters.require("placementId")
                let stopped = try await services.instances.stopPlacement(placement, projectID: try call.projectID())
                call.audit.target = placement
                await services.gateway.router.refresh()
                return try JSONBody.response(["items": stopped])
            },
            RouteSpec(.get, base + "/instance/previews", "placement.previews",
                      summary: "Every sharding × node count for a model: valid ones with per-node memory deltas, invalid ones with their reason.",
                      tag: "placement", access: .authenticated(.realmRead, .project), query: [.modelID("model_id", required: true), "excluded_node_ids"], response: "PlacementPreviews") { call in
                guard let model = call.request.queryString("model_id") else { throw PortalError.invalidQuery(parameter: "model_id", reason: "is required") }
                let excluded = Set((call.request.queryString("excluded_node_ids") ?? "").split(separator: ",").map(String.init))
                let card = try await services.modelStore.card(model)
                let fleet = try await ProjectFleet.load(services, projectID: try call.projectID())
                let previews = Placement.previews(card.placementModel, maxNodes: min(fleet.nodes.count, 8), excluded: excluded, nodes: fleet.nodes)
                    .map { sharding, count, result in
                        switch result {
                        case .success(let shards): Preview(sharding: sharding, minNodes: count, valid: true, shards: shards, reason: nil)
                        case .failure(let refusal):
                            Preview(sharding: sharding, minNodes: count, valid: false, shards: nil, reason: Preview.Reason(code: refusal.code, message: refusal.message))
                        }
                    }
                return try JSONBody.response(Previews(modelId: card.modelId, previews: previews))
            },
            RouteSpec(.get, base + "/state", "placement.state",
                      summary: "The project's node identities (per-session ids), instances and placements: the health checklist's first look.",
                      tag: "placement", access: .authenticated(.realmRead, .project), response: "ProjectState") { call in
                let project = try call.projectID()
                let fleet = try await ProjectFleet.load(services, projectID: project)
                let instances = try await services.instances.instances(projectID: project)
                return try JSONBody.response(ProjectState(nodeIdentities: fleet.nodes.map { .init(nodeId: $0.id, name: $0.name, freeBytes: $0.freeBytes) },
                                                          instances: instances))
            },
        ]
    }

    struct PlaceInstanceRequest: Decodable {
        var modelId: String
        var sharding: Sharding?
        var minNodes: Int?
        var excludedNodes: [String]?
        var engine: EngineKind?

        enum CodingKeys: String, CodingKey {
            case modelId = "model_id", sharding, minNodes = "min_nodes", excludedNodes = "excluded_nodes", engine
        }
    }

    struct PlacementResult: Encodable {
        var placementId: String
        var modelId: String
        var shards: [PlacementShard]
        var instances: [ModelInstance]
    }

    struct Preview: Encodable {
        struct Reason: Encodable {
            var code: String
            var message: String
        }

        var sharding: Sharding
        var minNodes: Int
        var valid: Bool
        var shards: [PlacementShard]?
        var reason: Reason?
    }

    struct Previews: Encodable {
        var modelId: String
        var previews: [Preview]
    }

    struct ProjectState: Encodable {
        struct Identity: Encodable {
            var nodeId: String
            var name: String
            var freeBytes: Int64?
        }

        var nodeIdentities: [Identity]
        var instances: [ModelInstance]
    }
}
