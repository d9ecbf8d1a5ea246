import Core
import NodeContract
import Scheduler

/// Placing a model on a project's nodes, across the modules it spans: the model's card (the
/// store), the project's fleet (nodes, agents, memory held), the placement rules, and the instances
/// recorded with the cluster counted against the project's quota.
///
/// Right after nodes join, their memory may not be reported yet: placement waits for it (the
/// `placementInfoWaitSeconds`, 15 s) rather than refuse what would fit.
struct PlacementWorkflow {
    let services: ControllerServices

    struct Request {
        var modelId: String
        var sharding: Sharding
        var minNodes: Int
        var excluded: Set<String>
        var engine: EngineKind?
    }

    struct Outcome {
        var card: ModelCard
        var shards: [PlacementShard]
        var instances: [ModelInstance]
    }

    func place(_ request: Request, projectID: String) async throws -> Outcome {
        let card = try await services.modelStore.card(request.modelId)
        let engine = request.engine ?? card.engines.first ?? .llamaServer
        guard card.engines.contains(engine) else {
            throw PortalError.invalidBody(field: "engine", reason: "model \(card.modelId) is served by \(card.engines.map(\.rawValue).joined(separator: ", "))")
        }
        var fleet = try await ProjectFleet.load(services, projectID: projectID)
        var result = Placement.place(card.placementModel, sharding: request.sharding, minNodes: request.minNodes, excluded: request.excluded, nodes: fleet.nodes)
        let deadline = ContinuousClock.now + .seconds(services.configuration.placementInfoWaitSeconds)
        while case .failure(.infoPending) = result, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(250))
            fleet = try await ProjectFleet.load(services, projectID: projectID)
            result = Placement.place(card.placementModel, sharding: request.sharding, minNodes: request.minNodes, excluded: request.excluded, nodes: fleet.nodes)
        }
        let shards = try result.get()
        let instances = try await services.instances.place(shards, agents: fleet.agents, card: card, engine: engine, projectID: projectID,
                                                           sharding: request.sharding)
        return Outcome(card: card, shards: shards, instances: instances)
    }
}
