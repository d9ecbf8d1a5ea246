import Core
import Fabric
import HTTPTypes
import Hummingbird
import IAM

/// The fabric for platform admins (switches, cabling, per-port desired and observed state, a pass
/// on demand). A tenant's network view (`GET /api/v1/tenants/{tenant}/network`) is in `TenantRoutes`.
enum FabricRoutes {
    static let switches = "/api/v1/fabric/switches"

    static func routes(_ services: ControllerServices) -> [RouteSpec] {
        let fabric = services.fabric
        let reconciler = services.fabricReconciler
        let admin = RouteSpec.Access.authenticated(.platformManage, .platform)
        return [
            RouteSpec(.get, switches, "fabric.switches.list", summary: "Switches with their cabling and each port's desired and observed VLANs and addresses.",
                      tag: "fabric", access: admin, response: "SwitchList") { _ in
                try JSONBody.response(ListBody(items: try await fabric.views(), nextCursor: nil))
            },
            RouteSpec(.post, switches, "fabric.switches.create",
                      summary: "Add a switch (driver linux: the switch agent's URL and token; recording: no switch, for benches) with its cabling plan; the reconciler programs it within moments (watch its status).",
                      tag: "fabric", access: admin, request: "SwitchDefinition", response: "Switch", status: 201, idempotent: true) { call in
                let definition = try await JSONBody.decode(SwitchDefinition.self, from: call.request, context: call.context)
                let created = try await fabric.createSwitch(definition)
                call.audit.target = "switch:\(created.name)"
                reconciler.kick()
                return try JSONBody.response(created, status: .created)
            },
            RouteSpec(.get, switches + "/{id}", "fabric.switches.get", summary: "One switch (by id or name) with per-port desired and observed state.",
                      tag: "fabric", access: admin, response: "Switch") { call in
                try JSONBody.response(try await fabric.view(try call.context.parameters.require("id")))
            },
            RouteSpec(.put, switches + "/{id}/cabling", "fabric.switches.cabling", summary: "Replace a switch's cabling plan (port → node interface); programmed within moments.",
                      tag: "fabric", access: admin, request: "CablingRequest", response: "Switch") { call in
                let input = try await JSONBody.decode(CablingRequest.self, from: call.request, context: call.context)
                let updated = try await fabric.setCabling(try call.context.parameters.require("id"), input.cabling)
                call.audit.target = "switch:\(updated.name)"
                reconciler.kick()
                return try JSONBody.response(updated)
            },
            RouteSpec(.delete, switches + "/{id}", "fabric.switches.delete", summary: "Forget a switch (its programming stays on the device).",
                      tag: "fabric", access: admin, status: 204) { call in
                let id = try call.context.parameters.require("id")
                call.audit.target = "switch:\(id)"
                try await fabric.deleteSwitch(id)
                return JSONBody.noContent()
            },
            RouteSpec(.post, "/api/v1/fabric/reconcile", "fabric.reconcile", summary: "Run a reconcile pass now: read every switch back, repair what differs.",
                      tag: "fabric", access: admin, response: "FabricPass") { _ in
                let outcomes = await reconciler.reconcile()
                return try JSONBody.response(FabricPass(switches: outcomes.map {
                    FabricPass.Entry(switchName: $0.switchName, changedPorts: $0.changedPorts, drift: $0.drift, error: $0.error)
                }))
            },
        ]
    }

    struct CablingRequest: Decodable {
        var cabling: [Cable]
    }

    struct FabricPass: Encodable {
        struct Entry: Encodable {
            var switchName: String
            var changedPorts: Int
            var drift: [String]
            var error: String?
        }
        var switches: [Entry]
    }
}
