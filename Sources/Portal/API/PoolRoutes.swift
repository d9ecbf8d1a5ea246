import Core
import HTTPTypes
import Hummingbird
import IAM
import NetworkPools

/// VRF and VLAN pools with their utilisation (platform admins).
enum PoolRoutes {
    static let pools = "/api/v1/pools/{kind}"

    static func routes(_ services: ControllerServices) -> [RouteSpec] {
        let service = services.pools
        return [
            RouteSpec(.get, pools, "pools.list", summary: "List VRF or VLAN pools with utilisation (kind: vrf or vlan).", tag: "pools",
                      access: .authenticated(.platformManage, .platform), response: "PoolList") { call in
                try JSONBody.response(ListBody(items: try await service.pools(try kind(call)), nextCursor: nil))
            },
            RouteSpec(.post, pools, "pools.create", summary: "Create a pool.", tag: "pools", access: .authenticated(.platformManage, .platform),
                      request: "PoolDefinition", response: "Pool", status: 201, idempotent: true) { call in
                let definition = try await JSONBody.decode(PoolDefinition.self, from: call.request, context: call.context)
                let pool = try await service.create(try kind(call), definition)
                call.audit.target = pool.id
                return try JSONBody.response(pool, status: .created, version: pool.version)
            },
            RouteSpec(.get, pools + "/{id}", "pools.get", summary: "Show a pool (by id or name) with utilisation.", tag: "pools",
                      access: .authenticated(.platformManage, .platform), response: "Pool") { call in
                let pool = try await service.pool(try kind(call), try call.context.parameters.require("id"))
                return try JSONBody.response(pool, version: pool.version)
            },
            RouteSpec(.patch, pools + "/{id}", "pools.resize",
                      summary: "Expand, shrink (only where nothing is allocated) or change reserved IDs (honours If-Match).", tag: "pools",
                      access: .authenticated(.platformManage, .platform), request: "PoolResize", response: "Pool", conditional: true) { call in
                let input = try await JSONBody.decode(PoolResize.self, from: call.request, context: call.context)
                let pool = try await service.resize(try kind(call), try call.context.parameters.require("id"), rangeStart: input.rangeStart,
                                                    rangeEnd: input.rangeEnd, reserved: input.reserved, expectedVersion: try call.request.ifMatchVersion())
                return try JSONBody.response(pool, version: pool.version)
            },
            RouteSpec(.delete, pools + "/{id}", "pools.delete", summary: "Delete a pool with no allocations.", tag: "pools",
                      access: .authenticated(.platformManage, .platform), status: 204) { call in
                try await service.delete(try kind(call), try call.context.parameters.require("id"))
                return JSONBody.noContent()
            },
        ]
    }

    private static func kind(_ call: RouteSpec.Call) throws -> Pool.Kind {
        guard let text = call.context.parameters.get("kind"), let kind = Pool.Kind(rawValue: text) else {
            throw PortalError.routeNotFound(call.request.uri.path)
        }
        return kind
    }

    struct PoolResize: Decodable {
        var rangeStart: Int64?
        var rangeEnd: Int64?
        var reserved: [Int64]?
    }
}
