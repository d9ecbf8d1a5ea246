import Core
import HTTPTypes
import Hummingbird
import IAM
import Provisioner
import Tenancy

/// The platform at a glance: how many tenants and nodes are in each state (the portal's overview, a dashboard's tiles).
enum SummaryRoutes {
    static func routes(_ services: ControllerServices) -> [RouteSpec] {
        [
            RouteSpec(.get, "/api/v1/platform/summary", "platform.summary",
                      summary: "How many tenants are in each status and nodes in each state.", tag: "tenants",
                      access: .authenticated(.platformManage, .platform), response: "PlatformSummary") { _ in
                try JSONBody.response(["tenants": try await services.tenants.statusCounts(), "nodes": try await services.nodes.stateCounts()])
            },
        ]
    }
}
