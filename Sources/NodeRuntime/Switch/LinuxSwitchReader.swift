import Foundation
import NodeContract

/// Reads a Linux switch's state from the JSON of `nft -j list table`, `ip -j rule`,
/// `ip -j route show table all` and `ip -j addr`.
enum LinuxSwitchReader {
    /// The tenant table's sets and classified rules; an absent table (nothing programmed yet, or
    /// deleted by hand) reads as empty.
    static func read(nft: Data?, into state: inout LinuxSwitchState) {
        guard let nft, let root = try? JSONSerialization.jsonObject(with: nft) as? [String: Any],
              let objects = root["nftables"] as? [[String: Any]] else { return }
        for object in objects {
            if let set = object["set"] as? [String: Any], let name = set["name"] as? String {
                let elements = (set["elem"] as? [Any] ?? []).compactMap { element -> [Any]? in
                    ((element as? [String: Any])?["concat"] as? [Any])
                        ?? (((element as? [String: Any])?["elem"] as? [String: Any])?["val"] as? [String: Any])?["concat"] as? [Any]
                }
                if name == "port_vlans" {
                    for pair in elements where pair.count == 2 { state.portVLANs.insert("\(pair[0]) \(pair[1])") }
                } else if name.hasPrefix("vrf_"), let vrf = Int64(name.dropFirst(4)) {
                    state.vrfMembers[vrf, default: []].formUnion(elements.filter { $0.count == 2 }.map { "\($0[0]) \($0[1])" })
                }
            } else if let rule = object["rule"] as? [String: Any], rule["chain"] as? String == "forward" {
                state.rules.append(classify(rule["expr"] as? [Any] ?? []))
            }
        }
    }

    /// A forward-chain rule as the program writes it, or "foreign" with its JSON.
    static func classify(_ expression: [Any]) -> String {
        let matches = expression.compactMap { ($0 as? [String: Any])?["match"] as? [String: Any] }
        let verdicts = expression.compactMap { ($0 as? [String: Any])?.keys.first { $0 == "accept" || $0 == "drop" } }
        if expression.count == 1, verdicts == ["drop"] { return "drop" }
        if matches.count == 2, verdicts == ["accept"], expression.count == 3 {
            let sets = matches.compactMap { $0["right"] as? String }
            if sets.count == 2, sets[0] == sets[1], sets[0].hasPrefix("@vrf_"), let vrf = Int64(sets[0].dropFirst(5)) {
                return "vrf \(vrf)"
            }
            let prefixes = matches.compactMap { match -> String? in
                guard match["op"] as? String == "!=", let prefix = (match["right"] as? [String: Any])?["prefix"] as? [String: Any],
                      let address = prefix["addr"] as? String, let length = prefix["len"] as? Int else { return nil }
                return "\(address)/\(length)"
            }
            if prefixes.count == 2, prefixes[0] == prefixes[1] { return "outside \(prefixes[0])" }
        }
        let json = (try? JSONSerialization.data(withJSONObject: expression, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? "?"
        return "foreign \(json)"
    }

    /// Policy rules at the program's priority.
    static func read(rules: Data?, into state: inout LinuxSwitchState) {
        guard let rules, let entries = try? JSONSerialization.jsonObject(with: rules) as? [[String: Any]] else { return }
        for entry in entries where entry["priority"] as? Int == LinuxSwitchState.rulePriority {
            var words: [String] = []
            if let iif = entry["iif"] as? String { words.append("iif \(iif)") }
            if let source = entry["src"] as? String, source != "all" { words.append("from \(source)/\(entry["srclen"] as? Int ?? 32)") }
            words.append("lookup \(entry["table"].map { "\($0)" } ?? "?")")
            state.policyRules.insert(words.joined(separator: " "))
        }
    }

    /// Routes of the VRF tables.
    static func read(routes: Data?, into state: inout LinuxSwitchState) {
        guard let routes, let entries = try? JSONSerialization.jsonObject(with: routes) as? [[String: Any]] else { return }
        for entry in entries {
            guard let tableText = entry["table"].map({ "\($0)" }), let table = Int64(tableText), table >= LinuxSwitchState.vrfTableBase,
                  let destination = entry["dst"] as? String else { continue }
            if entry["type"] as? String == "unreachable" {
                state.routes.insert(.init(table: table, spec: "unreachable \(destination)"))
            } else if let device = entry["dev"] as? String {
                state.routes.insert(.init(table: table, spec: "\(destination) dev \(device)"))
            } else {
                state.routes.insert(.init(table: table, spec: "\(entry["type"] as? String ?? "route") \(destination)"))
            }
        }
    }

    /// The switch's ports (every interface but loopback) with their IPv4 address and link state.
    static func ports(addresses: Data?) -> [PortFacts] {
        guard let addresses, let entries = try? JSONSerialization.jsonObject(with: addresses) as? [[String: Any]] else { return [] }
        return entries.compactMap { entry -> PortFacts? in
            guard let name = entry["ifname"] as? String, name != "lo" else { return nil }
            let inet = (entry["addr_info"] as? [[String: Any]] ?? []).first { $0["family"] as? String == "inet" }
            return PortFacts(name: name, up: (entry["operstate"] as? String) == "UP", address: inet?["local"] as? String)
        }.sorted { $0.name < $1.name }
    }
}
