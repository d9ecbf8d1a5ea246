import Core
import Gateway
import HTTPTypes
import Hummingbird
import IAM
import NodeContract
import Provisioner
import Scheduler

/// Model instances on node agents (platform admins). Placement (the inference-cluster issue)
/// creates the same instances from a model and a project's nodes.
enum InstanceRoutes {
    static func routes(_ services: ControllerServices) -> [RouteSpec] {
        let instances = services.instances
        let admin = RouteSpec.Access.authenticated(.platformManage, .platform)
        return [
            RouteSpec(.post, "/api/v1/instances", "instances.create",
                      summary: "Run a model on a node's agent with an engine (the agent stages it from the store, launches and supervises it).",
                      tag: "instances", access: admin, request: "InstanceRequest", response: "ModelInstance", status: 201, idempotent: true) { call in
                var request = try await JSONBody.decode(InstanceRequest.self, from: call.request, context: call.context)
                request.agentId = try await services.agents.agent(request.agentId).id
                // The card says which endpoints the engine serves; the engine is started for them.
                if let card = try? await services.modelStore.card(request.modelId) {
                    let given = request.arguments ?? []
                    request.arguments = given + request.engine.arguments(serving: card.endpoints).filter { !given.contains($0) }
                }
                let created = try await instances.create(request)
                call.audit.target = created.id
                return try JSONBody.response(created, status: .created, version: created.version)
            },
            RouteSpec(.get, "/api/v1/instances", "instances.list", summary: "Model instances (filter by agent or model).", tag: "instances",
                      access: admin, query: ["limit", "cursor", "agentId", "modelId"], response: "ModelInstanceList") { call in
                let page = try await instances.instances(agentID: call.request.queryString("agentId"), modelID: call.request.queryString("modelId"),
                                                         page: try call.request.pageRequest())
                return try JSONBody.response(ListBody(items: page.items, nextCursor: page.nextCursor))
            },
            RouteSpec(.get, "/api/v1/instances/{id}", "instances.get", summary: "One instance: desired and observed phase, endpoint, restarts.",
                      tag: "instances", access: admin, response: "ModelInstance") { call in
                let found = try await instances.instance(try call.context.parameters.require("id"))
                return try JSONBody.response(found, version: found.version)
            },
            RouteSpec(.post, "/api/v1/instances/{id}/swap", "instances.swap",
                      summary: "Hot-swap to a new model or quantization: load it, health-check it, flip the router, drain and unload the old one (202; follow the swap).",
                      tag: "instances", access: admin, request: "SwapRequest", response: "Swap", status: 202) { call in
                let request = try await JSONBody.decode(SwapRequest.self, from: call.request, context: call.context)
                let (swap, _) = try await instances.beginSwap(of: try call.context.parameters.require("id"), to: request)
                services.gateway.swaps.submit(swap)
                call.audit.target = swap.id
                return try JSONBody.response(swap, status: .accepted)
            },
            RouteSpec(.get, "/api/v1/swaps/{id}", "swaps.get", summary: "A hot-swap's phase: loading, checking, draining, done or failed.",
                      tag: "instances", access: admin, response: "Swap") { call in
                try JSONBody.response(try await instances.swap(try call.context.parameters.require("id")))
            },
            RouteSpec(.delete, "/api/v1/instances/{id}", "instances.stop",
                      summary: "Deactivate an instance: the agent stops it and its staged copy becomes an eviction candidate.", tag: "instances",
                      access: admin, response: "ModelInstance") { call in
                try JSONBody.response(try await instances.stop(try call.context.parameters.require("id")))
            },
        ]
    }
}
