import Tenancy
import Core
import Fabric
import HTTPTypes
import Hummingbird
import IAM
import Provisioner

/// A project's bare-metal nodes as its tenant sees them: allocation within quota, listing, release.
enum ProjectNodeRoutes {
    static let nodes = "/api/v1/tenants/{tenant}/projects/{project}/nodes"

    static func routes(_ services: ControllerServices) -> [RouteSpec] {
        let service = services.nodes
        return [
            RouteSpec(.post, nodes, "projectNodes.allocate",
                      summary: "Allocate nodes to the project by accelerator vendor/model/count (same fabric preferred) or by name, within quota.",
                      tag: "nodes", access: .authenticated(.nodesAllocate, .project), request: "AllocationRequest", response: "AllocationResult",
                      status: 201, idempotent: true) { call in
                let request = try await JSONBody.decode(AllocationRequest.self, from: call.request, context: call.context)
                let result = try await service.allocate(request, tenantID: call.tenant!.id, projectID: try call.context.parameters.require("project"))
                // The nodes' ports join the tenant's segments before the answer (a failure shows on the tenant's network view).
                await services.fabricReconciler.reconcile(nodes: result.nodes.map(\.id))
                return try JSONBody.response(TenantAllocation(result), status: .created)
            },
            RouteSpec(.get, nodes, "projectNodes.list", summary: "The project's nodes (without BMC details).", tag: "nodes",
                      access: .authenticated(.realmRead, .project), query: ["limit", "cursor"], response: "TenantNodeList") { call in
                let filter = NodeFilter(tenantID: call.tenant!.id, projectID: try call.context.parameters.require("project"))
                let page = try await service.nodes(filter, page: try call.request.pageRequest())
                return try JSONBody.response(ListBody(items: page.items.map(TenantNode.init), nextCursor: page.nextCursor))
            },
            RouteSpec(.post, nodes + "/{id}/deploy", "projectNodes.deploy",
                      summary: "Deploy an image (URL + sha256 checksum) on an allocated node: virtual media, boot override, power cycle.",
                      tag: "nodes", access: .authenticated(.nodesAllocate, .project), request: "DeployRequest", response: "TenantNode", status: 202) { call in
                let input = try await JSONBody.decode(DeployRequest.self, from: call.request, context: call.context)
                let node = try await service.deploy(try call.context.parameters.require("id"), projectID: try call.context.parameters.require("project"),
                                                    imageURL: input.imageURL, checksum: input.checksum)
                return try JSONBody.response(TenantNode(node), status: .accepted)
            },
            RouteSpec(.delete, nodes + "/{id}", "projectNodes.release", summary: "Release a node of the project: quota back at once, node powered off and back to the pool.",
                      tag: "nodes", access: .authenticated(.nodesAllocate, .project), response: "TenantNode") { call in
                let node = try await NodeRelease.release(services, node: try call.context.parameters.require("id"),
                                                         projectID: try call.context.parameters.require("project"))
                return try JSONBody.response(TenantNode(node))
            },
        ]
    }

    struct DeployRequest: Decodable {
        var imageURL: String
        var checksum: String
    }

    /// A node as a tenant sees it: no BMC address, user or inventory details of the platform.
    struct TenantNode: Encodable {
        var id: String
        var name: String
        var state: String
        var fabric: String?
        var rack: String?
        var accelerators: [Accelerator]
        var vlans: [Int64]
        var projectId: String?

        init(_ node: Node) {
            id = node.id
            name = node.name
            state = node.state.rawValue
            fabric = node.fabric
            rack = node.rack
            accelerators = node.accelerators
            vlans = node.vlans
            projectId = node.projectId
        }
    }

    struct TenantAllocation: Encodable {
        var nodes: [TenantNode]
        var consumed: [String: Int64]
        var fabric: String?

        init(_ result: AllocationResult) {
            nodes = result.nodes.map(TenantNode.init)
            consumed = result.consumed
            fabric = result.fabric
        }
    }
}
