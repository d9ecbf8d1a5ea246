import Core
import Foundation
import NIOConcurrencyHelpers
import NodeContract

/// The node's side of the cabling check: what lldpd hears on each interface (the switch's system
/// name and port), reported with the observed state; the controller compares it with the cabling
/// plan. Nil when lldpd does not run here.
extension NodeAgent {
    func linkNeighbors() async -> [LinkNeighbor]? {
        let last = neighbors.withLockedValue { $0 }
        if let at = last.at, ContinuousClock.now - at < .seconds(5) { return last.links }
        let socket = configuration.lldpSocket
        let links = try? await workers.run { () -> [LinkNeighbor]? in
            let arguments = ["lldpcli"] + (socket.map { ["-u", $0] } ?? []) + ["-f", "json", "show", "neighbors"]
            guard let result = try? SystemCommand.run(arguments, timeout: 5), result.succeeded else { return nil }
            return LLDPNeighbors.parse(result.output)
        }
        neighbors.withLockedValue { $0 = (links ?? nil, ContinuousClock.now) }
        return links ?? nil
    }
}

/// `lldpcli -f json show neighbors`: `{"lldp": {"interface": {IF: {"chassis": {NAME: …}, "port": {"id": {"value": PORT}}}}}}`
/// (a list of such objects when several interfaces have neighbors).
enum LLDPNeighbors {
    static func parse(_ data: Data) -> [LinkNeighbor] {
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let lldp = root["lldp"] as? [String: Any] else { return [] }
        var entries: [(String, [String: Any])] = []
        if let interfaces = lldp["interface"] as? [String: Any] {
            entries = interfaces.compactMap { name, value in (value as? [String: Any]).map { (name, $0) } }
        } else if let list = lldp["interface"] as? [[String: Any]] {
            entries = list.flatMap { item in item.compactMap { name, value in (value as? [String: Any]).map { (name, $0) } } }
        }
        return entries.compactMap { interface, neighbor in
            guard let chassis = (neighbor["chassis"] as? [String: Any])?.keys.first,
                  let port = ((neighbor["port"] as? [String: Any])?["id"] as? [String: Any])?["value"] as? String else { return nil }
            return LinkNeighbor(interface: interface, switchName: chassis, port: port)
        }.sorted { $0.interface < $1.interface }
    }
}
