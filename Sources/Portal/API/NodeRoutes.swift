import Core
import HTTPTypes
import Hummingbird
import IAM
import Provisioner
import Redfish

/// Bare-metal nodes: enrollment, inventory, lifecycle actions and BMC power control (platform admins).
enum NodeRoutes {
    static let nodes = "/api/v1/nodes"
    static let node = nodes + "/{id}"

    static func routes(_ services: ControllerServices) -> [RouteSpec] {
        let service = services.nodes
        let admin = RouteSpec.Access.authenticated(.platformManage, .platform)
        return [
            RouteSpec(.post, nodes, "nodes.enroll", summary: "Enroll a node by its Redfish BMC; inspection starts at once (202).", tag: "nodes",
                      access: admin, request: "NodeEnrollment", response: "Node", status: 202, idempotent: true) { call in
                let node = try await service.enroll(try await JSONBody.decode(NodeEnrollment.self, from: call.request, context: call.context))
                call.audit.target = node.id
                return try JSONBody.response(node, status: .accepted, version: node.version)
            },
            RouteSpec(.get, nodes, "nodes.list", summary: "List nodes (filter by state, fabric, tenant, accelerator vendor and model).", tag: "nodes",
                      access: admin, query: ["limit", "cursor", .oneOf("state", NodeState.allCases.map(\.rawValue)), "fabric", "tenantId", "vendor", "model"], response: "NodeList") { call in
                let state = try call.request.queryString("state").map { text -> NodeState in
                    guard let state = NodeState(rawValue: text) else {
                        throw PortalError.invalidQuery(parameter: "state", reason: "must be one of \(NodeState.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    return state
                }
                let filter = NodeFilter(state: state, fabric: call.request.queryString("fabric"), tenantID: call.request.queryString("tenantId"),
                                        vendor: call.request.queryString("vendor"), model: call.request.queryString("model"))
                let page = try await service.nodes(filter, page: try call.request.pageRequest())
                return try JSONBody.response(ListBody(items: page.items, nextCursor: page.nextCursor))
            },
            RouteSpec(.get, node, "nodes.get", summary: "Show a node (by id or name): state, allowed actions, inventory.", tag: "nodes",
                      access: admin, response: "Node") { call in
                let found = try await service.node(try call.context.parameters.require("id"))
                return try JSONBody.response(found, version: found.version)
            },
            RouteSpec(.get, node + "/operations", "nodes.operations", summary: "The node's long operations with progress and errors.",
                      tag: "nodes", access: admin, response: "NodeOperations") { call in
                try JSONBody.response(["operations": try await service.operations(of: try call.context.parameters.require("id"))])
            },
            RouteSpec(.get, node + "/links", "nodes.links", summary: "The node's links to its neighbours (placement finds connected groups by them).",
                      tag: "nodes", access: admin, response: "NodeLinks") { call in
                try JSONBody.response(["links": try await service.links(of: try call.context.parameters.require("id"))])
            },
            RouteSpec(.put, node + "/links", "nodes.setLinks", summary: "Replace the node's links (each is recorded in both directions).",
                      tag: "nodes", access: admin, request: "NodeLinksRequest", response: "NodeLinks") { call in
                let input = try await JSONBody.decode(LinksRequest.self, from: call.request, context: call.context)
                return try JSONBody.response(["links": try await service.setLinks(of: try call.context.parameters.require("id"), to: input.links)])
            },
            RouteSpec(.post, node + "/inspect", "nodes.inspect", summary: "Inspect again (reads the BMC's inventory).", tag: "nodes",
                      access: admin, response: "Node", status: 202) { call in
                try JSONBody.response(try await service.act(.inspect, on: try call.context.parameters.require("id")), status: .accepted)
            },
            RouteSpec(.post, node + "/maintenance", "nodes.maintenance", summary: "Enter (enabled: true) or leave maintenance.", tag: "nodes",
                      access: admin, request: "MaintenanceRequest", response: "Node") { call in
                let input = try await JSONBody.decode(MaintenanceRequest.self, from: call.request, context: call.context)
                return try JSONBody.response(try await service.act(input.enabled ? .enterMaintenance : .leaveMaintenance,
                                                                   on: try call.context.parameters.require("id")))
            },
            RouteSpec(.post, node + "/release", "nodes.release", summary: "Release a node from its project (platform admins).", tag: "nodes",
                      access: admin, response: "Node") { call in
                try JSONBody.response(try await NodeRelease.release(services, node: try call.context.parameters.require("id"), projectID: nil))
            },
            RouteSpec(.post, node + "/retire", "nodes.retire", summary: "Retire a node for good.", tag: "nodes", access: admin,
                      response: "Node") { call in
                try JSONBody.response(try await service.act(.retire, on: try call.context.parameters.require("id")))
            },
            RouteSpec(.post, node + "/power", "nodes.power", summary: "Power control through the BMC (on, off, shutdown, restart, reset).",
                      tag: "nodes", access: admin, request: "PowerRequest", response: "PowerState") { call in
                let input = try await JSONBody.decode(PowerRequest.self, from: call.request, context: call.context)
                let state = try await service.power(try call.context.parameters.require("id"), input.action.reset)
                return try JSONBody.response(["powerState": state])
            },
        ]
    }

    struct LinksRequest: Decodable {
        var links: [NodeLinkRequest]
    }

    struct MaintenanceRequest: Decodable {
        var enabled: Bool
    }

    struct PowerRequest: Decodable {
        enum Action: String, Decodable {
            case on, off, shutdown, restart, reset

            var reset: ResetType {
                switch self {
                case .on: .on
                case .off: .forceOff
                case .shutdown: .gracefulShutdown
                case .restart: .gracefulRestart
                case .reset: .forceRestart
                }
            }
        }

        var action: Action
    }
}
