import Core
import Storage

/// A link from a node to a neighbour: a shared switch, an NVLink/xGMI bridge, an InfiniBand rail.
/// Links are symmetric; placement walks them to find connected groups of nodes.
public struct NodeLink: Sendable, Equatable, Codable, RowDecodable {
    public var peerId: String
    public var peerName: String
    /// `infiniband`, `roce`, `ethernet`, `nvlink`, `xgmi`, `xelink`.
    public var kind: String

    public static let kinds = ["infiniband", "roce", "ethernet", "nvlink", "xgmi", "xelink"]

    public init(row: Row) throws {
        peerId = try row.string("peer_id")
        peerName = try row.string("peer_name")
        kind = try row.string("kind")
    }
}

/// One neighbour an operator declares: by node name or id, and the kind of link.
public struct NodeLinkRequest: Sendable, Decodable {
    public var node: String
    public var kind: String
}

extension NodeService {
    /// The node's links, by peer name.
    public func links(of id: String) async throws -> [NodeLink] {
        try await database.read { connection in
            let node = try Self.find(id, on: connection)
            return try Self.links(of: node.id, on: connection)
        }
    }

    /// Replaces the node's links with `links` (both directions), in one transaction.
    public func setLinks(of id: String, to links: [NodeLinkRequest]) async throws -> [NodeLink] {
        for (index, link) in links.enumerated() where !NodeLink.kinds.contains(link.kind) {
            throw ProvisionerError.invalidField(field: "links[\(index)].kind", reason: "must be one of \(NodeLink.kinds.joined(separator: ", "))")
        }
        return try await database.write { connection in
            let node = try Self.find(id, on: connection)
            try connection.execute("DELETE FROM node_links WHERE node_id = ? OR peer_id = ?", [.text(node.id), .text(node.id)])
            for (index, link) in links.enumerated() {
                guard let peer = try? Self.find(link.node, on: connection) else {
                    throw ProvisionerError.unprocessable(field: "links[\(index)].node", reason: "no node \(link.node)")
                }
                guard peer.id != node.id else { throw ProvisionerError.unprocessable(field: "links[\(index)].node", reason: "a node cannot link to itself") }
                for (from, to) in [(node.id, peer.id), (peer.id, node.id)] {
                    try connection.execute("INSERT INTO node_links (node_id, peer_id, kind) VALUES (?, ?, ?) ON CONFLICT (node_id, peer_id) DO UPDATE SET kind = excluded.kind",
                                           [.text(from), .text(to), .text(link.kind)])
                }
            }
            return try Self.links(of: node.id, on: connection)
        }
    }

    /// Who links to whom among `nodeIDs` (ids), for placement's connected groups.
    public func adjacency(among nodeIDs: [String]) async throws -> [String: Set<String>] {
        let wanted = Set(nodeIDs)
        let rows = try await database.read { try $0.query("SELECT node_id, peer_id FROM node_links", []) }
        var adjacency: [String: Set<String>] = [:]
        for row in rows {
            let (from, to) = (try row.string("node_id"), try row.string("peer_id"))
            if wanted.contains(from) && wanted.contains(to) { adjacency[from, default: []].insert(to) }
        }
        return adjacency
    }

    static func links(of id: String, on connection: any SQLConnection) throws -> [NodeLink] {
        try connection.query(NodeLink.self, """
            SELECT l.peer_id, n.name AS peer_name, l.kind FROM node_links l JOIN nodes n ON n.id = l.peer_id
            WHERE l.node_id = ? ORDER BY n.name
            """, [.text(id)])
    }
}
